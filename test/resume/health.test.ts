import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { InputError } from '../../src/errors.js';
import { CCRESCUE_VERSION } from '../../src/version.js';
import { apiBaseUrl, backoffDelay, checkOnce, DEFAULT_API_URL, healthUrl, waitForApi, type CheckEvent, type CheckResult } from '../../src/resume/health.js';

describe('backoffDelay', () => {
  it('doubles from 1 s after each failure and stops at 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(backoffDelay)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(backoffDelay(50)).toBe(30000);
  });

  it('no failure yet waits the base second', () => {
    expect(backoffDelay(0)).toBe(1000);
  });
});

const ok = (status = 401): CheckResult => ({ ok: true, status, reason: null, ms: 0 });
const fail = (reason = 'connection refused'): CheckResult => ({ ok: false, status: null, reason, ms: 0 });

/** A check that answers from a script, and a sleep that records instead of waiting. */
function scripted(results: CheckResult[]) {
  const left = [...results];
  const sleeps: number[] = [];
  const events: CheckEvent[] = [];
  let checks = 0;
  return {
    sleeps,
    events,
    get checks() {
      return checks;
    },
    options: {
      check: async () => {
        checks++;
        const next = left.shift();
        if (!next) throw new Error(`check ${checks} is past the end of the script`);
        return next;
      },
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      onCheck: (e: CheckEvent) => {
        events.push(e);
      },
    },
  };
}

describe('waitForApi', () => {
  it('three failures then two successes: backoff 1 s, 2 s, 4 s, then 1 s between the successes', async () => {
    const s = scripted([fail(), fail('timed out'), fail('HTTP 503'), ok(), ok(200)]);
    expect(await waitForApi(s.options)).toEqual({ attempts: 5 });
    expect(s.sleeps).toEqual([1000, 2000, 4000, 1000]);
    expect(s.events.map((e) => [e.attempt, e.result.ok, e.streak, e.nextInMs])).toEqual([
      [1, false, 0, 1000],
      [2, false, 0, 2000],
      [3, false, 0, 4000],
      [4, true, 1, 1000],
      [5, true, 2, null],
    ]);
    // Each event carries the check's own result.
    expect(s.events.map((e) => e.result.reason)).toEqual(['connection refused', 'timed out', 'HTTP 503', null, null]);
  });

  it('a flapping link: a failure between two successes resets the streak', async () => {
    const s = scripted([ok(), fail(), ok(), ok()]);
    expect(await waitForApi(s.options)).toEqual({ attempts: 4 });
    expect(s.events.map((e) => e.streak)).toEqual([1, 0, 1, 2]);
    expect(s.sleeps).toEqual([1000, 1000, 1000]);
  });

  it('a success clears the failures: the backoff after it starts again at 1 s', async () => {
    const s = scripted([fail(), fail(), fail(), ok(), fail(), fail(), ok(), ok()]);
    expect(await waitForApi(s.options)).toEqual({ attempts: 8 });
    expect(s.sleeps).toEqual([1000, 2000, 4000, 1000, 1000, 2000, 1000]);
    expect(s.events.map((e) => e.streak)).toEqual([0, 0, 0, 1, 0, 0, 1, 2]);
  });

  it('immediately healthy: exactly two checks and one 1 s sleep', async () => {
    const s = scripted([ok(), ok(), ok()]);
    expect(await waitForApi(s.options)).toEqual({ attempts: 2 });
    expect(s.checks).toBe(2);
    expect(s.sleeps).toEqual([1000]);
    expect(s.events.map((e) => e.nextInMs)).toEqual([1000, null]);
  });

  it('a long outage is checked every 30 s at most', async () => {
    const s = scripted([...Array.from({ length: 9 }, () => fail()), ok(), ok()]);
    expect(await waitForApi(s.options)).toEqual({ attempts: 11 });
    expect(s.sleeps).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000, 1000]);
  });

  it('successesNeeded sets how many successes in a row count', async () => {
    const three = scripted([ok(), ok(), fail(), ok(), ok(), ok()]);
    expect(await waitForApi({ ...three.options, successesNeeded: 3 })).toEqual({ attempts: 6 });
    expect(three.events.map((e) => e.streak)).toEqual([1, 2, 0, 1, 2, 3]);
    const one = scripted([fail(), ok()]);
    expect(await waitForApi({ ...one.options, successesNeeded: 1 })).toEqual({ attempts: 2 });
    expect(one.sleeps).toEqual([1000]);
  });

  it('works without onCheck', async () => {
    const s = scripted([ok(), ok()]);
    expect(await waitForApi({ check: s.options.check, sleep: s.options.sleep })).toEqual({ attempts: 2 });
  });

  it('a sleep that rejects stops the wait with its error, and no further check is made', async () => {
    const stop = new Error('stopped by Ctrl+C');
    let checks = 0;
    const sleeps: number[] = [];
    const waiting = waitForApi({
      check: async () => {
        checks++;
        return fail();
      },
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) throw stop;
      },
    });
    await expect(waiting).rejects.toBe(stop);
    expect(checks).toBe(2);
    expect(sleeps).toEqual([1000, 2000]);
  });

  it('a check that throws stops the wait with its error', async () => {
    const boom = new Error('boom');
    await expect(waitForApi({ check: () => Promise.reject(boom), sleep: async () => undefined })).rejects.toBe(boom);
  });
});

describe('apiBaseUrl and healthUrl', () => {
  it('the base is $ANTHROPIC_BASE_URL, trimmed, else the default endpoint', () => {
    expect(DEFAULT_API_URL).toBe('https://api.anthropic.com');
    expect(apiBaseUrl({})).toEqual({ url: DEFAULT_API_URL, from: 'the default endpoint' });
    expect(apiBaseUrl({ ANTHROPIC_BASE_URL: '  http://127.0.0.1:8080/gw  ' })).toEqual({ url: 'http://127.0.0.1:8080/gw', from: '$ANTHROPIC_BASE_URL' });
    expect(apiBaseUrl({ ANTHROPIC_BASE_URL: '   ' }).url).toBe(DEFAULT_API_URL);
    expect(apiBaseUrl({ ANTHROPIC_BASE_URL: '' }).url).toBe(DEFAULT_API_URL);
  });

  it("else the env block of Claude Code's settings: project settings.local.json, project settings.json, then the Claude dir's", async () => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-health-')));
    try {
      const project = join(root, 'proj');
      const claudeDir = join(root, 'claude');
      await mkdir(join(project, '.claude'), { recursive: true });
      await mkdir(claudeDir);
      const where = { projectDir: project, claudeDir };
      const put = (file: string, url: unknown) => writeFile(file, JSON.stringify({ env: { ANTHROPIC_BASE_URL: url } }));
      const user = join(claudeDir, 'settings.json');
      const shared = join(project, '.claude', 'settings.json');
      const local = join(project, '.claude', 'settings.local.json');
      await put(user, 'http://user.example');
      expect(apiBaseUrl({}, where)).toEqual({ url: 'http://user.example', from: user });
      await put(shared, ' http://shared.example ');
      expect(apiBaseUrl({}, where)).toEqual({ url: 'http://shared.example', from: shared });
      await writeFile(local, '{ not json'); // unreadable: skipped, as Claude Code would
      expect(apiBaseUrl({}, where).from).toBe(shared);
      await put(local, 'http://local.example');
      expect(apiBaseUrl({}, where)).toEqual({ url: 'http://local.example', from: local });
      expect(apiBaseUrl({ ANTHROPIC_BASE_URL: 'http://env.example' }, where)).toEqual({ url: 'http://env.example', from: '$ANTHROPIC_BASE_URL' });
      expect(apiBaseUrl({}, {}).url).toBe(DEFAULT_API_URL);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('checks the models list under the base, keeping a base path', () => {
    expect(healthUrl(DEFAULT_API_URL).href).toBe('https://api.anthropic.com/v1/models');
    expect(healthUrl('http://h/gw/').pathname).toBe('/gw/v1/models');
    expect(healthUrl('http://h/gw').pathname).toBe('/gw/v1/models');
    expect(healthUrl('http://h/gw//').pathname).toBe('/gw/v1/models');
    expect(healthUrl('http://h:9000/a/b/').href).toBe('http://h:9000/a/b/v1/models');
  });

  it('a base that is not an http(s) URL is bad input', () => {
    expect(() => healthUrl('api.example.com')).toThrow(new InputError('api.example.com: not a URL to check the API at'));
    expect(() => healthUrl('ftp://api.example.com')).toThrow(new InputError('ftp://api.example.com: the API URL must be http or https'));
  });
});

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
}

/** A server on 127.0.0.1 (port 0) that records each request and answers with `respond`. */
async function serve(respond: (res: ServerResponse) => void): Promise<{ server: Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    respond(res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  servers.push(server);
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const servers: Server[] = [];
const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
const ENV_KEYS = [...PROXY_VARS, 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'];
const savedEnv: Record<string, string | undefined> = {};

describe('checkOnce against local servers', () => {
  beforeAll(() => {
    // The checks go straight to 127.0.0.1, whatever proxy the machine running the tests has; a key
    // in the environment must not travel with them.
    for (const k of ENV_KEYS) savedEnv[k] = process.env[k];
    for (const k of PROXY_VARS) delete process.env[k];
    process.env.ANTHROPIC_API_KEY = 'sk-ant-test-must-not-be-sent';
    process.env.ANTHROPIC_AUTH_TOKEN = 'token-must-not-be-sent';
  });

  afterAll(async () => {
    for (const k of ENV_KEYS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((done) => s.close(() => done()));
    }
  });

  const answering = (status: number) => (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ type: 'error', error: { type: 'x', message: `status ${status}` } }));
  };

  it('200 is reachable', async () => {
    const { base } = await serve(answering(200));
    expect(await checkOnce(healthUrl(base), 5000)).toMatchObject({ ok: true, status: 200, reason: null });
  });

  it.each([401, 404, 429, 499])('%i is reachable: the API answered', async (status) => {
    const { base } = await serve(answering(status));
    expect(await checkOnce(healthUrl(base), 5000)).toMatchObject({ ok: true, status, reason: null });
  });

  it.each([500, 503, 529])('%i is not reachable, with reason "HTTP <status>"', async (status) => {
    const { base } = await serve(answering(status));
    expect(await checkOnce(healthUrl(base), 5000)).toMatchObject({ ok: false, status, reason: `HTTP ${status}` });
  });

  it('sends one GET to <base path>/v1/models, with no credentials even when ANTHROPIC_API_KEY is set', async () => {
    const { base, seen } = await serve(answering(401));
    const result = await checkOnce(healthUrl(`${base}/gw/`), 5000);
    expect(result.ok).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.url).toBe('/gw/v1/models');
    const headers = seen[0]!.headers;
    expect(headers['x-api-key']).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
    expect(JSON.stringify(headers)).not.toContain('must-not-be-sent');
    expect(headers['user-agent']).toBe(`ccrescue/${CCRESCUE_VERSION}`);
    expect(headers['anthropic-version']).toBe('2023-06-01');
  });

  it('a closed port: connection refused', async () => {
    const { server, base } = await serve(answering(200));
    await new Promise<void>((done) => server.close(() => done()));
    expect(await checkOnce(healthUrl(base), 5000)).toMatchObject({ ok: false, status: null, reason: 'connection refused' });
  });

  it('a server that never answers: timed out', async () => {
    const { base, seen } = await serve(() => undefined);
    expect(await checkOnce(healthUrl(base), 300)).toMatchObject({ ok: false, status: null, reason: 'timed out' });
    expect(seen).toHaveLength(1); // the request did arrive; only the answer is missing
  });

  it('a server that drops the connection: connection reset', async () => {
    const { base } = await serve((res) => res.socket?.destroy());
    expect(await checkOnce(healthUrl(base), 5000)).toMatchObject({ ok: false, status: null, reason: 'connection reset' });
  });

  it('uses the dispatcher it is given', async () => {
    const { base, seen } = await serve(answering(204));
    const dispatcher = new Agent();
    try {
      expect(await checkOnce(healthUrl(base), 5000, dispatcher)).toMatchObject({ ok: true, status: 204 });
    } finally {
      await dispatcher.close();
    }
    expect(seen).toHaveLength(1);
  });
});
