// Drives the pinned real Claude Code clients against the mock API, in throwaway homes, and makes sure
// nothing they start outlives a test: every process carries a marker in its environment.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ClientVersion = '2.1.328' | '1.0.128' | '2.0.37' | '2.1.9';

export interface ClientCommand {
  command: string;
  argsPrefix: string[];
}

export interface ClientExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface ClientRun {
  pid: number;
  /** The value of MARKER_VAR in the environment of the client and everything it starts. */
  marker: string;
  /** Settles once the client has exited and its output pipes have closed. */
  exited: Promise<ClientExit>;
  /** Settles once the client process has exited, even while a leftover child still holds its pipes. */
  died: Promise<void>;
}

export interface RunClientOptions {
  version: ClientVersion;
  home: string;
  cwd: string;
  args: string[];
  /** The mock API, e.g. `http://127.0.0.1:43123`. */
  apiUrl: string;
  env?: Record<string, string>;
  stdin?: string;
}

export const CLIENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'clients', 'node_modules');
export const FAKE_API_KEY = 'sk-ant-api03-ccrescue-e2e-not-a-real-key-000000000000AA';
export const MARKER_VAR = 'CCRESCUE_E2E_RUN';
export const TOOLS = ['Bash', 'Edit', 'Read', 'Write', 'Glob', 'Grep', 'TaskCreate', 'TaskUpdate', 'TaskList'];

// Distinguishes the runs of this test file from those of files running in parallel.
const markerPrefix = `${process.pid}-${randomBytes(4).toString('hex')}`;
let runCount = 0;

function isMusl(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return process.platform === 'linux' && report.header?.glibcVersionRuntime === undefined;
}

export function clientCommand(version: ClientVersion): ClientCommand {
  if (version !== '2.1.328') {
    return { command: process.execPath, argsPrefix: [join(CLIENTS_DIR, `claude-code-${version}`, 'cli.js')] };
  }
  // npm skipped the wrapper's postinstall, so run the platform package's binary directly.
  const platformPackage = `claude-code-${process.platform}-${process.arch}${isMusl() ? '-musl' : ''}`;
  const binary = join(CLIENTS_DIR, '@anthropic-ai', platformPackage, process.platform === 'win32' ? 'claude.exe' : 'claude');
  if (!existsSync(binary)) throw new Error(`no Claude Code ${version} binary at ${binary}; run node test/clients/install.mjs`);
  return { command: binary, argsPrefix: [] };
}

/** Arguments for a print-mode run. 1.0.128 has no --tools flag and gets its default tools; 2.0.37 and 2.1.9 ignore the Task* names they lack. */
export function printModeArgs(version: ClientVersion, prompt: string, resumeSessionId?: string): string[] {
  const resume = resumeSessionId === undefined ? [] : ['--resume', resumeSessionId];
  const tools = version === '1.0.128' ? [] : ['--tools', TOOLS.join(',')];
  return ['-p', ...resume, prompt, '--dangerously-skip-permissions', '--output-format', 'stream-json', '--verbose', ...tools];
}

/** A throwaway HOME (at `at`, else a new temporary folder) whose `.claude.json` skips the first-run screens, trusting `trustedDirs`. */
export async function makeHome(trustedDirs: readonly string[] = [], at?: string): Promise<string> {
  const home = at ?? (await mkdtemp(join(tmpdir(), 'ccrescue-home-')));
  const config = {
    hasCompletedOnboarding: true,
    theme: 'dark',
    customApiKeyResponses: { approved: [FAKE_API_KEY.slice(-20)], rejected: [] },
    // 1.0.128 iterates a project's allowedTools without checking that it exists.
    projects: Object.fromEntries(trustedDirs.map((dir) => [dir, { hasTrustDialogAccepted: true, allowedTools: [] }])),
    bypassPermissionsModeAccepted: true,
  };
  await mkdir(join(home, 'tmp'), { recursive: true });
  await writeFile(join(home, '.claude.json'), `${JSON.stringify(config, null, 2)}\n`);
  return home;
}

export interface ClientEnv {
  env: Record<string, string>;
  /** The value of MARKER_VAR in `env`: endAllRuns() ends whatever runs with it. */
  marker: string;
}

/**
 * The environment a client needs against the mock (HOME, TMPDIR, the mock's URL, the fake key …) with a fresh
 * MARKER_VAR value; runClient uses it, and so can a test starting a process that starts a client (ccrescue resume).
 */
export function clientEnv(home: string, apiUrl: string, extra: Record<string, string> = {}): ClientEnv {
  const marker = `${markerPrefix}-${++runCount}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    SHELL: '/bin/bash',
    // Keeps the client's /tmp/claude-<uid> scratch and /tmp/cc-socks socket inside the throwaway home.
    TMPDIR: join(home, 'tmp'),
    HOME: home,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    // Root refuses --dangerously-skip-permissions without it.
    IS_SANDBOX: '1',
    // Print mode writes no file history without it.
    CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    ...extra,
    [MARKER_VAR]: marker,
  };
  return { env, marker };
}

export function runClient(options: RunClientOptions): ClientRun {
  const { command, argsPrefix } = clientCommand(options.version);
  const { env, marker } = clientEnv(options.home, options.apiUrl, options.env);
  const child = spawn(command, [...argsPrefix, ...options.args], { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  // Print mode reads stdin until EOF when it is not a TTY.
  child.stdin.end(options.stdin ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<ClientExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const died = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { pid: child.pid, marker, exited, died };
}

export interface LeftoverProcess {
  pid: number;
  cmdline: string;
}

export interface KilledRun {
  exit: ClientExit;
  /** Processes of the run still alive after the client died (they re-parent and keep running); all ended since. */
  leftovers: LeftoverProcess[];
}

/** SIGKILLs the client, then every process it left behind. */
export async function killRun(run: ClientRun): Promise<KilledRun> {
  killPid(run.pid);
  await run.died;
  const mine = (marker: string): boolean => marker === run.marker;
  const leftovers = markedProcesses(mine).map((pid) => ({ pid, cmdline: cmdlineOf(String(pid)) }));
  endMarked(mine);
  return { exit: await run.exited, leftovers };
}

/** Ends every process started by this module's runs; for afterEach/afterAll, so a failing test leaks nothing. */
export function endAllRuns(): void {
  endMarked((marker) => marker.startsWith(`${markerPrefix}-`));
}

// Last resort when a worker exits without running its hooks; an exit handler has nowhere to report to.
process.once('exit', () => {
  try {
    endAllRuns();
  } catch {
    /* the process is exiting */
  }
});

// Synchronous, so the exit handler can use it too.
function endMarked(matches: (marker: string) => boolean): void {
  // Bounded: a dying shell may start one more child between two scans, and a killed process takes a moment to go.
  for (let round = 0; round < 40; round++) {
    const pids = markedProcesses(matches);
    if (pids.length === 0) return;
    for (const pid of pids) killPid(pid);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  }
  throw new Error(`processes marked by this test survive SIGKILL: ${markedProcesses(matches).join(', ')}`);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function readProc(pid: string, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    // The process ended between the scan and the read.
    return '';
  }
}

function markerOf(pid: string): string | undefined {
  const entry = readProc(pid, 'environ')
    .split('\0')
    .find((line) => line.startsWith(`${MARKER_VAR}=`));
  return entry?.slice(MARKER_VAR.length + 1);
}

/** Live (not zombie) processes whose marker matches. */
export function markedProcesses(matches: (marker: string) => boolean): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      const marker = markerOf(pid);
      return marker !== undefined && matches(marker) && !/^\d+ \(.*\) Z/s.test(readProc(pid, 'stat'));
    })
    .map(Number);
}

function cmdlineOf(pid: string): string {
  return readProc(pid, 'cmdline').split('\0').join(' ').trim();
}

/** Pids of live processes carrying `marker` whose command line contains `text`. */
export function findProcessByCmdline(text: string, marker: string): number[] {
  return markedProcesses((m) => m === marker).filter((pid) => cmdlineOf(String(pid)).includes(text));
}

/** Claude Code's project folder name: every character but [A-Za-z0-9] becomes '-'. */
export function encodeCwd(path: string): string {
  return path.replace(/[^A-Za-z0-9]/g, '-');
}

/** The newest session file of `cwd` under `home`, if any. */
export function sessionFileOf(home: string, cwd: string): string | undefined {
  const dir = join(home, '.claude', 'projects', encodeCwd(cwd));
  if (!existsSync(dir)) return undefined;
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime)[0];
  return newest?.path;
}

/** Polls until `predicate` returns something other than undefined/false; rejects after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
