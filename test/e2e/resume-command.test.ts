// `ccrescue resume` end to end: recovery, the wait for the API (health checks with backoff), and the client it starts,
// with the real 2.1.328 client against the mock API and with a stand-in script that records how it was started.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { CORPUS } from '../helpers/corpus.js';
import { TOOLS, clientCommand, clientEnv, encodeCwd, endAllRuns } from './client.js';
import { startMockApi, type MockApi } from './mock-api.js';
import { blocksOfEntry, conversationEntries, produceCrash, readSessionEntries, type Crash, type SessionEntry } from './scenarios.js';
import { blocks, isHealthCheck, mainLoop, messagesOf, textOf } from './messages.js';

const CRASH_TIMEOUT_MS = 120_000;
const LONG_TEST_TIMEOUT_MS = 120_000;
const CLI_TIMEOUT_MS = 60_000;
const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'crash-parallel');
const FIXTURE_CWD = '/tmp/ccrescue-fixture/work/proj';
const FIXTURE_SESSION_ID = '5fec7deb-813f-4346-8789-314f5d8e99ea';
// A genuine healthy 2.1.14 session (as in test/cli.test.ts); its file is named after the id it records.
const HEALTHY = join(CORPUS, 'DRMacIver__claude-reliability/snapshot-tests/tests/hello-world-script/transcript.jsonl');
const HEALTHY_SESSION_ID = 'de3b8b19-5bc0-4a2a-934a-1b6806567e25';
const HEALTHY_CWD = '/tmp/tmp74wiyiny';
/** The file the healthy session wrote (its Write call's content). */
const HEALTHY_HELLO = '#!/bin/bash\necho "Hello world"\n';
/** What the mock answers a main-loop request with once its script is used up. */
const FINAL_TEXT = 'Resumed OK.';
const STOPPED = 'stopped waiting; the repaired session is saved. Resume it later with:';

// ---------------------------------------------------------------------------------------------------------------
// Running ccrescue in the background, watching its stderr

interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface CliRun {
  pid: number;
  exited: Promise<CliExit>;
  stderr(): string;
  /** Resolves with the match once stderr matches `pattern`; rejects if ccrescue exits first or after `timeoutMs`. */
  stderrMatch(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** performance.now() when each complete stderr line arrived. */
  lineTimes: { line: string; at: number }[];
}

/** Starts `ccrescue <args>` with stdin at EOF (print mode reads stdin until EOF when it is not a TTY; the client inherits it). */
function startCcrescue(args: string[], options: { cwd: string; env: Record<string, string> }): CliRun {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...options.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start ccrescue');
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  let partial = '';
  let exitedWith: CliExit | undefined;
  const lineTimes: { line: string; at: number }[] = [];
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    const at = performance.now();
    stderr += chunk;
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) lineTimes.push({ line, at });
    for (const listener of listeners) listener();
  });
  const exited = new Promise<CliExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      exitedWith = { code, signal, stdout, stderr };
      resolve(exitedWith);
      for (const listener of listeners) listener();
    });
  });
  const stderrMatch = (pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      const check = (): void => {
        const match = pattern.exec(stderr);
        if (match !== null) {
          done();
          resolve(match);
        } else if (exitedWith !== undefined) {
          done();
          reject(new Error(`ccrescue exited (code ${String(exitedWith.code)}) before stderr matched ${String(pattern)}:\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for stderr to match ${String(pattern)}:\n${stderr}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { pid: child.pid, exited, stderr: () => stderr, stderrMatch, lineTimes };
}

/** Runs ccrescue to its end; fails the test if it takes longer than `timeoutMs`. */
async function runCcrescue(args: string[], options: { cwd: string; env: Record<string, string> }, timeoutMs = CLI_TIMEOUT_MS): Promise<CliExit> {
  return exitOf(startCcrescue(args, options), timeoutMs);
}

async function exitOf(run: CliRun, timeoutMs: number): Promise<CliExit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`ccrescue still running after ${timeoutMs} ms; stderr:\n${run.stderr()}`)), timeoutMs);
  });
  try {
    return await Promise.race([run.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What ccrescue reports

interface CheckEvent {
  attempt: number;
  result: { ok: boolean; status: number | null; reason: string | null; ms: number };
  streak: number;
  nextInMs: number | null;
}

interface ResumeDoc {
  status: string;
  file: string;
  written: { session: string | null; snapshot: string | null; backup: string | null };
  snapshot: {
    session_id: string | null;
    repaired_session_id: string | null;
    continuation_prompt: string | null;
    active_tool_calls: { tool_use_id: string; tool: string; status: string }[];
  };
  resume_command: string;
  checks: CheckEvent[];
  started: boolean;
  client_exit_code: number | null;
}

function parseDoc(exit: CliExit): ResumeDoc {
  expect(exit.stdout.trim().startsWith('{'), `stdout is not one JSON document:\n${exit.stdout}\nstderr:\n${exit.stderr}`).toBe(true);
  return JSON.parse(exit.stdout) as ResumeDoc;
}

/** The `check N: …` lines of stderr. */
function checkLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /^check \d+: /.test(line));
}

/** The line ccrescue prints for a check, as `resume` words it. */
function expectedCheckLine(e: CheckEvent): RegExp {
  const head = e.result.ok
    ? `check ${e.attempt}: answered \\(HTTP ${String(e.result.status)}, \\d+ ms\\), ${e.streak} in a row`
    : `check ${e.attempt}: unreachable \\(${e.result.reason ?? ''}\\)`;
  return new RegExp(`^${head}; ${e.nextInMs === null ? 'the API is back' : `next check in ${e.nextInMs / 1000} s`}$`);
}


// ---------------------------------------------------------------------------------------------------------------
// Messages as the client sends them

const entryText = (e: SessionEntry): string =>
  typeof e.message?.content === 'string' ? e.message.content : blocksOfEntry(e).map((b) => (typeof b.text === 'string' ? b.text : '')).join('');

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// A stand-in client and sessions to resume

interface FakeClient {
  bin: string;
  /** The arguments it was started with; undefined if it never ran. */
  argv(): string[] | undefined;
  /** Its working directory (physical). */
  cwd(): string;
  /** $CLAUDE_CONFIG_DIR, or '<unset>'. */
  configDir(): string;
}

/** A `#!/bin/sh` client that records its argv, cwd and CLAUDE_CONFIG_DIR, then exits 7. */
function fakeClient(dir: string): FakeClient {
  const out = join(dir, 'fake-client-out');
  mkdirSync(out, { recursive: true });
  const bin = join(dir, 'fake-claude');
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    bin,
    [
      '#!/bin/sh',
      `out=${q(out)}`,
      `printf '%s\\0' "$@" > "$out/argv"`,
      `pwd -P > "$out/cwd"`,
      `printf '%s' "\${CLAUDE_CONFIG_DIR-<unset>}" > "$out/config-dir"`,
      'exit 7',
      '',
    ].join('\n'),
  );
  chmodSync(bin, 0o755);
  const read = (name: string): string | undefined => (existsSync(join(out, name)) ? readFileSync(join(out, name), 'utf8') : undefined);
  return {
    bin,
    argv: () => read('argv')?.split('\0').slice(0, -1),
    cwd: () => (read('cwd') ?? '').trim(),
    configDir: () => read('config-dir') ?? '',
  };
}

/** Runs a command ccrescue printed, as a user pasting it into a shell (somewhere else, without CLAUDE_CONFIG_DIR); its exit code. */
function runPrinted(command: string, cwd: string): number | null {
  return spawnSync('/bin/sh', ['-c', command], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).status;
}

interface InstalledSession {
  claudeDir: string;
  /** The project folder under claudeDir/projects. */
  folder: string;
  sessionFile: string;
  sessionId: string;
  /** The cwd the session records. */
  cwd: string;
}

/**
 * Copies fixtures/crash-parallel (a real 2.1.328 session killed mid-task) under `root`, its recorded cwd moved from
 * /tmp/ccrescue-fixture/work/proj to `cwd` (holding the fixture's project unless `withProject` is false).
 */
function installFixture(root: string, cwd: string, withProject = true): InstalledSession {
  const claudeDir = join(root, 'claude');
  cpSync(join(FIXTURE, 'claude'), claudeDir, { recursive: true });
  if (withProject) cpSync(join(FIXTURE, 'project'), cwd, { recursive: true });
  const oldFolder = join(claudeDir, 'projects', encodeCwd(FIXTURE_CWD));
  const folder = join(claudeDir, 'projects', encodeCwd(cwd));
  renameSync(oldFolder, folder);
  const sessionFile = join(folder, `${FIXTURE_SESSION_ID}.jsonl`);
  writeFileSync(sessionFile, readFileSync(sessionFile, 'utf8').replaceAll(FIXTURE_CWD, cwd));
  return { claudeDir, folder, sessionFile, sessionId: FIXTURE_SESSION_ID, cwd };
}

/** The healthy corpus session under `root`/claude, its recorded cwd moved to `cwd`. */
function installHealthy(root: string, cwd: string): InstalledSession {
  const claudeDir = join(root, 'claude');
  const folder = join(claudeDir, 'projects', encodeCwd(cwd));
  mkdirSync(folder, { recursive: true });
  mkdirSync(cwd, { recursive: true });
  const sessionFile = join(folder, `${HEALTHY_SESSION_ID}.jsonl`);
  writeFileSync(sessionFile, readFileSync(HEALTHY, 'utf8').replaceAll(HEALTHY_CWD, cwd));
  // The project as the session left it: a missing hello.sh would be a side effect the transcript does not explain.
  writeFileSync(join(cwd, 'hello.sh'), HEALTHY_HELLO, { mode: 0o755 });
  return { claudeDir, folder, sessionFile, sessionId: HEALTHY_SESSION_ID, cwd };
}

async function tempRoot(): Promise<string> {
  return realpathSync(await mkdtemp(join(tmpdir(), 'ccrescue-resume-')));
}

// ---------------------------------------------------------------------------------------------------------------

describe('ccrescue resume on a real 2.1.328 crash, while the API is down', () => {
  let crash: Crash;

  beforeAll(async () => {
    crash = await produceCrash('parallel-running');
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it(
    'retries a refused port with 1 s, 2 s, 4 s backoff, starts 2.1.328 after 2 answers in a row, and the resumed request carries the repaired history',
    async () => {
      const originalHash = sha256(crash.sessionFile);
      const toolUseIds = conversationEntries(await readSessionEntries(crash.sessionFile))
        .flatMap(blocksOfEntry)
        .flatMap((b) => (b.type === 'tool_use' && b.id ? [b.id] : []));
      expect(toolUseIds.length).toBeGreaterThan(0);

      // The API goes away: the port refuses connections.
      await crash.mock.close();
      const requestsWhileClosed = crash.mock.requests.length;
      const { env } = clientEnv(crash.home, crash.mock.baseUrl);
      const clientArgs = ['-p', '--dangerously-skip-permissions', '--output-format', 'stream-json', '--verbose', '--tools', TOOLS.join(',')];
      const run = startCcrescue(
        ['resume', crash.sessionId, '--claude-dir', crash.claudeDir, '--claude-bin', clientCommand('2.1.328').command, '--json', '--', ...clientArgs],
        { cwd: crash.root, env },
      );

      // It comes back only once ccrescue has seen it fail three times.
      await run.stderrMatch(/^check 3: unreachable .*$/m, 30_000);
      expect(crash.mock.requests.length).toBe(requestsWhileClosed);
      await crash.mock.listen();
      const reopenedAt = Date.now();

      const exit = await exitOf(run, 100_000);
      expect(exit.code, exit.stderr).toBe(0);
      const doc = parseDoc(exit);
      expect(doc.status).toBe('repaired');
      expect(doc.started).toBe(true);
      expect(doc.client_exit_code).toBe(0);
      // --claude-dir names the default ~/.claude: the client keeps its global config (~/.claude.json).
      expect(exit.stderr).not.toContain('Claude configuration file not found');
      const newId = doc.snapshot.repaired_session_id!;
      const prompt = doc.snapshot.continuation_prompt!;
      expect(newId).toMatch(/^[0-9a-f-]{36}$/);
      expect(newId).not.toBe(crash.sessionId);
      expect(doc.written.session).toBe(join(crash.claudeDir, 'projects', encodeCwd(crash.projectDir), `${newId}.jsonl`));
      expect(doc.written.snapshot).toBe(join(crash.claudeDir, 'projects', encodeCwd(crash.projectDir), `${newId}.recovery.json`));
      expect(existsSync(doc.written.snapshot!)).toBe(true);
      expect(prompt).toContain('[Recovered session]');

      // The checks: failures backing off 1 s, 2 s, 4 s (… capped at 30 s), then two answers in a row, and no check after.
      const checks = doc.checks;
      const failures = checks.filter((c) => !c.result.ok);
      expect(failures.length).toBeGreaterThanOrEqual(3);
      expect(checks.slice(0, failures.length)).toEqual(failures);
      failures.forEach((c, i) => {
        expect(c).toMatchObject({ attempt: i + 1, streak: 0, nextInMs: Math.min(30_000, 1000 * 2 ** i), result: { ok: false, status: null, reason: 'connection refused' } });
      });
      expect(failures.slice(0, 3).map((c) => c.nextInMs)).toEqual([1000, 2000, 4000]);
      const successes = checks.slice(failures.length);
      expect(successes).toEqual([
        { attempt: failures.length + 1, streak: 1, nextInMs: 1000, result: expect.objectContaining({ ok: true, status: 404, reason: null }) },
        { attempt: failures.length + 2, streak: 2, nextInMs: null, result: expect.objectContaining({ ok: true, status: 404, reason: null }) },
      ]);

      // stderr says the same, one line per check, and the client starts after the last one.
      expect(exit.stderr).toContain(`waiting for the API at ${crash.mock.baseUrl} (`);
      const lines = exit.stderr.split('\n');
      expect(checkLines(exit.stderr)).toHaveLength(checks.length);
      checks.forEach((c, i) => expect(checkLines(exit.stderr)[i]).toMatch(expectedCheckLine(c)));
      expect(checkLines(exit.stderr).slice(0, 3)).toEqual([
        'check 1: unreachable (connection refused); next check in 1 s',
        'check 2: unreachable (connection refused); next check in 2 s',
        'check 3: unreachable (connection refused); next check in 4 s',
      ]);
      const back = lines.findIndex((l) => l.endsWith('; the API is back'));
      const starting = lines.findIndex((l) => l.startsWith('starting: '));
      expect(back).toBeGreaterThan(0);
      expect(starting).toBe(back + 1);
      expect(lines[starting]).toBe(`starting: ${clientCommand('2.1.328').command} --resume ${newId} <continuation prompt> (in ${crash.projectDir})`);
      expect(lines.slice(starting).some((l) => /^check \d+: /.test(l))).toBe(false);
      // With --json the client's own stdout (its stream-json) went to stderr, leaving stdout to ccrescue's document.
      const jsonType = (l: string): unknown => {
        try {
          return (JSON.parse(l) as { type?: unknown }).type;
        } catch {
          return undefined;
        }
      };
      expect(lines.slice(starting).map(jsonType)).toContain('result');

      // The waits were real: each check came about its delay after the one before.
      const checkTimes = run.lineTimes.filter((t) => /^check \d+: /.test(t.line));
      for (let i = 1; i < checkTimes.length; i++) {
        expect(checkTimes[i]!.at - checkTimes[i - 1]!.at, `${checkTimes[i - 1]!.line} -> ${checkTimes[i]!.line}`).toBeGreaterThanOrEqual(checks[i - 1]!.nextInMs! - 250);
      }

      // The mock: nothing while it was closed; after it re-opened, the two health checks, then the resumed client.
      const after = crash.mock.requests.slice(requestsWhileClosed);
      const health = after.filter(isHealthCheck);
      expect(health.map((r) => [r.path, r.answer])).toEqual([
        ['/v1/models', 'other'],
        ['/v1/models', 'other'],
      ]);
      expect(crash.mock.requests.slice(0, requestsWhileClosed).filter(isHealthCheck)).toEqual([]);
      for (const r of health) expect(Date.parse(r.at)).toBeGreaterThanOrEqual(reopenedAt - 5);
      expect(Date.parse(health[1]!.at) - Date.parse(health[0]!.at)).toBeGreaterThanOrEqual(1000 - 250);
      const resumed = mainLoop(after);
      expect(resumed.length).toBeGreaterThan(0);
      expect(after.indexOf(resumed[0]!)).toBeGreaterThan(after.indexOf(health[1]!));

      // The resumed client's first request: valid, the whole repaired history, every call answered, the prompt last.
      const first = resumed[0]!;
      expect(first.issues).toEqual([]);
      expect(first.valid).toBe(true);
      const messages = messagesOf(first);
      const sent = messages.flatMap(blocks);
      expect(sent.filter((b) => b.type === 'tool_use').map((b) => b.id)).toEqual(toolUseIds);
      expect(new Set(sent.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id))).toEqual(new Set(toolUseIds));
      const interrupted = doc.snapshot.active_tool_calls.filter((c) => c.status === 'pending_result');
      expect(interrupted.map((c) => c.tool_use_id)).toContain('toolu_h_bash');
      for (const call of interrupted) {
        const result = sent.find((b) => b.type === 'tool_result' && b.tool_use_id === call.tool_use_id)!;
        expect(result.is_error).toBe(true);
        expect(textOf(result)).toMatch(/^connection_lost: /);
      }
      const lastUser = messages.filter((m) => m.role === 'user').at(-1)!;
      expect(blocks(lastUser).map(textOf).join('\n')).toContain(prompt.trim());

      // The resumed turn went into the repaired session; the original is untouched.
      const entries = conversationEntries(await readSessionEntries(doc.written.session!));
      const promptAt = entries.findIndex((e) => e.type === 'user' && entryText(e).includes(prompt.trim()));
      expect(promptAt).toBeGreaterThan(0);
      expect(entries.slice(promptAt + 1).some((e) => e.type === 'assistant' && entryText(e).includes(FINAL_TEXT))).toBe(true);
      expect(sha256(crash.sessionFile)).toBe(originalHash);
    },
    LONG_TEST_TIMEOUT_MS,
  );
});

describe('ccrescue resume with a stand-in client', () => {
  let root: string;
  let mock: MockApi;
  let client: FakeClient;

  beforeAll(async () => {
    mock = await startMockApi();
  });

  afterAll(async () => {
    await mock?.close();
  });

  beforeEach(async () => {
    root = await tempRoot();
    client = fakeClient(root);
    mock.requests.length = 0;
  });

  afterEach(async () => {
    endAllRuns();
    await rm(root, { recursive: true, force: true });
  });

  /** ccrescue's environment: a throwaway HOME (so no settings file), the mock's URL, the run marker. */
  const envFor = (apiUrl: string = mock.baseUrl): Record<string, string> => clientEnv(join(root, 'home'), apiUrl).env;

  it('--no-wait starts the client at once with --resume <new id> <prompt> <options after -->, in the session cwd, and exits with its code', async () => {
    const session = installFixture(root, join(root, 'work', 'proj'));
    const original = sha256(session.sessionFile);
    mkdirSync(join(root, 'elsewhere'));
    const exit = await runCcrescue(['resume', session.sessionId.slice(0, 8), '--no-wait', '--json', '--claude-dir', session.claudeDir, '--claude-bin', client.bin, '--', '--model', 'opus'], {
      cwd: join(root, 'elsewhere'),
      env: envFor(),
    });
    expect(exit.code, exit.stderr).toBe(7);
    const doc = parseDoc(exit);
    expect(doc).toMatchObject({ status: 'repaired', checks: [], started: true, client_exit_code: 7 });
    const newId = doc.snapshot.repaired_session_id!;
    expect(client.argv()).toEqual(['--resume', newId, doc.snapshot.continuation_prompt, '--model', 'opus']);
    expect(client.cwd()).toBe(session.cwd);
    expect(client.configDir()).toBe(session.claudeDir);
    expect(doc.resume_command).toContain(`--resume ${newId} '[Recovered session]`);
    expect(doc.resume_command).toContain(`CLAUDE_CONFIG_DIR=${session.claudeDir} `);
    expect(mock.requests).toEqual([]);
    expect(checkLines(exit.stderr)).toEqual([]);
    expect(exit.stderr).not.toContain('waiting for the API');
    expect(exit.stderr).not.toContain('warning:');
    expect(existsSync(join(session.folder, `${newId}.jsonl`))).toBe(true);
    expect(existsSync(join(session.folder, `${newId}.recovery.json`))).toBe(true);
    expect(sha256(session.sessionFile)).toBe(original);
  });

  it('a session whose directory is gone: the client starts in the current directory, with a warning', async () => {
    const gone = join(root, 'gone', 'proj');
    const session = installFixture(root, gone, false);
    mkdirSync(join(root, 'here'));
    const exit = await runCcrescue(['resume', session.sessionId, '--no-wait', '--claude-dir', session.claudeDir, '--claude-bin', client.bin], { cwd: join(root, 'here'), env: envFor() });
    expect(exit.code, exit.stderr).toBe(7);
    expect(exit.stderr).toContain(`warning: the session's directory ${gone} does not exist; starting the client in ${join(root, 'here')}\n`);
    expect(client.cwd()).toBe(join(root, 'here'));
    expect(client.argv()!.slice(0, 1)).toEqual(['--resume']);
    expect(client.argv()).toHaveLength(3);
  });

  it('--no-auto-resume waits for the API, then prints a resume command that works and starts nothing', async () => {
    const session = installFixture(root, join(root, 'work', 'proj'));
    mkdirSync(join(root, 'elsewhere'));
    const exit = await runCcrescue(['resume', session.sessionId, '--no-auto-resume', '--claude-dir', session.claudeDir, '--claude-bin', client.bin, '--', '--model', 'opus'], {
      cwd: join(root, 'elsewhere'),
      env: envFor(),
    });
    expect(exit.code, exit.stderr).toBe(0);
    expect(client.argv()).toBeUndefined();
    expect(exit.stderr).not.toContain('starting: ');
    expect(checkLines(exit.stderr).map((l) => l.replace(/, \d+ ms\)/, ', N ms)'))).toEqual([
      'check 1: answered (HTTP 404, N ms), 1 in a row; next check in 1 s',
      'check 2: answered (HTTP 404, N ms), 2 in a row; the API is back',
    ]);
    expect(mock.requests.filter(isHealthCheck).map((r) => r.path)).toEqual(['/v1/models', '/v1/models']);
    expect(mock.requests).toHaveLength(2);

    // stdout is the command alone; run from anywhere, it starts the client as ccrescue would have.
    const newId = readdirSync(session.folder).find((n) => n.endsWith('.recovery.json'))!.replace('.recovery.json', '');
    const snapshot = JSON.parse(readFileSync(join(session.folder, `${newId}.recovery.json`), 'utf8')) as ResumeDoc['snapshot'];
    expect(exit.stdout).toContain(`CLAUDE_CONFIG_DIR=${session.claudeDir} `);
    expect(exit.stdout).toContain(`cd ${session.cwd} && `);
    expect(exit.stdout).toContain(`${client.bin} --resume ${newId} '[Recovered session]`);
    expect(exit.stdout.endsWith("' --model opus\n"), exit.stdout).toBe(true);
    expect(runPrinted(exit.stdout, join(root, 'elsewhere'))).toBe(7);
    expect(client.argv()).toEqual(['--resume', newId, snapshot.continuation_prompt, '--model', 'opus']);
    expect(client.cwd()).toBe(session.cwd);
    // The client must look the session up in the Claude dir it is in, not in ~/.claude.
    expect(client.configDir(), `the printed command:\n${exit.stdout}`).toBe(session.claudeDir);
  });

  it('a healthy session is resumed as it is: --resume <its own id>, no prompt, nothing written', async () => {
    const session = installHealthy(root, join(root, 'work', 'hello'));
    const exit = await runCcrescue(['resume', session.sessionId, '--no-wait', '--claude-dir', session.claudeDir, '--claude-bin', client.bin], { cwd: root, env: envFor() });
    expect(exit.code, exit.stderr).toBe(7);
    expect(exit.stderr).toContain(`${session.sessionFile}: healthy; resuming it as it is\n`);
    expect(client.argv()).toEqual(['--resume', HEALTHY_SESSION_ID]);
    expect(client.cwd()).toBe(session.cwd);
    expect(readdirSync(session.folder)).toEqual([basename(session.sessionFile)]);
    expect(mock.requests).toEqual([]);
  });

  it('a live session is refused: exit 3, no health check, nothing written or started', async () => {
    const session = installFixture(root, join(root, 'work', 'proj'));
    // This test's own process stands in for the running client that owns the session.
    writeFileSync(join(session.claudeDir, 'sessions', `${process.pid}.json`), JSON.stringify({ pid: process.pid, sessionId: session.sessionId, cwd: session.cwd, status: 'busy' }));
    const exit = await runCcrescue(['resume', session.sessionId, '--claude-dir', session.claudeDir, '--claude-bin', client.bin], { cwd: root, env: envFor() });
    expect(exit.code, exit.stderr).toBe(3);
    expect(exit.stderr).toContain(`pid ${process.pid}`);
    expect(exit.stderr).not.toMatch(/^\s+at /m);
    expect(client.argv()).toBeUndefined();
    expect(readdirSync(session.folder)).toEqual([basename(session.sessionFile)]);
    expect(mock.requests).toEqual([]);
  });

  it('Ctrl+C while waiting: exit 130 with the command to run later; the repaired session and snapshot are kept; nothing started', async () => {
    const session = installFixture(root, join(root, 'work', 'proj'));
    // A port that refuses connections and stays so.
    const down = await startMockApi();
    await down.close();
    const run = startCcrescue(['resume', session.sessionId, '--claude-dir', session.claudeDir, '--claude-bin', client.bin], { cwd: root, env: envFor(down.baseUrl) });
    await run.stderrMatch(/^check 1: unreachable \(connection refused\); next check in 1 s$/m, 30_000);
    process.kill(run.pid, 'SIGINT');
    const exit = await exitOf(run, 10_000);
    expect(exit.code, exit.stderr).toBe(130);
    expect(client.argv()).toBeUndefined();
    expect(exit.stderr).not.toContain('starting: ');
    expect(down.requests).toEqual([]);
    const newId = /^repaired session: .*\/([0-9a-f-]{36})\.jsonl$/m.exec(exit.stderr)?.[1];
    expect(newId, exit.stderr).toBeDefined();
    expect(existsSync(join(session.folder, `${newId!}.jsonl`))).toBe(true);
    expect(existsSync(join(session.folder, `${newId!}.recovery.json`))).toBe(true);
    // The command to run later (its prompt spans lines), then the one-line reason.
    const later = new RegExp(`^${STOPPED}\\n([^]*)\\nccrescue: stopped while waiting for the API\\n$`, 'm').exec(exit.stderr)?.[1];
    expect(later, exit.stderr).toBeDefined();
    expect(later).toContain(`CLAUDE_CONFIG_DIR=${session.claudeDir} `);
    expect(later).toContain(`cd ${session.cwd} && `);
    expect(later).toContain(`${client.bin} --resume ${newId!} '[Recovered session]`);
    expect(later).toMatch(/'$/);
    // No check after the interrupt.
    expect(checkLines(exit.stderr)).toHaveLength(1);
  });
});
