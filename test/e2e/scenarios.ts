// Reproduces the crashes of real-client-2.1.328.md §5 (c-bash-running, h-parallel-partial) with the
// real 2.1.328 client and the mock API, so tests and fixtures start from genuine crashed sessions.
import { execFileSync } from 'node:child_process';
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

export type CrashKind = 'bash-running' | 'parallel-running';

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
  dispose(): Promise<void>;
}

export const SLOW_JOB = 'scripts/slow-job.js';
const KILL_DELAY_MS = 1_500;
// Paced like a real stream, so 2.1.328 runs each tool while the rest of the message is still arriving (doc §5 h).
const STREAM_PACE_MS = 10;
const SLOW_JOB_TIMEOUT_MS = 60_000;
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

/** The scripted turns of each crash; tool ids are fixed so tests can name them. */
export function crashTurns(kind: CrashKind, projectDir: string): ScriptedTurn[] {
  if (kind === 'bash-running') {
    return [{ content: [{ type: 'text', text: 'I will run the slow job now.' }, slowJobCall('toolu_c_bash')] }];
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

const PROMPTS: Record<CrashKind, string> = {
  'bash-running': 'Run the slow job.',
  'parallel-running': 'Make add() coerce its inputs, write notes, then run the slow job.',
};

/**
 * Runs 2.1.328 until the slow job has run for 1.5 s, SIGKILLs it and ends what it left running.
 * `rootDir` (default: a fresh temporary folder) must be empty or absent; it gets the project (`work/proj`) and HOME (`home`).
 */
export async function produceCrash(kind: CrashKind, rootDir?: string): Promise<Crash> {
  const root = rootDir ?? (await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-crash-'))));
  const projectDir = join(root, 'work', 'proj');
  await seedProject(projectDir);
  const home = await makeHome([projectDir], join(root, 'home'));
  const mock = await startMockApi({ turns: crashTurns(kind, projectDir), eventDelayMs: STREAM_PACE_MS });
  const dispose = async (): Promise<void> => {
    await mock.close();
    await rm(root, { recursive: true, force: true });
  };
  try {
    const run = runClient({ version: '2.1.328', home, cwd: projectDir, apiUrl: mock.baseUrl, args: printModeArgs('2.1.328', PROMPTS[kind]) });
    let exitedEarly: ClientExit | undefined;
    void run.exited.then((exit) => (exitedEarly = exit));
    const slowJobRunning = (): boolean => {
      if (exitedEarly !== undefined) throw new Error(`client exited before the slow job started: ${describeExit(exitedEarly)}`);
      return findProcessByCmdline(SLOW_JOB, run.marker).length > 0;
    };
    const failure = await waitFor(slowJobRunning, SLOW_JOB_TIMEOUT_MS, 'the slow job to start')
      .then(() => sleep(KILL_DELAY_MS))
      .then(() => undefined, (error: unknown) => error);
    const killed = await killRun(run);
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
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
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
