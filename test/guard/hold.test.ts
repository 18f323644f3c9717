// Holding: a request that cannot reach the upstream waits, with every new one, until the upstream
// answers health checks twice in a row (backoff 1 s, 2 s …), at most maxWaitMs, then gets a 502.
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/resume/health.js';
import { closeGuards, freePort, send, sleep, startGuard, startUpstream, type Upstream } from './helpers.js';

const ups: Upstream[] = [];
afterEach(async () => {
  await closeGuards();
  await Promise.all(ups.splice(0).map((u) => u.stop().catch(() => undefined)));
});

/** An upstream that answers every message with its own text, and the models list for the checks. */
const answering = (text: string) => (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, body: Buffer) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ text, path: req.url, body: body.toString() }));
};

/** Resolves once `cond` holds (polled every 20 ms, at most 10 s). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(20);
  expect(cond()).toBe(true);
}

const ok = (status = 401): CheckResult => ({ ok: true, status, reason: null, ms: 1 });
const fail = (reason = 'connection refused'): CheckResult => ({ ok: false, status: null, reason, ms: 1 });

describe('holding while the upstream is unreachable', () => {
  it('a refused request waits, the checks back off 1 s, 2 s, and it gets the upstream’s answer once two checks in a row pass', async () => {
    const port = await freePort();
    const s = await startGuard({ upstream: `http://127.0.0.1:${port}`, maxWaitMs: 30_000 });
    const session = '22222222-3333-4444-8555-666666666666';
    const r = send(s.guard.url, { body: '{"n":1}', headers: { 'x-claude-code-session-id': session } });
    let answered = false;
    void r.answer.then(() => (answered = true));
    // The first check fails at once; the upstream opens during the 2 s wait after the second.
    await s.next('check', (e) => e.check.attempt === 2);
    expect(answered).toBe(false);
    const u = await startUpstream(answering('back'), port);
    ups.push(u);
    const a = await r.answer;
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body.toString())).toEqual({ text: 'back', path: '/v1/messages', body: '{"n":1}' });
    const checks = s.events.flatMap((e) => (e.type === 'check' ? [e.check] : []));
    expect(checks.map((c) => [c.attempt, c.result.ok, c.streak, c.nextInMs])).toEqual([
      [1, false, 0, 1000],
      [2, false, 0, 2000],
      [3, true, 1, 1000],
      [4, true, 2, null],
    ]);
    expect(checks[0]!.result.reason).toBe('connection refused');
    expect(checks[2]!.result.status).toBe(200); // the upstream's answer to GET /v1/models
    // In order: lost (the session met the outage), the checks, back, and the request was sent only after.
    expect(s.events.map((e) => e.type)).toEqual(['lost', 'check', 'check', 'check', 'check', 'back']);
    expect(s.events[0]).toMatchObject({ type: 'lost', cause: 'unreachable', sessionId: session, reason: 'connection refused', bytes: 0, blocks: 0, snapshot: null });
    expect(s.events.at(-1)).toMatchObject({ type: 'back', attempts: 4, waiting: 1 });
    expect(u.seen.map((x) => `${x.method} ${x.url}`)).toEqual(['GET /v1/models', 'GET /v1/models', 'POST /v1/messages']);
    expect(s.guard.stats).toMatchObject({ requests: 1, held: 1 });
  }, 20_000);

  it('a flapping upstream (fail, ok, fail, ok, ok) releases nothing until two checks pass in a row', async () => {
    const port = await freePort();
    const script = [fail(), ok(), fail('HTTP 503'), ok(), ok()];
    let calls = 0;
    let u: Upstream | null = null;
    const s = await startGuard({
      upstream: `http://127.0.0.1:${port}`,
      check: async () => {
        calls++;
        // Open the real upstream only for the last check: the request can go out once released.
        if (calls === script.length) ups.push((u = await startUpstream(answering('flap'), port)));
        return script[calls - 1] ?? ok();
      },
    });
    const r = send(s.guard.url, { body: '{}' });
    let answeredAfter = -1;
    void r.answer.then(() => (answeredAfter = calls));
    // After the ok that a failure follows, and the failure: still held.
    await s.next('check', (e) => e.check.attempt === 3);
    expect(answeredAfter).toBe(-1);
    expect(s.events.some((e) => e.type === 'back')).toBe(false);
    const a = await r.answer;
    expect(JSON.parse(a.body.toString())).toMatchObject({ text: 'flap' });
    expect(answeredAfter).toBe(5);
    const checks = s.events.flatMap((e) => (e.type === 'check' ? [e.check] : []));
    expect(checks.map((c) => [c.result.ok, c.streak, c.nextInMs])).toEqual([
      [false, 0, 1000],
      [true, 1, 1000],
      [false, 0, 1000],
      [true, 1, 1000],
      [true, 2, null],
    ]);
    expect(s.events.filter((e) => e.type === 'back')).toEqual([{ type: 'back', attempts: 5, downMs: expect.any(Number), waiting: 1 }]);
    expect(u!.seen.map((x) => x.url)).toEqual(['/v1/messages']);
  }, 20_000);

  it('requests that arrive while the upstream is down wait too, and all go out on back', async () => {
    const port = await freePort();
    let calls = 0;
    let u: Upstream | null = null;
    const s = await startGuard({
      upstream: `http://127.0.0.1:${port}`,
      check: async () => {
        calls++;
        if (calls === 1) return fail();
        // The upstream comes back only once all four requests are held.
        if (calls === 2) {
          await until(() => s.guard.stats.held === 4);
          ups.push((u = await startUpstream(answering('all'), port)));
        }
        return ok();
      },
    });
    const first = send(s.guard.url, { path: '/v1/messages?n=1', body: '{"n":1}' });
    await s.next('check');
    // While down, new requests are not tried: they wait.
    const later = [2, 3, 4].map((n) => send(s.guard.url, { path: `/v1/messages?n=${n}`, body: `{"n":${n}}`, headers: { 'x-claude-code-session-id': `3333333${n}-4444-4555-8666-777777777777` } }));
    const answers = await Promise.all([first, ...later].map((r) => r.answer));
    expect(answers.map((a) => (JSON.parse(a.body.toString()) as { body: string }).body)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    expect(s.events.find((e) => e.type === 'back')).toMatchObject({ attempts: 3, waiting: 4 });
    // Each one exactly once, none before back (the upstream only opened at the second check).
    expect(u!.seen.map((x) => x.url).sort()).toEqual(['/v1/messages?n=1', '/v1/messages?n=2', '/v1/messages?n=3', '/v1/messages?n=4']);
    // Each session that met the outage has its loss reported once.
    const lost = s.events.filter((e) => e.type === 'lost');
    expect(lost.map((e) => e.sessionId ?? 'none').sort()).toEqual(['33333332-4444-4555-8666-777777777777', '33333333-4444-4555-8666-777777777777', '33333334-4444-4555-8666-777777777777', 'none']);
  }, 20_000);

  it('a check that throws counts as a failed check: the checks go on and the request is released', async () => {
    const port = await freePort();
    let calls = 0;
    const s = await startGuard({
      upstream: `http://127.0.0.1:${port}`,
      check: async () => {
        calls++;
        if (calls === 1) throw new Error('the check broke');
        if (calls === 2) ups.push(await startUpstream(answering('after a throw'), port));
        return ok();
      },
    });
    const a = await send(s.guard.url, { body: '{}' }).answer;
    expect(JSON.parse(a.body.toString())).toMatchObject({ text: 'after a throw' });
    const checks = s.events.flatMap((e) => (e.type === 'check' ? [e.check] : []));
    expect(checks.map((c) => [c.result.ok, c.result.reason, c.nextInMs])).toEqual([
      [false, 'the check broke', 1000],
      [true, null, 1000],
      [true, null, null],
    ]);
  }, 20_000);

  it('an upstream that answers with an error status is up: 529 and 500 pass through, nothing is held or checked', async () => {
    const u = await startUpstream((req, res) => {
      const status = req.url === '/500' ? 500 : 529;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: status === 529 ? 'overloaded_error' : 'api_error', message: 'upstream says no' } }));
    });
    ups.push(u);
    const s = await startGuard({ upstream: u.url });
    const a = await send(s.guard.url, { body: '{"stream":true}' }).answer;
    const b = await send(s.guard.url, { path: '/500', body: '{}' }).answer;
    expect([a.status, b.status]).toEqual([529, 500]);
    expect(JSON.parse(a.body.toString())).toMatchObject({ error: { type: 'overloaded_error' } });
    expect(s.events).toEqual([]);
    expect(s.guard.stats.held).toBe(0);
  });

  it('maxWaitMs elapsed: HTTP 502 with an API-style error body, and a gave-up event', async () => {
    const port = await freePort();
    const s = await startGuard({ upstream: `http://127.0.0.1:${port}`, maxWaitMs: 1200 });
    const session = '44444444-5555-4666-8777-888888888888';
    const started = performance.now();
    const a = await send(s.guard.url, { body: '{"stream":true}', headers: { 'x-claude-code-session-id': session } }).answer;
    expect(performance.now() - started).toBeGreaterThanOrEqual(1150);
    expect(a.status).toBe(502);
    expect(a.headers['content-type']).toBe('application/json');
    const body = JSON.parse(a.body.toString()) as { type: string; error: { type: string; message: string } };
    expect(body).toEqual({ type: 'error', error: { type: 'api_error', message: expect.stringContaining(`127.0.0.1:${port}`) } });
    expect(body.error.message).toMatch(/could not be reached for 1 s \(connection refused\)/);
    const gaveUp = await s.next('gave-up');
    expect(gaveUp).toMatchObject({ sessionId: session, reason: 'connection refused' });
    expect(gaveUp.waitedMs).toBeGreaterThanOrEqual(1150);
  });

  it('maxWaitMs 0: one try, then the 502 at once', async () => {
    const port = await freePort();
    const s = await startGuard({ upstream: `http://127.0.0.1:${port}`, maxWaitMs: 0 });
    const a = await send(s.guard.url, { body: '{}' }).answer;
    expect(a.status).toBe(502);
    expect((JSON.parse(a.body.toString()) as { error: { type: string } }).error.type).toBe('api_error');
    expect(s.events.map((e) => e.type)).toContain('gave-up');
  });

  it('a client that goes away while held is dropped: its request is never sent', async () => {
    const port = await freePort();
    let calls = 0;
    let u: Upstream | null = null;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = await startGuard({
      upstream: `http://127.0.0.1:${port}`,
      check: async () => {
        calls++;
        if (calls === 1) return fail();
        await gate;
        if (!u) ups.push((u = await startUpstream(answering('after'), port)));
        return ok();
      },
    });
    const gone = send(s.guard.url, { path: '/v1/messages?who=gone', body: '{}' });
    void gone.answer.catch(() => undefined);
    await s.next('check');
    gone.abort();
    // The guard has let go of it (white-box: its count of held requests) before the upstream is back.
    await until(() => (s.guard as unknown as { waiting: number }).waiting === 0);
    release();
    const back = await s.next('back');
    expect(back.waiting).toBe(0);
    // A request after back goes through; the dropped one never reached the upstream.
    const a = await send(s.guard.url, { path: '/v1/messages?who=later', body: '{}' }).answer;
    expect(a.status).toBe(200);
    await sleep(100);
    expect(u!.seen.map((x) => x.url)).toEqual(['/v1/messages?who=later']);
  }, 20_000);

  it('enabled false: an unreachable upstream is a 502 at once, nothing is held or checked', async () => {
    const port = await freePort();
    const s = await startGuard({ upstream: `http://127.0.0.1:${port}`, enabled: false, maxWaitMs: 30_000 });
    const a = await send(s.guard.url, { body: '{}' }).answer;
    expect(a.status).toBe(502);
    expect(JSON.parse(a.body.toString())).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(s.events).toEqual([]);
    expect(s.guard.stats.held).toBe(0);
  });

  it('close() while requests are held ends them without a forward', async () => {
    const port = await freePort();
    const s = await startGuard({ upstream: `http://127.0.0.1:${port}`, check: async () => fail() });
    const r = send(s.guard.url, { body: '{}' });
    const settled = r.answer.then(
      (a) => `answered ${a.status}`,
      (e: Error) => `failed ${e.message}`,
    );
    await s.next('check');
    await s.guard.close();
    expect(await settled).toMatch(/failed|answered 502/);
  });
});

describe('a kept-alive connection the upstream dropped is not an outage', () => {
  it('retries once on a fresh connection: the answer comes, nothing is held, checked or reported', async () => {
    const served = new WeakMap<object, number>();
    const u = await startUpstream((req, res, body) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // The second request on one connection meets a connection the server has just dropped.
      if (n > 1) return void req.socket.destroy();
      res.writeHead(200, { 'content-type': 'application/json', connection: 'keep-alive' });
      res.end(JSON.stringify({ body: body.toString() }));
    });
    ups.push(u);
    const s = await startGuard({ upstream: u.url });
    const first = await send(s.guard.url, { body: '{"n":1}' }).answer;
    const second = await send(s.guard.url, { body: '{"n":2}' }).answer;
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(JSON.parse(second.body.toString())).toEqual({ body: '{"n":2}' });
    // The second request went out twice: on the dropped connection, then on a new one.
    expect(u.seen.map((r) => r.body.toString())).toEqual(['{"n":1}', '{"n":2}', '{"n":2}']);
    expect(u.connections).toBe(2);
    expect(s.events).toEqual([]);
  });
});

describe('credentials in the upstream URL', () => {
  it('never appear in what the guard prints or answers', async () => {
    const port = await freePort();
    const s = await startGuard({ upstream: `http://gateway-user:hunter2-secret@127.0.0.1:${port}/prefix`, maxWaitMs: 0 });
    expect(s.guard.upstreamUrl).toBe(`http://127.0.0.1:${port}/prefix`);
    const answer = await send(s.guard.url, { body: '{"n":1}' }).answer;
    expect(answer.status).toBe(502);
    expect(answer.body.toString()).toContain(`http://127.0.0.1:${port}/prefix could not be reached`);
    expect(JSON.stringify([answer.body.toString(), s.events])).not.toMatch(/hunter2|gateway-user/);
  });
});
