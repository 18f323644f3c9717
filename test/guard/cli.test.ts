// `ccrescue guard` as a user runs it: usage errors, the command behind it, --json, settings, the
// standalone mode, and that no key, token or body text ever appears in what it prints.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ccrescue } from '../helpers/cli.js';
import { CORPUS } from '../helpers/corpus.js';
import { freePort, runCli, send, SSE_HEADERS, sleep, startUpstream, streamClosing, streamOpening, type Upstream } from './helpers.js';

const noStack = (s: string): void => expect(s).not.toMatch(/^\s+at /m);
const dirs: string[] = [];
const tmp = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ccrescue-guard-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
/** The environment of a run: the upstream named, no inherited Claude or proxy settings. */
const envFor = (upstream: string, claudeDir = tmp()): NodeJS.ProcessEnv => ({ ANTHROPIC_BASE_URL: upstream, CLAUDE_CONFIG_DIR: claudeDir, CCRESCUE_SETTINGS: undefined, ANTHROPIC_API_KEY: undefined });

const ups: Upstream[] = [];
afterEach(async () => Promise.all(ups.splice(0).map((u) => u.stop().catch(() => undefined))));

interface GuardDoc {
  listen: string;
  upstream: string;
  enabled: boolean;
  stream_timeout_ms: number;
  max_wait_ms: number;
  command: string | null;
  exit_code: number | null;
  requests: number;
  streams: number;
  streams_cut: number;
  requests_held: number;
  events: { type: string; cause?: string; sessionId?: string | null; snapshot?: { snapshot: string | null; error: string | null } | null }[];
}

describe('ccrescue guard: usage', () => {
  it('neither a command nor --port: exit 2, one line, no stack', () => {
    const r = ccrescue(['guard']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('name a command after --');
    expect(r.stdout).toBe('');
    noStack(r.stderr);
  });

  it.each([
    [['--port', 'abc']],
    [['--port', '65536']],
    [['--port', '-1']],
    [['--stream-timeout-ms', '999']],
    [['--stream-timeout-ms', '1e4']],
    [['--max-wait-ms', '-5']],
    [['--max-wait-ms', '1.5']],
    [['--max-wait-ms', '86400001']],
  ])('%j: exit 2, one line, before anything runs', (flags) => {
    const dir = tmp();
    const marker = join(dir, 'ran');
    const r = ccrescue(['guard', ...flags, '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/must be an integer from|argument missing|invalid/);
    noStack(r.stderr);
    expect(() => readFileSync(marker)).toThrow();
  });

  it('an invalid settings file: exit 2, one line naming the key', () => {
    const dir = tmp();
    const settings = join(dir, 'settings.json');
    writeFileSync(settings, JSON.stringify({ network_resilience: { stream_timeout_ms: 10 } }));
    const r = ccrescue(['guard', '--settings', settings, '--', process.execPath, '-e', '']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('network_resilience.stream_timeout_ms');
  });

  it('a command not found: exit 2 and one line, before anything listens', () => {
    const r = ccrescue(['guard', '--', 'ccrescue-no-such-command-xyz'], { env: envFor('http://127.0.0.1:9') });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ccrescue: ccrescue-no-such-command-xyz: no such command on PATH\n');
    const path = ccrescue(['guard', '--', '/nonexistent/ccrescue-cmd'], { env: envFor('http://127.0.0.1:9') });
    expect(path.code).toBe(2);
    expect(path.stderr).toBe('ccrescue: /nonexistent/ccrescue-cmd: no such command\n');
    noStack(r.stderr);
  });
});

describe('ccrescue guard -- command', () => {
  it('the command runs with ANTHROPIC_BASE_URL set to the guard; its exit code is the guard’s; --json prints one document', () => {
    const dir = tmp();
    const seen = join(dir, 'base-url');
    const script = `require('fs').writeFileSync(${JSON.stringify(seen)}, process.env.ANTHROPIC_BASE_URL); console.log('the command speaks on stdout'); process.exit(7)`;
    const r = ccrescue(['guard', '--json', '--', process.execPath, '-e', script], { env: envFor('http://127.0.0.1:9/base') });
    expect(r.code).toBe(7);
    const url = readFileSync(seen, 'utf8');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Exactly one JSON document on stdout: the command's own stdout went to stderr.
    const doc = JSON.parse(r.stdout) as GuardDoc;
    expect(r.stdout.trim().startsWith('{') && r.stdout.trim().endsWith('}')).toBe(true);
    expect(doc).toEqual({
      listen: url,
      upstream: 'http://127.0.0.1:9/base',
      enabled: true,
      stream_timeout_ms: 30_000,
      max_wait_ms: 300_000,
      command: process.execPath,
      exit_code: 7,
      requests: 0,
      streams: 0,
      streams_cut: 0,
      requests_held: 0,
      events: [],
    });
    expect(r.stderr).toContain('the command speaks on stdout');
    expect(r.stderr).toContain(`ccrescue guard: ${url} → http://127.0.0.1:9/base;`);
  });

  it('SIGTERM the moment the guard is announced reaches the command: the guard exits 143 with its --json document', async () => {
    for (let i = 0; i < 3; i++) {
      const cli = runCli(['guard', '--json', '--', process.execPath, '-e', 'setTimeout(() => {}, 20000)'], { env: envFor('http://127.0.0.1:9') });
      cli.child.stderr!.once('data', () => cli.child.kill('SIGTERM'));
      expect(await cli.exit).toEqual({ code: 143, signal: null });
      expect(JSON.parse(cli.stdout())).toMatchObject({ exit_code: 143 });
    }
  });

  it('without $ANTHROPIC_BASE_URL the upstream comes from Claude’s settings env, with a warning', () => {
    const claudeDir = tmp();
    writeFileSync(join(claudeDir, 'settings.json'), JSON.stringify({ env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/from-settings' } }));
    const r = ccrescue(['guard', '--json', '--claude-dir', claudeDir, '--', process.execPath, '-e', ''], { env: { ...envFor(''), ANTHROPIC_BASE_URL: undefined }, cwd: tmp() });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as GuardDoc).upstream).toBe('http://127.0.0.1:9/from-settings');
    expect(r.stderr).toContain(`(from ${join(claudeDir, 'settings.json')})`);
    expect(r.stderr).toContain('warning:');
  });

  it('flags override the settings file: --stream-timeout-ms and --max-wait-ms', () => {
    const dir = tmp();
    const settings = join(dir, 'settings.json');
    writeFileSync(settings, JSON.stringify({ network_resilience: { stream_timeout_ms: 5000, max_wait_ms: 1000 } }));
    const r = ccrescue(['guard', '--json', '--settings', settings, '--max-wait-ms', '0', '--', process.execPath, '-e', ''], { env: envFor('http://127.0.0.1:9') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ stream_timeout_ms: 5000, max_wait_ms: 0 });
  });
});

describe('ccrescue guard: secrets never appear in what it prints', () => {
  it('a stall and an outage with a key, a token and secret text in the body: none of them in stderr or the --json document', async () => {
    const SECRETS = {
      key: 'sk-ant-api03-SECRETKEY-guard-test-0123456789',
      token: 'SECRET-BEARER-TOKEN-guard-test',
      envKey: 'sk-ant-api03-SECRETENVKEY-guard-test',
      body: 'SECRET-BODY-TEXT-the-user-typed',
      answer: 'SECRET-ANSWER-TEXT-the-model-wrote',
      path: 'SECRET-QUERY-VALUE',
    };
    const session = '5a3bb1c8-c3ce-466e-b487-24212cbf1da1';
    const claudeDir = tmp();
    mkdirSync(join(claudeDir, 'projects', '-tmp-project'), { recursive: true });
    copyFileSync(join(CORPUS, 'entireio__cli/4c/02af2759b6/0/full.jsonl'), join(claudeDir, 'projects', '-tmp-project', `${session}.jsonl`));
    let u: Upstream;
    u = await startUpstream((req, res, body) => {
      if (body.includes('"phase":"stall"')) {
        res.writeHead(200, SSE_HEADERS);
        res.write(streamOpening(1).replace('block 0', SECRETS.answer));
      } else if (body.includes('"phase":"outage"')) {
        void u.stop(); // the connection is reset before any answer, and the port refuses from now on
      } else {
        res.end('{}');
      }
      void req;
    });
    ups.push(u);
    // The command: a client that sends the two requests through the guard.
    const dir = tmp();
    const client = join(dir, 'client.mjs');
    writeFileSync(
      client,
      `const base = process.env.ANTHROPIC_BASE_URL;
const headers = { 'content-type': 'application/json', 'x-api-key': ${JSON.stringify(SECRETS.key)}, authorization: 'Bearer ${SECRETS.token}', 'x-claude-code-session-id': '${session}', 'anthropic-version': '2023-06-01' };
const body = (phase) => JSON.stringify({ model: 'claude-test', max_tokens: 5, messages: [{ role: 'user', content: ${JSON.stringify(SECRETS.body)} }], phase, stream: true });
const results = [];
try {
  const r = await fetch(base + '/v1/messages?beta=true&q=${SECRETS.path}', { method: 'POST', headers, body: body('stall') });
  results.push(r.status);
  await r.text();
  results.push('complete');
} catch (e) { results.push('cut'); }
const r2 = await fetch(base + '/v1/messages?q=${SECRETS.path}', { method: 'POST', headers, body: body('outage') });
results.push(r2.status, (await r2.json()).error.type);
process.stderr.write('client: ' + JSON.stringify(results) + '\\n');
process.exit(results.join() === '200,cut,502,api_error' ? 0 : 1);
`,
    );
    const cli = runCli(['guard', '--json', '--stream-timeout-ms', '1000', '--max-wait-ms', '1500', '--claude-dir', claudeDir, '--', process.execPath, client], {
      env: { ...envFor(u.url, claudeDir), ANTHROPIC_API_KEY: SECRETS.envKey },
    });
    const { code } = await cli.exit;
    const out = cli.stdout();
    const err = cli.stderr();
    expect(err).toContain('client: [200,"cut",502,"api_error"]');
    expect(code).toBe(0);
    const doc = JSON.parse(out) as GuardDoc;
    const types = doc.events.map((e) => (e.type === 'lost' ? `lost:${e.cause}` : e.type));
    expect(types).toContain('lost:silent');
    expect(types).toContain('lost:unreachable');
    expect(types).toContain('check');
    expect(types).toContain('gave-up');
    expect(doc).toMatchObject({ requests: 2, streams: 2, streams_cut: 1, requests_held: 1, exit_code: 0 });
    // The snapshots were taken, so the lines did talk about the session.
    expect(doc.events.find((e) => e.type === 'lost' && e.cause === 'silent')!.snapshot).toMatchObject({ error: null });
    expect(err).toMatch(/connection lost, session 5a3bb1c8-.*cut it after 1 complete content block/);
    expect(err).toMatch(/waited 1\.5 s and .* is still unreachable/);
    // And never a secret, in any form.
    const printed = out + err;
    for (const secret of Object.values(SECRETS)) {
      expect(printed).not.toContain(secret);
      expect(printed).not.toContain(Buffer.from(secret).toString('base64'));
    }
    expect(printed).not.toMatch(/sk-ant-/);
    expect(printed).not.toMatch(/Bearer/i);
  }, 30_000);
});

describe('ccrescue guard --port: the proxy alone', () => {
  it('listens on the port named, forwards, and stops cleanly on SIGTERM with exit 0', async () => {
    const u = await startUpstream((_req, res) => res.end('{"ok":true}'));
    ups.push(u);
    const port = await freePort();
    const cli = runCli(['guard', '--port', String(port)], { env: envFor(u.url) });
    await cli.waitFor(new RegExp(`http://127\\.0\\.0\\.1:${port} → ${u.url.replace(/\./g, '\\.')}`));
    const a = await send(`http://127.0.0.1:${port}`, { body: '{}' }).answer;
    expect(a.body.toString()).toBe('{"ok":true}');
    expect(u.seen).toHaveLength(1);
    cli.child.kill('SIGTERM');
    expect(await cli.exit).toEqual({ code: 0, signal: null });
    noStack(cli.stderr());
    // The port is free again.
    await expect(send(`http://127.0.0.1:${port}`, { body: '{}' }).answer).rejects.toThrow(/ECONNREFUSED/);
  });

  it('SIGTERM the moment the guard is announced: a clean stop, exit 0, one --json document (exit_code null)', async () => {
    // Sent as soon as the first line arrives: the guard must already be listening for it.
    for (let i = 0; i < 3; i++) {
      const cli = runCli(['guard', '--port', '0', '--json'], { env: envFor('http://127.0.0.1:9') });
      cli.child.stderr!.once('data', () => cli.child.kill('SIGTERM'));
      expect(await cli.exit).toEqual({ code: 0, signal: null });
      expect(JSON.parse(cli.stdout())).toMatchObject({ command: null, exit_code: null, events: [] });
    }
  });

  it('a port in use: one line, a non-zero exit', async () => {
    const u = await startUpstream((_req, res) => res.end());
    ups.push(u);
    const r = ccrescue(['guard', '--port', String(u.port)], { env: envFor('http://127.0.0.1:9') });
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([`ccrescue: 127.0.0.1:${u.port}: the port is in use`]);
  });

  it('network_resilience.enabled false: a silent stream passes through, not cut after the timeout', async () => {
    let finish!: () => void;
    const finished = new Promise<void>((r) => (finish = r));
    const u = await startUpstream(async (_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.write(streamOpening(1));
      await finished;
      res.end(streamClosing());
    });
    ups.push(u);
    const dir = tmp();
    const settings = join(dir, 'settings.json');
    writeFileSync(settings, JSON.stringify({ network_resilience: { enabled: false, stream_timeout_ms: 1000 } }));
    const cli = runCli(['guard', '--port', '0', '--json', '--settings', settings], { env: envFor(u.url) });
    const [, port] = await cli.waitFor(/ccrescue guard: http:\/\/127\.0\.0\.1:(\d+) →/);
    expect(cli.stderr()).toContain('network_resilience.enabled is false');
    const r = send(`http://127.0.0.1:${port}`, { body: '{"stream":true}', headers: { 'x-claude-code-session-id': '5a3bb1c8-c3ce-466e-b487-24212cbf1da1' } });
    await r.responded;
    await sleep(2500); // two and a half timeouts of silence
    finish();
    const a = await r.answer;
    expect(a.complete).toBe(true);
    expect(a.body.toString()).toBe(streamOpening(1) + streamClosing());
    cli.child.kill('SIGTERM');
    expect((await cli.exit).code).toBe(0);
    const doc = JSON.parse(cli.stdout()) as GuardDoc;
    expect(doc).toMatchObject({ enabled: false, stream_timeout_ms: 1000, streams: 1, streams_cut: 0, events: [] });
  });
});
