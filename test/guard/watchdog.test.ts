// The watchdog: a streaming answer silent for streamTimeoutMs is cut (the client keeps what it got,
// the upstream request is aborted, a `lost` event counts the complete blocks); any byte, pings
// included, resets it; answers to requests that do not stream are never cut.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeGuards, PING, send, SSE_HEADERS, sleep, startGuard, startUpstream, streamClosing, streamOpening, type Upstream } from './helpers.js';

const SESSION = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
const TIMEOUT = 1000;

let u: Upstream;
/** What the upstream does with each request, by the body's `scenario`. */
const scenarios: Record<string, (res: import('node:http').ServerResponse) => void | Promise<void>> = {
  // Two complete blocks and half of a third, then silence.
  stall: (res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(streamOpening(2) + 'event: content_block_start\ndata: {"type":"content_block_start","index":2}\n\n');
  },
  // Silence before any header.
  'stall-before-headers': () => undefined,
  // A ping every 500 ms for 3 s, then the end.
  pings: async (res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(streamOpening(1));
    for (let i = 0; i < 6; i++) {
      await sleep(500);
      if (res.destroyed) return;
      res.write(PING);
    }
    res.end(streamClosing());
  },
  // A slow non-streaming answer: headers at once, the body after twice the timeout.
  slow: async (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    await sleep(TIMEOUT * 2);
    res.end('{"type":"message","content":[]}');
  },
  // The same with no header for twice the timeout.
  'slow-headers': async (res) => {
    await sleep(TIMEOUT * 2);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"type":"message","content":[]}');
  },
  // 24 MiB as fast as the client takes it, then the end.
  flood: async (res) => {
    res.writeHead(200, SSE_HEADERS);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let i = 0; i < 384; i++) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end(streamClosing());
  },
  // The upstream ends the stream mid-way.
  drop: (res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(streamOpening(1), () => setTimeout(() => res.socket?.destroy(), 100));
  },
};

const bodyOf = (scenario: string, stream: boolean, extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], scenario, ...extra, stream });

beforeAll(async () => {
  u = await startUpstream((_req, res, body) => void scenarios[(JSON.parse(body.toString()) as { scenario: string }).scenario]!(res));
});
afterEach(closeGuards);
afterAll(async () => u.stop());

describe('the watchdog', () => {
  it('cuts a stream silent for the timeout: the client keeps what was sent, the upstream request is aborted, a lost event tells', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: TIMEOUT });
    const a = await send(s.guard.url, { body: bodyOf('stall', true), headers: { 'x-claude-code-session-id': SESSION } }).answer;
    const sent = streamOpening(2) + 'event: content_block_start\ndata: {"type":"content_block_start","index":2}\n\n';
    expect(a.status).toBe(200);
    expect(a.complete).toBe(false);
    expect(a.body.toString()).toBe(sent);
    // Not before the timeout (a little slack: the guard saw the last byte before the client did).
    expect(a.endedAt - a.lastChunkAt).toBeGreaterThanOrEqual(TIMEOUT - 100);
    const lost = await s.next('lost');
    expect(lost).toEqual({ type: 'lost', cause: 'silent', sessionId: SESSION, reason: 'no data for 1 s', bytes: Buffer.byteLength(sent), blocks: 2, snapshot: null });
    // The upstream saw its request closed before its answer ended.
    expect(await u.seen[0]!.closed).toEqual({ finished: false });
    expect(s.guard.stats).toMatchObject({ requests: 1, streams: 1, cut: 1 });
  });

  it('a stream silent before its headers is cut too, and the session comes from metadata.user_id', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: TIMEOUT });
    const started = performance.now();
    const userId = JSON.stringify({ device_id: 'd', account_uuid: 'a', session_id: SESSION });
    const r = send(s.guard.url, { body: bodyOf('stall-before-headers', true, { metadata: { user_id: userId } }) });
    await expect(r.answer).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT - 50);
    expect(await s.next('lost')).toMatchObject({ cause: 'silent', sessionId: SESSION, bytes: 0, blocks: 0 });
    expect(await u.seen.at(-1)!.closed).toEqual({ finished: false });
  });

  it('pings reset the timer: a ping every 500 ms for 3 s with a 1 s timeout is never cut', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: TIMEOUT });
    const a = await send(s.guard.url, { body: bodyOf('pings', true), headers: { 'x-claude-code-session-id': SESSION } }).answer;
    expect(a.complete).toBe(true);
    expect(a.body.toString()).toBe(streamOpening(1) + PING.repeat(6) + streamClosing());
    expect(s.events).toEqual([]);
    expect(s.guard.stats.cut).toBe(0);
  });

  it('an answer to a request that does not stream is never cut, however slow', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: TIMEOUT });
    const [a, b, c] = await Promise.all([
      send(s.guard.url, { body: bodyOf('slow', false) }).answer,
      send(s.guard.url, { body: bodyOf('slow-headers', false) }).answer,
      // No `stream` key at all.
      send(s.guard.url, { body: JSON.stringify({ scenario: 'slow' }) }).answer,
    ]);
    for (const x of [a, b, c]) {
      expect(x.complete).toBe(true);
      expect(x.body.toString()).toBe('{"type":"message","content":[]}');
    }
    expect(s.events).toEqual([]);
    expect(s.guard.stats).toMatchObject({ requests: 3, streams: 0, cut: 0 });
  });

  it('"stream": true inside a message is not a streaming request', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: TIMEOUT });
    const body = JSON.stringify({ scenario: 'slow', messages: [{ role: 'user', content: [{ type: 'text', text: 'x', stream: true }] }], metadata: { stream: true } });
    const a = await send(s.guard.url, { body, headers: { 'x-claude-code-session-id': SESSION } }).answer;
    expect(a.complete).toBe(true);
    expect(s.events).toEqual([]);
  });

  it('a client that reads slowly is not a silent upstream: a stream held back by the client for twice the timeout is not cut', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: TIMEOUT });
    let paused = false;
    const { request } = await import('node:http');
    const result = await new Promise<{ bytes: number; complete: boolean }>((resolve, reject) => {
      const body = bodyOf('flood', true);
      const req = request(`${s.guard.url}/v1/messages`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (!paused) {
            // Stop reading at the first chunk for twice the timeout: the buffers fill, the guard waits on the client.
            paused = true;
            res.pause();
            setTimeout(() => res.resume(), TIMEOUT * 2);
          }
        });
        res.once('end', () => resolve({ bytes, complete: res.complete }));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(body);
    });
    expect(result.complete).toBe(true);
    expect(result.bytes).toBe(384 * 64 * 1024 + Buffer.byteLength(streamClosing()));
    expect(s.events).toEqual([]);
    expect(s.guard.stats.cut).toBe(0);
  });

  it('the upstream ending a stream mid-way ends the client’s too: a lost event with cause dropped', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 10_000 });
    const a = await send(s.guard.url, { body: bodyOf('drop', true), headers: { 'x-claude-code-session-id': SESSION } }).answer;
    expect(a.complete).toBe(false);
    expect(a.body.toString()).toBe(streamOpening(1));
    expect(await s.next('lost')).toMatchObject({ cause: 'dropped', sessionId: SESSION, bytes: Buffer.byteLength(streamOpening(1)), blocks: 1, snapshot: null });
    expect(s.guard.stats.cut).toBe(0);
  });

  it('a client that goes away mid-stream aborts the upstream request, and is no loss', async () => {
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 10_000 });
    const r = send(s.guard.url, { body: bodyOf('stall', true), onChunk: () => r.abort() });
    await r.answer.catch(() => undefined);
    expect(await u.seen.at(-1)!.closed).toEqual({ finished: false });
    await sleep(100);
    expect(s.events).toEqual([]);
  });
});
