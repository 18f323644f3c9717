// Reproduces the crashes of real-client-2.1.328.md §5 (c-bash-running, h-parallel-partial, d-edit-on-disk,
// b2-tooluse-block-closed) with the real 2.1.328 client and the mock API, so tests and fixtures start from
// genuine crashed sessions.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  findProcessByCmdline,
  killRun,
  makeHome,
  printModeArgs,
  runClient,
  sessionFileOf,
  waitFor,
  type ClientExit,
  type ClientVersion,
  type LeftoverProcess,
} from './client.js';
import { startMockApi, type MockApi, type RecordedRequest, type ScriptedTurn } from './mock-api.js';

export type CrashKind = 'bash-running' | 'parallel-running' | 'edit-on-disk' | 'write-dispatched';

/** When produceCrash SIGKILLs the client. */
export type KillTrigger =
  /** Once a process of the run whose command line holds `cmdline` is alive, `thenMs` later. */
  | { type: 'process'; cmdline: string; thenMs: number }
  /**
   * Once the content of `file` (relative to the project; undefined while it does not exist) satisfies `matches`,
   * checked every `pollMs` and on every fs.watch event of its folder. Then, if `thenSessionLine` is given, until a
   * line of the session file satisfies it (at most `sessionLineTimeoutMs`), and `thenMs` more.
   */
  | {
      type: 'file';
      file: string;
      matches: (content: string | undefined) => boolean;
      pollMs: number;
      thenSessionLine?: (entry: SessionEntry) => boolean;
      sessionLineTimeoutMs?: number;
      thenMs: number;
    };

/** Milliseconds since the client was started. */
export interface CrashTimings {
  /** The request that consumed the last scripted turn arrived. */
  lastTurnRequest: number | null;
  /** The trigger's condition was first seen. */
  triggered: number;
  /** The SIGKILL was sent. */
  killed: number;
}

export interface Crash {
  kind: CrashKind;
  /** Temporary root holding `work/proj` and `home`; removed by dispose(). */
  root: string;
  home: string;
  claudeDir: string;
  projectDir: string;
  sessionId: string;
  sessionFile: string;
  /** Still listening: a resume can run against it. */
  mock: MockApi;
  /** The requests of the crashed run. */
  requests: RecordedRequest[];
  clientPid: number;
  /** The run's MARKER_VAR value, carried by everything the client started. */
  marker: string;
  /** Processes of the run still alive after the client's SIGKILL, all ended since. */
  leftovers: LeftoverProcess[];
  timings: CrashTimings;
  dispose(): Promise<void>;
}

export const SLOW_JOB = 'scripts/slow-job.js';
const KILL_DELAY_MS = 1_500;
// Paced like a real stream, so 2.1.328 runs each tool while the rest of the message is still arriving (doc §5 h).
const STREAM_PACE_MS = 10;
const SLOW_JOB_TIMEOUT_MS = 60_000;
const TRIGGER_TIMEOUT_MS = 60_000;
/** What the edit-on-disk and write-dispatched turns do to the project. */
export const MATH_FILE = 'src/math.js';
export const EDIT_OLD = 'return a + b;';
export const EDIT_NEW = 'return Number(a) + Number(b);';
export const SUB_FILE = 'src/sub.js';
export const SUB_CONTENT = 'function sub(a, b) {\n  return a - b;\n}\n\nmodule.exports = { sub };\n';
const GIT_IDENTITY = ['-c', 'user.name=ccrescue e2e', '-c', 'user.email=e2e@ccrescue.invalid', '-c', 'commit.gpgsign=false'];

const SEED_FILES: Record<string, string> = {
  'package.json': `${JSON.stringify({ name: 'proj', version: '1.0.0', private: true, scripts: { test: 'node test.js' } }, null, 2)}\n`,
  'README.md': '# proj\n\nA tiny project that the end-to-end tests let Claude Code work on.\n',
  'src/math.js': 'function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n',
  'src/greet.js': "function greet(name) {\n  return `Hello, ${name}!`;\n}\n\nmodule.exports = { greet };\n",
  'test.js':
    "const assert = require('node:assert');\nconst { add } = require('./src/math');\nconst { greet } = require('./src/greet');\n\nassert.strictEqual(add(2, 3), 5);\nassert.strictEqual(greet('Ada'), 'Hello, Ada!');\nconsole.log('ok');\n",
  // 2.1.328 refuses a plain `sleep 30` in Bash, so the long-running command is a script.
  [SLOW_JOB]:
    "const { writeFileSync } = require('node:fs');\nconst { join } = require('node:path');\n\nsetTimeout(() => writeFileSync(join(__dirname, '..', 'slept.txt'), 'slept\\n'), 30_000);\n",
};

/** Writes the seeded project into `dir` and commits it on branch main. */
export async function seedProject(dir: string): Promise<void> {
  for (const [path, content] of Object.entries(SEED_FILES)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  const git = (...args: string[]): void => void execFileSync('git', [...GIT_IDENTITY, ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'Seed project');
}

function slowJobCall(id: string): ScriptedTurn['content'][number] {
  return { type: 'tool_use', id, name: 'Bash', input: { command: `node ${SLOW_JOB}`, description: 'Run the slow job' } };
}

/** The stream stops, the socket open, right after this block's content_block_stop: no message_delta, no message_stop. */
function stallAfterBlock(index: number): ScriptedTurn['fault'] {
  return { type: 'stall', after: { event: 'content_block_stop', index } };
}

/** The scripted turns of each crash; tool ids are fixed so tests can name them. */
export function crashTurns(kind: CrashKind, projectDir: string): ScriptedTurn[] {
  if (kind === 'bash-running') {
    return [{ content: [{ type: 'text', text: 'I will run the slow job now.' }, slowJobCall('toolu_c_bash')] }];
  }
  if (kind === 'edit-on-disk') {
    return [
      {
        content: [
          { type: 'text', text: 'Let me read the module first.' },
          { type: 'tool_use', id: 'toolu_d_read_math', name: 'Read', input: { file_path: join(projectDir, MATH_FILE) } },
        ],
      },
      {
        content: [
          { type: 'text', text: 'I will make add() coerce its inputs.' },
          { type: 'tool_use', id: 'toolu_d_edit_math', name: 'Edit', input: { file_path: join(projectDir, MATH_FILE), old_string: EDIT_OLD, new_string: EDIT_NEW } },
        ],
        // The Edit runs at its content_block_stop; the message never completes, so it is never written.
        fault: stallAfterBlock(1),
      },
    ];
  }
  if (kind === 'write-dispatched') {
    return [
      {
        content: [
          { type: 'text', text: "I'll write the module." },
          { type: 'tool_use', id: 'toolu_b2_write_sub', name: 'Write', input: { file_path: join(projectDir, SUB_FILE), content: SUB_CONTENT } },
        ],
        fault: stallAfterBlock(1),
      },
    ];
  }
  return [
    {
      content: [
        { type: 'text', text: 'Let me read both modules first.' },
        { type: 'tool_use', id: 'toolu_h_read_math', name: 'Read', input: { file_path: join(projectDir, 'src/math.js') } },
        { type: 'tool_use', id: 'toolu_h_read_greet', name: 'Read', input: { file_path: join(projectDir, 'src/greet.js') } },
      ],
    },
    {
      content: [
        { type: 'text', text: 'Now I will coerce the inputs, take notes, run the slow job and leave a marker.' },
        {
          type: 'tool_use',
          id: 'toolu_h_edit_math',
          name: 'Edit',
          input: { file_path: join(projectDir, 'src/math.js'), old_string: 'return a + b;', new_string: 'return Number(a) + Number(b);' },
        },
        { type: 'tool_use', id: 'toolu_h_write_notes', name: 'Write', input: { file_path: join(projectDir, 'NOTES.md'), content: '# Notes\n\nadd() now coerces its inputs.\n' } },
        slowJobCall('toolu_h_bash'),
        { type: 'tool_use', id: 'toolu_h_write_marker', name: 'Write', input: { file_path: join(projectDir, 'marker.txt'), content: 'done\n' } },
      ],
    },
  ];
}

export const PROMPTS: Record<CrashKind, string> = {
  'bash-running': 'Run the slow job.',
  'parallel-running': 'Make add() coerce its inputs, write notes, then run the slow job.',
  'edit-on-disk': 'Make add() coerce its inputs to numbers.',
  'write-dispatched': 'Add a sub() module in src/sub.js.',
};

/** When each crash's client is killed. */
export function killTrigger(kind: CrashKind): KillTrigger {
  switch (kind) {
    case 'bash-running':
    case 'parallel-running':
      return { type: 'process', cmdline: SLOW_JOB, thenMs: KILL_DELAY_MS };
    case 'edit-on-disk':
      // Killed the moment the Edit is on disk, before the client records it (doc §5 d: no delta line, a backup file).
      return { type: 'file', file: MATH_FILE, matches: (content) => content?.includes(EDIT_NEW) === true, pollMs: 1, thenMs: 0 };
    case 'write-dispatched':
      // Killed once the Write is on disk and its file-history-delta line is written (doc §5 b2).
      return {
        type: 'file',
        file: SUB_FILE,
        matches: (content) => content === SUB_CONTENT,
        pollMs: 5,
        thenSessionLine: (entry) => entry.type === 'file-history-delta' && entry.trackingPath === SUB_FILE,
        sessionLineTimeoutMs: 5_000,
        thenMs: 250,
      };
  }
}

/**
 * Runs 2.1.328 until the kind's kill trigger fires (the slow job has run for 1.5 s; an edited or written file is on
 * disk), SIGKILLs it and ends what it left running.
 * `rootDir` (default: a fresh temporary folder) must be empty or absent; it gets the project (`work/proj`) and HOME (`home`).
 */
/** Produces a crash of the given kind; `prompt` replaces the scenario's own first prompt (the mock's turns do not depend on it). */
export async function produceCrash(kind: CrashKind, rootDir?: string, prompt: string = PROMPTS[kind]): Promise<Crash> {
  const root = rootDir ?? (await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-crash-'))));
  const projectDir = join(root, 'work', 'proj');
  await seedProject(projectDir);
  const home = await makeHome([projectDir], join(root, 'home'));
  const turns = crashTurns(kind, projectDir);
  const mock = await startMockApi({ turns, eventDelayMs: STREAM_PACE_MS });
  const dispose = async (): Promise<void> => {
    await mock.close();
    await rm(root, { recursive: true, force: true });
  };
  try {
    const startedAt = performance.now();
    let lastTurnRequest: number | null = null;
    const onRequest = (request: RecordedRequest): void => {
      if (request.turnIndex === turns.length - 1) lastTurnRequest = performance.now() - startedAt;
    };
    mock.on('request', onRequest);
    const run = runClient({ version: '2.1.328', home, cwd: projectDir, apiUrl: mock.baseUrl, args: printModeArgs('2.1.328', prompt) });
    let exitedEarly: ClientExit | undefined;
    void run.exited.then((exit) => (exitedEarly = exit));
    const alive = (what: string): void => {
      if (exitedEarly !== undefined) throw new Error(`client exited before ${what}: ${describeExit(exitedEarly)}`);
    };
    let triggered = Number.NaN;
    const failure = await awaitTrigger(killTrigger(kind), { projectDir, home, marker: run.marker, alive, onTriggered: () => (triggered = performance.now() - startedAt) }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const killedAt = performance.now() - startedAt;
    const killed = await killRun(run);
    mock.off('request', onRequest);
    if (failure !== undefined) throw failure;
    const sessionFile = sessionFileOf(home, projectDir);
    if (sessionFile === undefined) throw new Error('the crashed run left no session file');
    return {
      kind,
      root,
      home,
      claudeDir: join(home, '.claude'),
      projectDir,
      sessionId: basename(sessionFile, '.jsonl'),
      sessionFile,
      mock,
      requests: [...mock.requests],
      clientPid: run.pid,
      marker: run.marker,
      leftovers: killed.leftovers,
      timings: { lastTurnRequest, triggered: Math.round(triggered), killed: Math.round(killedAt) },
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

interface TriggerContext {
  projectDir: string;
  home: string;
  marker: string;
  /** Throws once the client has exited, naming what it did not get to. */
  alive: (what: string) => void;
  onTriggered: () => void;
}

/** Resolves when it is time to kill the client. */
async function awaitTrigger(trigger: KillTrigger, context: TriggerContext): Promise<void> {
  if (trigger.type === 'process') {
    const running = (): boolean => {
      context.alive(`${trigger.cmdline} started`);
      return findProcessByCmdline(trigger.cmdline, context.marker).length > 0;
    };
    await waitFor(running, SLOW_JOB_TIMEOUT_MS, `${trigger.cmdline} to start`);
    context.onTriggered();
    await sleep(trigger.thenMs);
    return;
  }
  await waitForFileContent(join(context.projectDir, trigger.file), trigger.matches, trigger.pollMs, () => context.alive(`${trigger.file} changed`));
  context.onTriggered();
  const wanted = trigger.thenSessionLine;
  if (wanted !== undefined) {
    const seen = (): boolean => {
      context.alive('the session line was written');
      const file = sessionFileOf(context.home, context.projectDir);
      return file !== undefined && sessionLines(file).some(wanted);
    };
    await waitFor(seen, trigger.sessionLineTimeoutMs ?? TRIGGER_TIMEOUT_MS, 'the session line').catch(() => undefined);
  }
  await sleep(trigger.thenMs);
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Resolves once the file's content matches: checked every `pollMs` (a timer, so the event loop stays free for the mock,
 * which runs in this process) and on every fs.watch event of the file's folder, so a write is seen within a millisecond
 * or two.
 */
function waitForFileContent(file: string, matches: (content: string | undefined) => boolean, pollMs: number, alive: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const deadline = performance.now() + TRIGGER_TIMEOUT_MS;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const folder = dirname(file);
    const watcher = existsSync(folder) ? watch(folder, () => check()) : undefined;
    const finish = (error?: unknown): void => {
      done = true;
      clearTimeout(timer);
      watcher?.close();
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    function check(): void {
      if (done) return;
      try {
        if (matches(readIfExists(file))) return finish();
        alive();
        if (performance.now() > deadline) throw new Error(`timed out after ${TRIGGER_TIMEOUT_MS} ms waiting for ${file} to change`);
      } catch (error) {
        finish(error);
      }
    }
    const poll = (): void => {
      check();
      if (!done) timer = setTimeout(poll, pollMs);
    };
    poll();
  });
}

/** The complete lines of a session file that parse, as entries (a line being written is skipped). */
function sessionLines(file: string): SessionEntry[] {
  const text = readIfExists(file) ?? '';
  return text
    .split('\n')
    .slice(0, -1)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as SessionEntry];
      } catch {
        return [];
      }
    });
}

export interface ResumeResult {
  exit: ClientExit;
  /** The requests the resumed client sent. */
  requests: RecordedRequest[];
}

/** `claude -p --resume <id> <prompt>` on the crashed session, against the crash's mock. */
export async function resumeCrash(crash: Crash, prompt: string, version: ClientVersion = '2.1.328'): Promise<ResumeResult> {
  const before = crash.mock.requests.length;
  const run = runClient({
    version,
    home: crash.home,
    cwd: crash.projectDir,
    apiUrl: crash.mock.baseUrl,
    args: printModeArgs(version, prompt, crash.sessionId),
  });
  const exit = await run.exited;
  return { exit, requests: crash.mock.requests.slice(before) };
}

export function describeExit(exit: ClientExit): string {
  return `code ${String(exit.code)} signal ${String(exit.signal)}; stderr: ${exit.stderr.slice(-2000)}`;
}

export interface SessionEntry {
  type?: string;
  message?: { role?: string; content?: unknown; stop_reason?: unknown; model?: unknown };
  [field: string]: unknown;
}

export interface ContentBlock {
  type?: string;
  id?: string;
  name?: string;
  text?: string;
  tool_use_id?: string;
  is_error?: boolean;
  [field: string]: unknown;
}

/** Every line of a session file, parsed; a torn line fails the parse. */
export async function readSessionEntries(file: string): Promise<SessionEntry[]> {
  const text = await readFile(file, 'utf8');
  if (!text.endsWith('\n')) throw new Error(`${file} does not end with a complete line`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as SessionEntry);
}

/** The user and assistant entries, in file order. */
export function conversationEntries(entries: SessionEntry[]): SessionEntry[] {
  return entries.filter((entry) => entry.type === 'user' || entry.type === 'assistant');
}

export function blocksOfEntry(entry: SessionEntry): ContentBlock[] {
  const content = entry.message?.content;
  return Array.isArray(content) ? (content as ContentBlock[]) : [];
}
