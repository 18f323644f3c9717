// `ccrescue guard -- claude …` end to end, with the real 2.1.328 client against the mock API: a stalled stream is
// cut and the client carries on at once, a 4-minute outage is waited out, and everything else passes through as is.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { RecoverySnapshot } from '../../src/write/snapshot.js';
import type { GuardEvent } from '../../src/guard/proxy.js';
import { clientCommand, clientEnv, endAllRuns, makeHome, printModeArgs, runClient, sessionFileOf } from './client.js';
import { startMockApi, type MockApi, type ScriptedTurn } from './mock-api.js';
import { blocksOfEntry, conversationEntries, describeExit, readSessionEntries, seedProject, type SessionEntry } from './scenarios.js';
import { blocks, isHealthCheck, mainLoop, messagesOf, textOf } from './messages.js';

const CLAUDE = clientCommand('2.1.328').command;
const STREAM_TIMEOUT_MS = 5_000;
const CUT_OFF = 'Your response above was cut off mid-stream.';

// ---------------------------------------------------------------------------------------------------------------
// Running `ccrescue guard` in the background

interface GuardExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** performance.now() when it exited. */
  at: number;
}

interface GuardRun {
  pid: number;
  /** performance.now() when it was started. */
  startedAt: number;
  exited: Promise<GuardExit>;
}

/** Starts `ccrescue guard <args>` with stdin at EOF (print mode reads stdin until EOF when it is not a TTY; the client inherits it). */
function startGuard(args: string[], options: { cwd: string; env: Record<string, string> }): GuardRun {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [BIN, 'guard', ...args], { cwd: options.cwd, env: { ...options.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start ccrescue guard');
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<GuardExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, at: performance.now() }));
  });
  return { pid: child.pid, startedAt, exited };
}

interface GuardDoc {
  listen: string;
  upstream: string;
  stream_timeout_ms: number;
  max_wait_ms: number;
  exit_code: number | null;
  requests: number;
  streams: number;
  streams_cut: number;
  requests_held: number;
  events: GuardEvent[];
}

function parseDoc(exit: GuardExit): GuardDoc {
  expect(exit.stdout.trim().startsWith('{'), `stdout is not one JSON document:\n${exit.stdout}\nstderr:\n${exit.stderr}`).toBe(true);
  return JSON.parse(exit.stdout) as GuardDoc;
}

const guardLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line.startsWith('ccrescue guard: '));

/** The `result` line of the client's stream-json output. */
function clientResult(output: string): { subtype?: string; is_error?: boolean; result?: string } | undefined {
  for (const line of output.split('\n')) {
    try {
      const parsed = JSON.parse(line) as { type?: string; subtype?: string; is_error?: boolean; result?: string };
      if (parsed.type === 'result') return parsed;
    } catch {
      // not a stream-json line
    }
  }
  return undefined;
}

const describeGuard = (exit: GuardExit): string => `code ${String(exit.code)} signal ${String(exit.signal)}; stderr:\n${exit.stderr.slice(-6000)}`;

// ---------------------------------------------------------------------------------------------------------------


const entryText = (e: SessionEntry): string =>
  typeof e.message?.content === 'string' ? e.message.content : blocksOfEntry(e).map((b) => (typeof b.text === 'string' ? b.text : '')).join('');

interface Project {
  root: string;
  projectDir: string;
  home: string;
}

async function tempProject(cleanups: (() => Promise<unknown>)[], prefix: string): Promise<Project> {
  const root = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const projectDir = join(root, 'work', 'proj');
  await seedProject(projectDir);
  const home = await makeHome([projectDir], join(root, 'home'));
  return { root, projectDir, home };
}

const DIV_FILE = 'src/div.js';
const DIV_CONTENT = 'function div(a, b) {\n  return a / b;\n}\n\nmodule.exports = { div };\n';

describe('ccrescue guard with the real 2.1.328 client', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    endAllRuns();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('cuts a stream stalled mid tool input after 5 s: the client salvages and retries at once, the task is done, one snapshot', async () => {
    const { projectDir, home } = await tempProject(cleanups, 'ccrescue-guard-stall-');
    const write = (id: string) => ({ type: 'tool_use' as const, id, name: 'Write', input: { file_path: join(projectDir, DIV_FILE), content: DIV_CONTENT } });
    const turns: ScriptedTurn[] = [
      // The stream stops after 3 chunks of the Write's input, the socket open (doc §5 e2).
      { content: [{ type: 'text', text: "I'll write the module." }, write('toolu_guard_stalled')], fault: { type: 'stall', after: { event: 'content_block_delta', index: 1, nth: 3 } } },
      // The client's new request after the cut: it gets the whole answer.
      { content: [{ type: 'text', text: 'Writing src/div.js.' }, write('toolu_guard_write')] },
      { content: [{ type: 'text', text: 'Added div() in src/div.js.' }] },
    ];
    const mock = await startMockApi({ turns });
    cleanups.push(() => mock.close());
    let stalledAt = Number.NaN;
    mock.on('fault', () => (stalledAt = performance.now()));
    let retriedAt = Number.NaN;
    mock.on('request', (r) => {
      if (r.turnIndex === 1) retriedAt = performance.now();
    });

    const { env } = clientEnv(home, mock.baseUrl);
    const run = startGuard(['--stream-timeout-ms', String(STREAM_TIMEOUT_MS), '--json', '--', CLAUDE, ...printModeArgs('2.1.328', 'Add a div() module in src/div.js.')], { cwd: projectDir, env });
    const exit = await run.exited;
    const wallMs = exit.at - run.startedAt;
    console.log(`stall: wall ${Math.round(wallMs)} ms; cut → retry request ${Math.round(retriedAt - stalledAt)} ms after the stall`);

    expect(exit.code, describeGuard(exit)).toBe(0);
    const doc = parseDoc(exit);
    expect(doc.exit_code).toBe(0);
    expect(doc.streams_cut).toBe(1);
    expect(readFileSync(join(projectDir, DIV_FILE), 'utf8')).toBe(DIV_CONTENT);
    expect(clientResult(exit.stderr)).toMatchObject({ subtype: 'success', is_error: false });

    const sessionFile = sessionFileOf(home, projectDir)!;
    expect(sessionFile).toBeDefined();
    const sessionId = basename(sessionFile, '.jsonl');
    const snapshotPath = sessionFile.replace(/\.jsonl$/, '.recovery.json');

    // One line for the cut, naming the session, the snapshot and the command to run if the session dies.
    const lost = guardLines(exit.stderr).filter((line) => line.startsWith('ccrescue guard: connection lost'));
    expect(lost, exit.stderr).toHaveLength(1);
    expect(lost[0]).toContain(`session ${sessionId}`);
    expect(lost[0]).toContain(`the stream was silent for 5 s`);
    expect(lost[0]).toContain(`: ${snapshotPath};`);
    expect(lost[0]!.endsWith(`ccrescue recover ${sessionId}`)).toBe(true);
    const lostEvents = doc.events.filter((e) => e.type === 'lost');
    expect(lostEvents).toEqual([expect.objectContaining({ type: 'lost', cause: 'silent', sessionId, blocks: 1, snapshot: expect.objectContaining({ snapshot: snapshotPath, error: null }) })]);
    expect(doc.events.filter((e) => e.type !== 'lost')).toEqual([]);

    // The snapshot is there and valid.
    expect(existsSync(snapshotPath)).toBe(true);
    const snapshot = RecoverySnapshot.parse(JSON.parse(readFileSync(snapshotPath, 'utf8')));
    expect(snapshot.session_id).toBe(sessionId);
    expect(snapshot.source_file).toBe(sessionFile);

    // Wall time: the 5 s cut plus the client's own work, far from its 300 s idle watchdog.
    expect(wallMs).toBeLessThan(STREAM_TIMEOUT_MS + 10_000);

    // The mock: every request valid; the new request after the cut carries the salvaged text and the cut-off note.
    expect(mock.requests.filter((r) => !r.valid)).toEqual([]);
    expect(mock.failures).toEqual([]);
    expect(mock.requests.filter((r) => r.answer === 'turn').map((r) => r.turnIndex)).toEqual([0, 1, 2]);
    const retry = mock.requests.find((r) => r.turnIndex === 1)!;
    expect(retry.issues).toEqual([]);
    const sent = messagesOf(retry);
    const first = mock.requests.find((r) => r.turnIndex === 0)!;
    expect(sent.length).toBeGreaterThan(messagesOf(first).length);
    const assistants = sent.filter((m) => m.role === 'assistant');
    expect(assistants.flatMap(blocks)).toEqual([{ type: 'text', text: "I'll write the module." }]);
    expect(JSON.stringify(sent)).not.toContain('toolu_guard_stalled');
    const lastUser = sent.at(-1)!;
    expect(lastUser.role).toBe('user');
    expect(blocks(lastUser).map(textOf).join('\n')).toContain(CUT_OFF);

    // The session: the salvaged text, the note, the Write and its result, the final text.
    const conversation = conversationEntries(await readSessionEntries(sessionFile));
    expect(conversation.some((e) => e.type === 'assistant' && entryText(e) === "I'll write the module.")).toBe(true);
    expect(conversation.some((e) => e.type === 'user' && e.isMeta === true && entryText(e).includes(CUT_OFF))).toBe(true);
    const results = conversation.flatMap(blocksOfEntry).filter((b) => b.type === 'tool_result');
    expect(results.map((b) => [b.tool_use_id, b.is_error ?? false])).toEqual([['toolu_guard_write', false]]);
    expect(entryText(conversation.at(-1)!)).toBe('Added div() in src/div.js.');
  }, 60_000);

  it(
    'waits out a 4-minute outage: checks back off 1, 2, 4 … 30 s, the turn goes through after 2 answers in a row; the client alone gives up',
    async () => {
      const guarded = await tempProject(cleanups, 'ccrescue-guard-outage-');
      const alone = await tempProject(cleanups, 'ccrescue-guard-alone-');
      // A port that refuses connections: the mock's, closed before anything starts.
      const probe = await startMockApi();
      const port = probe.port;
      await probe.close();
      const apiUrl = `http://127.0.0.1:${port}`;
      const args = printModeArgs('2.1.328', 'What does the README say?');

      // Both start at the same moment against the closed port: through the guard, and alone.
      const { env } = clientEnv(guarded.home, apiUrl);
      const run = startGuard(['--stream-timeout-ms', String(STREAM_TIMEOUT_MS), '--json', '--', CLAUDE, ...args], { cwd: guarded.projectDir, env });
      const control = runClient({ version: '2.1.328', home: alone.home, cwd: alone.projectDir, apiUrl, args });
      const controlDone = control.exited.then((exit) => ({ exit, at: performance.now() }));

      // The port opens after OUTAGE_MS: a new mock on it.
      const early = await Promise.race([sleep(OUTAGE_MS).then(() => null), run.exited]);
      expect(early, early === null ? '' : `the guard exited during the outage: ${describeGuard(early)}`).toBeNull();
      const mock = await startMockApi({ port, finalText: OUTAGE_TEXT });
      cleanups.push(() => mock.close());
      const reopenedAt = performance.now();

      const exit = await run.exited;
      const { exit: controlExit, at: controlAt } = await controlDone;

      expect(exit.code, describeGuard(exit)).toBe(0);
      const doc = parseDoc(exit);
      expect(doc.exit_code).toBe(0);
      expect(doc.max_wait_ms).toBe(300_000);
      expect(clientResult(exit.stderr)).toMatchObject({ subtype: 'success', is_error: false, result: OUTAGE_TEXT });

      // The checks: refused, backing off 1, 2, 4, 8, 16, 30, 30 … s; then answered twice in a row, and no check after.
      const checks = doc.events.flatMap((e) => (e.type === 'check' ? [e.check] : []));
      const failures = checks.filter((c) => !c.result.ok);
      expect(checks.slice(0, failures.length)).toEqual(failures);
      expect(failures.length).toBeGreaterThanOrEqual(8);
      failures.forEach((c, i) => {
        expect(c).toMatchObject({ attempt: i + 1, streak: 0, nextInMs: Math.min(30_000, 1000 * 2 ** i), result: { ok: false, status: null, reason: 'connection refused' } });
      });
      expect(failures.slice(0, 8).map((c) => c.nextInMs! / 1000)).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
      expect(checks.slice(failures.length)).toEqual([
        { attempt: failures.length + 1, streak: 1, nextInMs: 1000, result: expect.objectContaining({ ok: true, status: 404, reason: null }) },
        { attempt: failures.length + 2, streak: 2, nextInMs: null, result: expect.objectContaining({ ok: true, status: 404, reason: null }) },
      ]);
      // The outage was noticed by a request, reported once as lost (once its snapshot was written), and ended with the
      // held request sent.
      const kinds = doc.events.map((e) => e.type);
      expect(kinds.filter((k) => k === 'gave-up' || k === 'refused')).toEqual([]);
      const lost = doc.events.filter((e) => e.type === 'lost');
      expect(lost).toEqual([expect.objectContaining({ cause: 'unreachable', reason: 'connection refused' })]);
      const back = doc.events.filter((e) => e.type === 'back');
      expect(back).toEqual([expect.objectContaining({ attempts: checks.length })]);
      expect(kinds.lastIndexOf('check')).toBeLessThan(kinds.indexOf('back'));
      expect(doc.requests_held).toBeGreaterThanOrEqual(1);
      expect((back[0] as { waiting: number }).waiting).toBeGreaterThanOrEqual(1);

      // The mock, once open: the guard's two checks, then the client's request, valid, and nothing before the second check.
      expect(mock.failures).toEqual([]);
      const health = mock.requests.filter(isHealthCheck);
      expect(health.map((r) => r.path)).toEqual(['/v1/models', '/v1/models']);
      const turns = mainLoop(mock.requests);
      expect(turns.length).toBeGreaterThan(0);
      expect(turns.filter((r) => !r.valid)).toEqual([]);
      expect(mock.requests.indexOf(turns[0]!)).toBeGreaterThan(mock.requests.indexOf(health[1]!));
      const guardedFile = sessionFileOf(guarded.home, guarded.projectDir)!;
      const guardedId = basename(guardedFile, '.jsonl');
      expect(turns.every((r) => r.headers['x-claude-code-session-id'] === guardedId)).toBe(true);
      // The snapshot of the session that met the outage, though its first request came before its file.
      const snapshotPath = guardedFile.replace(/\.jsonl$/, '.recovery.json');
      expect(lost[0]).toMatchObject({ sessionId: guardedId, snapshot: { file: guardedFile, snapshot: snapshotPath, error: null } });
      expect(RecoverySnapshot.parse(JSON.parse(readFileSync(snapshotPath, 'utf8'))).session_id).toBe(guardedId);
      const lostLines = guardLines(exit.stderr).filter((line) => line.startsWith('ccrescue guard: connection lost'));
      expect(lostLines).toHaveLength(1);
      expect(lostLines[0]).toContain(`session ${guardedId}: ${apiUrl} is unreachable (connection refused)`);
      expect(lostLines[0]).toContain(`: ${snapshotPath}; if the session dies, run: ccrescue recover ${guardedId}`);
      // stderr: one line per check, as `resume` words them.
      const checkLines = guardLines(exit.stderr).filter((line) => /^ccrescue guard: check \d+: /.test(line));
      expect(checkLines).toHaveLength(checks.length);
      expect(checkLines.slice(0, 3)).toEqual([
        'ccrescue guard: check 1: unreachable (connection refused); next check in 1 s',
        'ccrescue guard: check 2: unreachable (connection refused); next check in 2 s',
        'ccrescue guard: check 3: unreachable (connection refused); next check in 4 s',
      ]);
      expect(checkLines.at(-1)).toMatch(new RegExp(`^ccrescue guard: check ${checks.length}: answered \\(HTTP 404, \\d+ ms\\), 2 in a row; the API is back$`));

      // The session ends with the answer, with no API error on the way.
      const entries = await readSessionEntries(guardedFile);
      expect(entries.filter((e) => e.isApiErrorMessage === true || (e.type === 'system' && e.subtype === 'api_error'))).toEqual([]);
      const conversation = conversationEntries(entries);
      expect(conversation.at(-1)?.type).toBe('assistant');
      expect(blocksOfEntry(conversation.at(-1)!)).toEqual([{ type: 'text', text: OUTAGE_TEXT }]);

      // The client alone gave up during the same outage: a non-zero exit, and no request of its session reached the mock.
      expect(controlExit.code, describeExit(controlExit)).not.toBe(0);
      expect(controlExit.code, describeExit(controlExit)).not.toBeNull();
      const aloneFile = sessionFileOf(alone.home, alone.projectDir);
      const aloneId = aloneFile === undefined ? null : basename(aloneFile, '.jsonl');
      expect(mock.requests.filter((r) => r.headers['x-claude-code-session-id'] === aloneId && aloneId !== null)).toEqual([]);

      const checkDelays = failures.map((c) => c.nextInMs! / 1000).join(', ');
      console.log(
        `outage: port opened ${Math.round((reopenedAt - run.startedAt) / 1000)} s after the start; guard exit ${exit.code} after ${Math.round((exit.at - run.startedAt) / 1000)} s; ` +
          `${checks.length} checks (${failures.length} refused, delays ${checkDelays} s; then 2 answered), down ${Math.round((back[0] as { downMs: number }).downMs / 1000)} s, ${doc.requests_held} held; ` +
          `client alone: exit ${String(controlExit.code)} after ${Math.round((controlAt - run.startedAt) / 1000)} s (${clientResult(controlExit.stdout)?.result ?? 'no result line'})`,
      );
    },
    OUTAGE_TEST_TIMEOUT_MS,
  );

  it('passes requests and responses through unchanged: the same session direct and through the guard', async () => {
    interface Side {
      project: Project;
      mock: MockApi;
      stdout: string;
      sessionFile: string;
    }
    const runOnce = async (via: 'direct' | 'guard'): Promise<Side> => {
      const project = await tempProject(cleanups, 'ccrescue-guard-same-');
      // The same commit hash in both projects: the client puts it in the request (gitStatus).
      pinSeedCommit(project.projectDir);
      const mock = await startMockApi({ turns: sameTurns(project.projectDir), keepRawBodies: true });
      cleanups.push(() => mock.close());
      const args = printModeArgs('2.1.328', 'What does the README say?');
      let stdout: string;
      if (via === 'direct') {
        const exit = await runClient({ version: '2.1.328', home: project.home, cwd: project.projectDir, apiUrl: mock.baseUrl, args }).exited;
        expect(exit.code, describeExit(exit)).toBe(0);
        stdout = exit.stdout;
      } else {
        const { env } = clientEnv(project.home, mock.baseUrl);
        const exit = await startGuard(['--stream-timeout-ms', String(STREAM_TIMEOUT_MS), '--', CLAUDE, ...args], { cwd: project.projectDir, env }).exited;
        expect(exit.code, describeGuard(exit)).toBe(0);
        // Without --json the client's stdout is the guard's; the guard said only where it listens.
        expect(guardLines(exit.stderr)).toHaveLength(1);
        stdout = exit.stdout;
      }
      return { project, mock, stdout, sessionFile: sessionFileOf(project.home, project.projectDir)! };
    };
    const direct = await runOnce('direct');
    const guarded = await runOnce('guard');

    // The requests: the same ones, in the same order, every one valid.
    for (const side of [direct, guarded]) {
      expect(side.mock.requests.filter((r) => !r.valid)).toEqual([]);
      expect(side.mock.requests.map((r) => [r.path, r.answer, r.turnIndex])).toEqual([
        ['/v1/messages', 'turn', 0],
        ['/v1/messages', 'turn', 1],
      ]);
    }
    // Their bodies, byte for byte, and headers are identical but for the session (its id, the HOME's device id), the
    // temporary root, the host the request was addressed to, and the date.
    const requests = (side: Side): unknown => {
      const n = new Normaliser(side.project.root);
      return side.mock.requests.map((r) => ({ headers: n.value(omit(r.headers, ['host'])), body: n.value(r.raw) }));
    };
    expect(guarded.mock.requests.every((r) => typeof r.raw === 'string' && r.raw.length > 0)).toBe(true);
    expect(requests(guarded)).toEqual(requests(direct));
    expect(guarded.mock.requests[0]!.headers.host).toBe(`127.0.0.1:${guarded.mock.port}`);

    // The sessions: the same entries. Bookkeeping lines the client writes while a turn runs (last-prompt, atis-latch,
    // tools-used) land where the timing puts them, in runs without the guard too: they are compared as a set, and a
    // last-prompt's leaf (the newest entry when it was written) only has to be an entry of the file.
    const sessions = async (side: Side): Promise<{ ordered: unknown[]; bookkeeping: unknown[]; lastLeaf: unknown }> => {
      const n = new Normaliser(side.project.root);
      const entries = await readSessionEntries(side.sessionFile);
      const ordered = entries.filter((e) => !TIMING_PLACED.has(e.type ?? '')).map((e) => n.value(e));
      const placed = entries.filter((e) => TIMING_PLACED.has(e.type ?? ''));
      const uuids = new Set(entries.map((e) => e.uuid));
      for (const e of placed) if (e.type === 'last-prompt') expect(uuids.has(e.leafUuid), JSON.stringify(e)).toBe(true);
      const bookkeeping = [...new Set(placed.map((e) => JSON.stringify(n.value(omit(e, ['leafUuid'])))))].sort();
      const lastLeaf = n.value(placed.filter((e) => e.type === 'last-prompt').at(-1)?.leafUuid);
      expect(lastLeaf).toBe(n.value(entries.filter((e) => e.type === 'assistant').at(-1)?.uuid));
      return { ordered, bookkeeping, lastLeaf };
    };
    expect(await sessions(guarded)).toEqual(await sessions(direct));

    // The responses reached the client byte for byte: the session holds the scripted blocks, and the client's
    // stream-json output is the same as without the guard.
    const assistant = conversationEntries(await readSessionEntries(guarded.sessionFile))
      .filter((e) => e.type === 'assistant')
      .flatMap(blocksOfEntry);
    expect(assistant).toEqual(sameTurns(guarded.project.projectDir).flatMap((t) => t.content));
    const output = (side: Side): unknown => {
      const n = new Normaliser(side.project.root);
      return side.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => n.value(JSON.parse(l)));
    };
    expect(output(guarded)).toEqual(output(direct));
  }, 120_000);
});

const OUTAGE_MS = 240_000;
const OUTAGE_TEST_TIMEOUT_MS = 420_000;
const OUTAGE_TEXT = 'The README describes a tiny project; the API is back.';
/** Session entry types the client writes when the timing says, not at a fixed place in the file. */
const TIMING_PLACED = new Set(['last-prompt', 'atis-latch', 'tools-used']);

function sameTurns(projectDir: string): ScriptedTurn[] {
  return [
    { content: [{ type: 'text', text: 'Let me read the README.' }, { type: 'tool_use', id: 'toolu_same_read', name: 'Read', input: { file_path: join(projectDir, 'README.md') } }] },
    { content: [{ type: 'text', text: 'The README describes a tiny project for the end-to-end tests.' }] },
  ];
}

/** Re-commits the seeded project with fixed dates, so that every seeded project has the same commit hash. */
function pinSeedCommit(projectDir: string): void {
  const date = '2026-01-01T00:00:00Z';
  execFileSync('git', ['-c', 'user.name=ccrescue e2e', '-c', 'user.email=e2e@ccrescue.invalid', '-c', 'commit.gpgsign=false', 'commit', '--amend', '-q', '--no-edit', '--reset-author', '--date', date], {
    cwd: projectDir,
    env: { ...process.env, GIT_COMMITTER_DATE: date },
    stdio: 'ignore',
  });
}

function omit<T extends Record<string, unknown>>(record: T, keys: string[]): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key))) as Partial<T>;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const SHA256 = /\b[0-9a-f]{64}\b/g;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\b/g;
/** A run that crosses midnight has two dates. */
const DATE = /\b\d{4}-\d{2}-\d{2}\b/g;
/** Fields that measure time. */
const TIMING_FIELD = /(?:ms|duration|durationwithoutretries)$|^starttime$/i;

/**
 * What must differ between two runs of the same session, made equal: the temporary root (and its encoded form in
 * project folder names), ids (uuids, and sha256 digests, which cover content holding paths), times and timing fields,
 * and the client's pid in its socket path. Each distinct id becomes `<id N>` in order of appearance, so the links
 * between entries (uuid → parentUuid, blob → request tail) are compared too.
 */
class Normaliser {
  private readonly ids = new Map<string, string>();
  private readonly encodedRoot: string;

  constructor(private readonly root: string) {
    this.encodedRoot = root.replace(/[^A-Za-z0-9]/g, '-');
  }

  value(v: unknown, key = ''): unknown {
    if (typeof v === 'string') return this.text(v);
    if (typeof v === 'number' && TIMING_FIELD.test(key)) return '<ms>';
    if (Array.isArray(v)) return v.map((item) => this.value(item));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, item]) => [k, this.value(item, k)]));
    return v;
  }

  private text(s: string): string {
    return s
      .replaceAll(this.root, '<root>')
      .replaceAll(this.encodedRoot, '<root->')
      .replace(ISO_TIME, '<time>')
      .replace(DATE, '<date>')
      .replace(/\/cc-socks\/\d+\.sock/g, '/cc-socks/<pid>.sock')
      .replace(UUID, (id) => this.id(id))
      .replace(SHA256, (id) => this.id(id));
  }

  private id(raw: string): string {
    let id = this.ids.get(raw);
    if (id === undefined) this.ids.set(raw, (id = `<id ${this.ids.size + 1}>`));
    return id;
  }
}
