/**
 * Security (issue 6, part 4): "No path from a transcript is opened outside the project dir and the
 * Claude dir; symlinks leading out are refused; nothing from a transcript is ever executed;
 * redaction holds on every path that prints transcript text, error messages included."
 *
 * 1. Confinement: hostile copies of the real crash in fixtures/crash-parallel (tool inputs, cwd,
 *    checkpoint paths and backup names, task ids, session and agent ids, toolUseResult paths naming
 *    /etc/passwd, ../.., ~, NUL bytes, huge paths, symlinks out, cwd `/`) go through every command
 *    that reads the disk, in this process, with every node:fs and node:fs/promises call recorded.
 *    Every recorded path must lie in the allowed set (see `confinementViolations`); the sentinel
 *    files outside are never opened (recorder), never copied anywhere (content) and never read
 *    (their atime, where the file system keeps one).
 * 2. Symlinks out: a project file, a project subdir, a backup, the backup folder, the tasks folder,
 *    the subagents folder, a client record and the project folder in `<claude>/projects` leading out:
 *    never followed, and `diff` names the refusal.
 * 3. Nothing from a transcript is executed: shell payloads in commands, paths, the prompt and the
 *    cwd go through the built CLI (recover, diff, report, scan, resume with a stub client); the stub
 *    gets the prompt as one argv element, and the printed `claude --resume …` commands run through
 *    /bin/sh give the stub the exact prompt and run nothing else. Plus a static check of src/.
 * 4. Redaction: fake secrets of the kinds src/report/redact.ts knows, planted in every place a
 *    transcript holds text (and in the session file's name and folder), never reach stdout or
 *    stderr of `report` (Markdown and JSON, default and strict), error paths included.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

type Kind = 'read' | 'meta' | 'write';
interface Call {
  fn: string;
  kind: Kind;
  path: string;
}

// The recorder: every node:fs / node:fs/promises function that takes a path, wrapped. `meta` calls
// learn only metadata (stat, lstat, realpath, exists, access); `read` calls open, list or copy
// content; `write` calls create, replace or remove.
const rec = vi.hoisted(() => {
  const state = { on: false, calls: [] as { fn: string; kind: 'read' | 'meta' | 'write'; path: string }[], procLinks: new Set<string>() };
  const KIND: Record<string, 'read' | 'meta' | 'write'> = {};
  for (const n of ['openSync', 'open', 'readFileSync', 'readFile', 'readdirSync', 'readdir', 'opendirSync', 'opendir', 'createReadStream', 'readlinkSync', 'readlink', 'copyFileSync', 'copyFile', 'cpSync', 'cp', 'watch', 'watchFile']) KIND[n] = 'read';
  for (const n of ['statSync', 'stat', 'lstatSync', 'lstat', 'existsSync', 'realpathSync', 'realpath', 'accessSync', 'access', 'statfsSync', 'statfs']) KIND[n] = 'meta';
  for (const n of ['writeFileSync', 'writeFile', 'appendFileSync', 'appendFile', 'createWriteStream', 'renameSync', 'rename', 'unlinkSync', 'unlink', 'rmSync', 'rm', 'rmdirSync', 'rmdir', 'mkdirSync', 'mkdir', 'mkdtempSync', 'mkdtemp', 'linkSync', 'link', 'symlinkSync', 'symlink', 'truncateSync', 'truncate', 'chmodSync', 'chmod', 'chownSync', 'chown', 'utimesSync', 'utimes']) KIND[n] = 'write';
  const TWO = new Set(['copyFileSync', 'copyFile', 'cpSync', 'cp', 'renameSync', 'rename', 'linkSync', 'link', 'symlinkSync', 'symlink']);
  const asPath = (v: unknown): string | null => (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : v instanceof URL ? decodeURIComponent(v.pathname) : null);
  function wrapAll(mod: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, kind] of Object.entries(KIND)) {
      const fn = mod[name] as ((...a: unknown[]) => unknown) | undefined;
      if (typeof fn !== 'function') continue;
      const w = function (this: unknown, ...args: unknown[]) {
        if (state.on) {
          const p = asPath(args[0]);
          if (p !== null && name !== 'symlinkSync' && name !== 'symlink') state.calls.push({ fn: name, kind, path: p });
          if (TWO.has(name)) {
            const q = asPath(args[1]);
            if (q !== null) state.calls.push({ fn: name, kind: 'write', path: q });
          }
        }
        const result = fn.apply(this, args);
        // canonical() of a process's working directory, read from /proc/<pid>/cwd: see confinementViolations.
        if (state.on && name === 'readlinkSync' && typeof result === 'string' && String(args[0]).startsWith('/proc/')) state.procLinks.add(result);
        return result;
      };
      const native = (fn as unknown as { native?: (...a: unknown[]) => unknown }).native;
      if (typeof native === 'function') {
        (w as unknown as { native: unknown }).native = function (this: unknown, ...args: unknown[]) {
          const p = asPath(args[0]);
          if (state.on && p !== null) state.calls.push({ fn: `${name}.native`, kind, path: p });
          return native.apply(this, args);
        };
      }
      out[name] = w;
    }
    return out;
  }
  return { state, wrapAll };
});

// What the recorder sees: every fs call of src/ (all of it imports `node:fs` or `node:fs/promises`),
// run in this process. Not seen, and why that is enough: third-party modules (commander,
// cli-table3, stream-json, diff, zod, undici) are loaded outside vitest's module graph, and none of
// them is given a path; Node's own internals below one recorded call (cp walking a folder) count as
// that call; scan's worker threads run the same scanFile code, so scan runs here with --jobs 0.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<Record<string, unknown>>();
  const wrapped = rec.wrapAll(real);
  const promises = { ...(real.promises as Record<string, unknown>), ...rec.wrapAll(real.promises as Record<string, unknown>) };
  return { ...real, ...wrapped, promises, default: { ...real, ...wrapped, promises } };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<Record<string, unknown>>();
  const wrapped = rec.wrapAll(real);
  return { ...real, ...wrapped, default: { ...real, ...wrapped } };
});

import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { main } from '../../src/cli/main.js';
import { createRedactor } from '../../src/report/redact.js';
import { shellQuote } from '../../src/write/prompt.js';
import { encodeCwd } from '../../src/locate/claude-dir.js';
import { BIN, ccrescue } from '../helpers/cli.js';

const REPO = join(import.meta.dirname, '..', '..');
const FIXTURE = join(REPO, 'fixtures', 'crash-parallel');
const SID = '5fec7deb-813f-4346-8789-314f5d8e99ea';
const FOLDER = '-tmp-ccrescue-fixture-work-proj';
const FIX_CWD = '/tmp/ccrescue-fixture/work/proj';
/** Written only into files outside the project and the Claude dir: it must never show up anywhere. */
const SENTINEL = `SENTINEL-outside-${randomUUID()}`;
const OLD_ATIME = new Date('2000-01-01T00:00:00Z');

// ---------------------------------------------------------------------------------------------
// Temp trees

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) {
    try {
      chmodTree(r);
      rmSync(r, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
});

function chmodTree(dir: string): void {
  try {
    chmodSync(dir, 0o755);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) chmodTree(p);
      else if (e.isFile()) chmodSync(p, 0o644);
    }
  } catch {
    // best effort
  }
}

interface Env {
  root: string;
  claude: string;
  project: string;
  outside: string;
  /** The session file. */
  file: string;
  xdg: string;
}

/**
 * A private copy of the real crashed session (its Claude dir and its project) and, beside them, an
 * `outside` folder of sentinel files: a plain file, a task file, a backup-named file, a session
 * record and a subagent transcript, each holding SENTINEL.
 */
function makeEnv(name: string): Env {
  const root = realpathSync(mkdtempSync(join(tmpdir(), `ccrescue-sec-${name}-`)));
  roots.push(root);
  cpSync(FIXTURE, root, { recursive: true });
  const outside = join(root, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), `${SENTINEL}\n`);
  writeFileSync(join(outside, '1.json'), JSON.stringify({ id: '1', subject: SENTINEL, status: 'pending' }));
  writeFileSync(join(outside, 'f7468aca950ecfb7@v1'), `${SENTINEL}\n`);
  writeFileSync(join(outside, '4242.json'), JSON.stringify({ pid: process.pid, sessionId: SID, cwd: FIX_CWD, status: 'busy', version: SENTINEL }));
  writeFileSync(join(outside, 'agent-outside.jsonl'), JSON.stringify({ type: 'user', uuid: randomUUID(), parentUuid: null, isSidechain: true, sessionId: SID, message: { role: 'user', content: SENTINEL } }) + '\n');
  const xdg = join(root, 'xdg');
  mkdirSync(xdg);
  // The session lies where Claude Code files it for its cwd, the project: so that cwd is the default project dir.
  const project = join(root, 'project');
  renameSync(join(root, 'claude', 'projects', FOLDER), join(root, 'claude', 'projects', encodeCwd(project)));
  return { root, claude: join(root, 'claude'), project, outside, file: join(root, 'claude', 'projects', encodeCwd(project), `${SID}.jsonl`), xdg };
}

/** The sentinel files, their folder included, with an old access time (the proof that they were never read, where atime is kept). */
function ageOutside(env: Env): void {
  for (const name of readdirSync(env.outside)) {
    const p = join(env.outside, name);
    utimesSync(p, OLD_ATIME, statSync(p).mtime);
  }
  utimesSync(env.outside, OLD_ATIME, statSync(env.outside).mtime);
}

/** Whether this file system updates atime on a read (relatime does, for an atime older than a day). */
function atimeIsKept(env: Env): boolean {
  const probe = join(env.root, 'atime-probe');
  writeFileSync(probe, 'x');
  utimesSync(probe, OLD_ATIME, statSync(probe).mtime);
  readFileSync(probe);
  return statSync(probe).atimeMs !== OLD_ATIME.getTime();
}

function outsideAtimes(env: Env): Record<string, boolean> {
  const out: Record<string, boolean> = { '.': statSync(env.outside).atimeMs === OLD_ATIME.getTime() };
  for (const name of readdirSync(env.outside)) out[name] = statSync(join(env.outside, name)).atimeMs === OLD_ATIME.getTime();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sessions

type Entry = Record<string, unknown>;

const fixtureLines = (): Entry[] =>
  readFileSync(join(FIXTURE, 'claude', 'projects', FOLDER, `${SID}.jsonl`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);

/** Every string in a JSON value with `from` replaced by `to` (keys included). */
function deepReplace<T>(v: T, from: string, to: string): T {
  if (typeof v === 'string') return v.replaceAll(from, to) as T;
  if (Array.isArray(v)) return v.map((x) => deepReplace(x, from, to)) as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replaceAll(from, to), deepReplace(x, from, to)])) as T;
  return v;
}

/** Builds entries chained after the fixture's last line (the Write of marker.txt, line 40) in the same API message. */
class Chain {
  readonly entries: Entry[];
  private parent: string;
  private readonly assistant: Entry;
  private readonly user: Entry;
  private n = 0;

  constructor(
    base: Entry[],
    readonly cwd: string,
    readonly sessionId: string,
  ) {
    this.entries = base;
    const last = base[base.length - 1]!;
    this.parent = last.uuid as string;
    this.assistant = last;
    this.user = base.find((e) => e.type === 'user' && (e as { toolUseResult?: unknown }).toolUseResult !== undefined)!;
  }

  private stamp(): string {
    return new Date(Date.parse('2026-11-24T01:23:50.000Z') + this.n++ * 10).toISOString();
  }

  raw(entry: Entry): Entry {
    this.entries.push(entry);
    return entry;
  }

  /** One assistant line holding these blocks; returns its uuid. */
  assistantBlocks(content: unknown[], extra: Entry = {}): string {
    const uuid = randomUUID();
    const message = { ...(this.assistant.message as Entry), content };
    this.entries.push({ ...this.assistant, message, parentUuid: this.parent, uuid, timestamp: this.stamp(), cwd: this.cwd, sessionId: this.sessionId, ...extra });
    this.parent = uuid;
    return uuid;
  }

  toolUse(name: string, input: Entry, id = `toolu_sec_${randomUUID().slice(0, 8)}`): { id: string; uuid: string } {
    return { id, uuid: this.assistantBlocks([{ type: 'tool_use', id, name, input }]) };
  }

  result(call: { id: string; uuid: string }, content: string, toolUseResult: unknown, isError = false): void {
    const uuid = randomUUID();
    this.entries.push({
      ...this.user,
      message: { role: 'user', content: [{ tool_use_id: call.id, type: 'tool_result', content, ...(isError ? { is_error: true } : {}) }] },
      parentUuid: this.parent,
      uuid,
      timestamp: this.stamp(),
      toolUseResult,
      sourceToolAssistantUUID: call.uuid,
      cwd: this.cwd,
      sessionId: this.sessionId,
    });
    this.parent = uuid;
  }

  /** A line off the chain (checkpoints, unknown types). */
  side(entry: Entry): void {
    this.entries.push(entry);
  }

  system(content: string, extra: Entry = {}): void {
    const uuid = randomUUID();
    this.entries.push({ parentUuid: this.parent, isSidechain: false, type: 'system', subtype: 'informational', content, level: 'info', uuid, timestamp: this.stamp(), cwd: this.cwd, sessionId: this.sessionId, version: '2.1.328', ...extra });
    this.parent = uuid;
  }

  get leaf(): string {
    return this.parent;
  }
}

function writeSession(file: string, lines: (Entry | string | Buffer)[], trailingNewline = true): void {
  mkdirSync(dirname(file), { recursive: true });
  const parts = lines.map((l) => (Buffer.isBuffer(l) ? l : Buffer.from(typeof l === 'string' ? l : JSON.stringify(l), 'utf8')));
  const body: Buffer[] = [];
  parts.forEach((p, i) => {
    body.push(p);
    if (i < parts.length - 1 || trailingNewline) body.push(Buffer.from('\n'));
  });
  writeFileSync(file, Buffer.concat(body));
}

/** The paths a hostile transcript names, for a session whose cwd is `cwd`. */
function hostilePaths(env: Env, cwd: string): string[] {
  return [
    '/etc/passwd',
    '/etc/shadow',
    '/root/.ssh/id_rsa',
    '/proc/self/environ',
    '/dev/zero',
    '/dev/stdin',
    '../../../../etc/shadow',
    '../outside/secret.txt',
    'src/../../outside/secret.txt',
    'src/../../outside/not-there.txt',
    `${env.outside}/secret.txt`,
    `${cwd}/../outside/secret.txt`,
    `${cwd}/src/../../outside/secret.txt`,
    '~/.ssh/id_rsa',
    '~root/.bashrc',
    '$HOME/.ssh/id_rsa',
    'src/\u0000/../../../../etc/passwd',
    '/etc/passwd\u0000.js',
    `${cwd}/src/math.js\u0000/../../../outside/secret.txt`,
    `${'a/'.repeat(3000)}x`,
    `/${'b'.repeat(5000)}`,
    `${cwd}/${'c'.repeat(300)}/x`,
    'escape-link/secret.txt',
    'escape-link/not-there.txt',
    'escape-link/../outside/secret.txt',
    `${cwd}/escape-link/secret.txt`,
    'secret-link.txt',
    'dangling-link',
    'dangling-link/x',
    'NOTES.md',
    'file:///etc/passwd',
    '..\\..\\outside\\secret.txt',
    '.',
    '/',
    '..',
  ];
}

/**
 * The fixture, made hostile: its cwd is `cwd` (the temp project unless given), every id is
 * `sessionId`, and after its last line come, for every hostile path, an Edit and a
 * NotebookEdit that never returned and a Read whose result (with `toolUseResult.filePath`) claims
 * the file's content; a Write and MultiEdit for some; checkpoint snapshot and delta lines naming
 * hostile paths and backup names; todo and task calls with hostile ids; a Bash call with shell
 * payloads; an entry of an unknown type. Also a real subagent transcript with a hostile agentId.
 */
function hostileSession(env: Env, o: { cwd?: string; sessionId?: string; file?: string } = {}): { file: string; cwd: string } {
  const cwd = o.cwd ?? env.project;
  const sessionId = o.sessionId ?? SID;
  let base = deepReplace(fixtureLines(), FIX_CWD, cwd);
  if (sessionId !== SID) base = deepReplace(base, SID, sessionId);
  const chain = new Chain(base, cwd, sessionId);
  const paths = hostilePaths(env, cwd);
  paths.forEach((p, i) => {
    chain.toolUse('Edit', { file_path: p, old_string: 'return a + b;', new_string: 'return 0;' });
    chain.toolUse('NotebookEdit', { notebook_path: p, new_source: 'x = 1', cell_id: '0' });
    const read = chain.toolUse('Read', { file_path: p });
    chain.result(read, `1\tclaimed content of ${p}`, { type: 'text', file: { filePath: p, content: `claimed content ${i}\n`, numLines: 1, startLine: 1, totalLines: 1 }, filePath: p });
    if (i % 4 === 0) {
      const w = chain.toolUse('Write', { file_path: p, content: `written ${i}\n` });
      chain.result(w, `File created successfully at: ${p}`, { type: 'create', filePath: p, content: `written ${i}\n`, structuredPatch: [], originalFile: `original ${i}\n` });
      chain.toolUse('MultiEdit', { file_path: p, edits: [{ old_string: 'a', new_string: 'b' }] });
    }
  });
  const pwn = join(env.root, 'pwned');
  chain.toolUse('Bash', { command: `cat /etc/passwd > /dev/null; $(touch ${pwn}-1) \`touch ${pwn}-2\` ; touch ${pwn}-3 && cat ${env.outside}/secret.txt`, description: `$(touch ${pwn}-4)` });
  chain.toolUse('TodoWrite', { todos: [{ content: '../../etc/passwd', status: 'pending', activeForm: 'x', id: '../../../outside/1' }] });
  chain.toolUse('TaskCreate', { subject: `$(touch ${pwn}-5)`, description: '/etc/passwd' });
  chain.toolUse('TaskUpdate', { taskId: '../../../outside/1', status: 'in_progress' });
  chain.toolUse('Glob', { pattern: '/etc/*', path: env.outside });
  chain.toolUse('Grep', { pattern: 'root', path: '/etc' });
  const known = (base.find((e) => e.type === 'user') as Entry).uuid as string;
  chain.side({
    type: 'file-history-snapshot',
    messageId: known,
    isSnapshotUpdate: true,
    snapshot: {
      messageId: known,
      timestamp: '2026-11-24T01:23:50.500Z',
      trackedFileBackups: {
        '/etc/passwd': { backupFileName: '../../../../etc/passwd', version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        '/etc/shadow': { backupFileName: '/etc/shadow', version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        '../outside/secret.txt': { backupFileName: 'f7468aca950ecfb7@v1/../../../../outside/secret.txt', version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        [`${env.outside}/secret.txt`]: { backupFileName: 'f7468aca950ecfb7@v1', version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        'escape-link/secret.txt': { backupFileName: '..@v1', version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        '~/.ssh/id_rsa': { backupFileName: `a\u0000@v1`, version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        'src/../../outside/secret.txt': { backupFileName: null, version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
        [`${'d/'.repeat(2000)}x`]: { backupFileName: `${'e'.repeat(5000)}@v1`, version: 1, backupTime: '2026-11-24T01:23:50.500Z' },
      },
    },
  });
  for (const [trackingPath, backupFileName] of [
    ['/etc/passwd', '/etc/passwd'],
    ['escape-link/secret.txt', 'f7468aca950ecfb7@v1'],
    [`${env.outside}/secret.txt`, null],
    ['src/../../outside/secret.txt', 'deadbeefdeadbeef@v1'],
    ['secret-link.txt', '../../../outside/secret.txt'],
  ] as const) {
    chain.side({ type: 'file-history-delta', messageId: randomUUID(), snapshotMessageId: known, trackingPath, backup: { backupFileName, version: 1, backupTime: '2026-11-24T01:23:50.600Z', realParentDir: env.outside }, timestamp: '2026-11-24T01:23:50.600Z' });
  }
  chain.side({ type: 'mystery-entry', sessionId, path: '/etc/passwd', agentId: '../../../outside', uuid: randomUUID() });
  const file = o.file ?? env.file;
  writeSession(file, chain.entries);
  // A subagent transcript of the 2.1.x layout, with a hostile agentId and paths.
  const subDir = join(dirname(file), basename(file, '.jsonl'), 'subagents');
  if (!existsSync(subDir)) {
    mkdirSync(subDir, { recursive: true });
    const first: Entry = { parentUuid: null, isSidechain: true, agentId: '../../../outside', type: 'user', message: { role: 'user', content: 'go' }, uuid: randomUUID(), timestamp: '2026-11-24T01:23:49.000Z', cwd, sessionId, version: '2.1.328' };
    writeSession(join(subDir, 'agent-a1.jsonl'), [
      first,
      { ...(base[base.length - 1] as Entry), isSidechain: true, agentId: '../../../outside', parentUuid: first.uuid, uuid: randomUUID(), message: { ...((base[base.length - 1] as Entry).message as Entry), content: [{ type: 'tool_use', id: 'toolu_sub_edit', name: 'Edit', input: { file_path: `${env.outside}/secret.txt`, old_string: 'a', new_string: 'b' } }] } },
    ]);
  }
  return { file, cwd };
}

/** The project and Claude dir of an env, made hostile with symlinks leading out. */
function plantSymlinks(env: Env): void {
  symlinkSync(env.outside, join(env.project, 'escape-link'));
  symlinkSync(join(env.outside, 'secret.txt'), join(env.project, 'secret-link.txt'));
  unlinkSync(join(env.project, 'NOTES.md'));
  symlinkSync(join(env.outside, 'secret.txt'), join(env.project, 'NOTES.md'));
  const backups = join(env.claude, 'file-history', SID);
  unlinkSync(join(backups, 'f7468aca950ecfb7@v1'));
  symlinkSync(join(env.outside, 'f7468aca950ecfb7@v1'), join(backups, 'f7468aca950ecfb7@v1'));
  symlinkSync(join(env.outside, 'secret.txt'), join(backups, 'deadbeefdeadbeef@v1'));
  mkdirSync(join(env.claude, 'tasks'), { recursive: true });
  symlinkSync(env.outside, join(env.claude, 'tasks', SID));
  symlinkSync(join(env.outside, '4242.json'), join(env.claude, 'sessions', '4242.json'));
  symlinkSync(join(env.outside, 'not-there-yet'), join(env.project, 'dangling-link'));
}

// ---------------------------------------------------------------------------------------------
// Running commands in this process, every fs call recorded

interface Run {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
  calls: Call[];
}

const chunkText = (c: unknown): string => (typeof c === 'string' ? c : Buffer.from(c as Uint8Array).toString('utf8'));

/** Runs `ccrescue <args>` through the CLI's own `main`, in this process. */
async function cli(args: string[], env: Env): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const so = vi.spyOn(process.stdout, 'write').mockImplementation(((c: unknown) => (out.push(chunkText(c)), true)) as never);
  const se = vi.spyOn(process.stderr, 'write').mockImplementation(((c: unknown) => (err.push(chunkText(c)), true)) as never);
  const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, CCRESCUE_SETTINGS: process.env.CCRESCUE_SETTINGS, NO_COLOR: process.env.NO_COLOR };
  process.env.XDG_CONFIG_HOME = env.xdg;
  delete process.env.CCRESCUE_SETTINGS;
  process.env.NO_COLOR = '1';
  process.exitCode = undefined;
  rec.state.calls = [];
  rec.state.on = true;
  try {
    await main(['node', 'ccrescue', ...args]);
  } finally {
    rec.state.on = false;
    so.mockRestore();
    se.mockRestore();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { args, code, stdout: out.join(''), stderr: err.join(''), calls: rec.state.calls };
}

// ---------------------------------------------------------------------------------------------
// The allowed set

/** The real path of `p` (`..` resolved physically, through symlinks), or of its deepest existing ancestor with the rest appended. */
const realCache = new Map<string, string>();
function realOfDeepest(p: string): string {
  let real = realCache.get(p);
  if (real === undefined) realCache.set(p, (real = realOfDeepestUncached(p)));
  return real;
}

function realOfDeepestUncached(p: string): string {
  const rest: string[] = [];
  for (let cur = isAbsolute(p) ? p : resolve(p); ; ) {
    try {
      return join(realpathSync(cur), ...[...rest].reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return resolve(p);
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

/**
 * Calls that do not follow a symlink in the last component: lstat, and what ccrescue uses to write
 * (rename, unlink, mkdir, and cp without `dereference`, which copies a symlink as a symlink).
 * Their path counts with its folder resolved and its last component as named.
 */
const NOFOLLOW = new Set(['lstat', 'lstatSync', 'cp', 'cpSync', 'rename', 'renameSync', 'unlink', 'unlinkSync', 'rm', 'rmSync', 'mkdir', 'mkdirSync', 'link', 'linkSync']);

const within = (p: string, dir: string): boolean => {
  const r = relative(dir, p);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
};

/**
 * The only /proc files ccrescue needs (src/inspect/processes.ts and clients.ts): the list of pids,
 * each process's cmdline, stat (parent and start time) and cwd link, /proc/stat (boot time), and
 * /proc/self/cmdline (whether /proc exists). No /proc path from a transcript (such as
 * /proc/self/environ) is in this set.
 */
const PROC_ALLOWED = /^\/proc(?:|\/stat|\/self\/cmdline|\/\d+\/(?:cmdline|stat|cwd))$/;

interface Allowed {
  /** Folders whose every path may be used: the project dir and the Claude dir, as given and as resolved. */
  dirs: string[];
  /** Single files: the session file (named on the command line) and ccrescue's settings file. */
  files: string[];
  /** Exact paths whose metadata only may be read (a project dir of `/` named by the transcript: stat and realpath of `/` itself). */
  meta?: string[];
}

function allowedFor(env: Env, extra: Partial<Allowed> = {}): Allowed {
  return {
    meta: extra.meta,
    dirs: [env.project, env.claude, ...(extra.dirs ?? [])],
    // loadSettings reads $XDG_CONFIG_HOME/ccrescue/settings.json: ccrescue's own settings, never a transcript path.
    files: [env.file, join(env.xdg, 'ccrescue', 'settings.json'), ...(extra.files ?? [])],
  };
}

/**
 * Every recorded call that leaves the allowed set. A path counts as inside when, resolved, it lies
 * in an allowed folder (as given or resolved) or is an allowed file. Calls that open, list or copy
 * content (`read`) and `write` calls must also be inside once every symlink on the way is
 * resolved: a path inside that leads out through a symlink is an escape. Metadata calls (stat,
 * lstat, realpath, exists) need only be inside as named: lstat never follows the last link, and
 * realpath is exactly how ccrescue finds a symlink leading out. Two more: the allowed /proc files,
 * and realpath of a process's working directory that readlink of /proc/<pid>/cwd just returned
 * (processes.ts compares it with the project dir; it is not a transcript path and nothing in it is
 * opened).
 */
function confinementViolations(calls: Call[], allowed: Allowed): string[] {
  realCache.clear(); // the tree changes between runs
  const dirs = [...new Set(allowed.dirs.flatMap((d) => [resolve(d), realOfDeepest(d)]))];
  const files = new Set(allowed.files.flatMap((f) => [resolve(f), realOfDeepest(f)]));
  const ok = (p: string) => files.has(p) || dirs.some((d) => within(p, d));
  const bad = new Set<string>();
  for (const c of calls) {
    if (PROC_ALLOWED.test(c.path)) continue;
    if (c.kind === 'meta' && (allowed.meta ?? []).includes(c.path)) continue;
    if (c.fn.startsWith('realpath') && rec.state.procLinks.has(c.path)) continue;
    const show = c.path.length > 160 ? `${c.path.slice(0, 160)}…` : c.path;
    if (!ok(resolve(c.path))) {
      bad.add(`${c.fn} ${JSON.stringify(show)}`);
      continue;
    }
    if (c.kind !== 'meta') {
      const real = NOFOLLOW.has(c.fn) ? join(realOfDeepest(dirname(c.path)), basename(c.path)) : realOfDeepest(c.path);
      if (!ok(real)) bad.add(`${c.fn} ${JSON.stringify(show)} (really ${real})`);
    }
  }
  return [...bad];
}

/** Every regular file under a folder (symlinks are not followed), with its content. */
function filesUnder(dir: string): { path: string; content: Buffer }[] {
  const out: { path: string; content: Buffer }[] = [];
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push({ path: p, content: readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}

/** Where the sentinel's text appears in the outputs or in any file under the Claude dir or the project. */
function sentinelCopies(env: Env, runs: Run[]): string[] {
  const hits = runs.filter((r) => r.stdout.includes(SENTINEL) || r.stderr.includes(SENTINEL)).map((r) => `output of ${r.args.slice(0, 2).join(' ')}`);
  for (const dir of [env.claude, env.project]) for (const f of filesUnder(dir)) if (f.content.includes(SENTINEL)) hits.push(f.path);
  return hits;
}

/** The sentinels were neither copied anywhere nor read (atime, where the file system keeps it: checked per tree). */
function expectUntouched(env: Env, runs: Run[]): void {
  expect(sentinelCopies(env, runs)).toEqual([]);
  if (atimeIsKept(env)) {
    const atimes = outsideAtimes(env);
    expect(Object.entries(atimes).filter(([, old]) => !old).map(([name]) => name), 'sentinels whose atime moved').toEqual([]);
  }
}

function commandsFor(env: Env, file: string, projectDir: string[] = ['--project-dir', env.project]): string[][] {
  const cd = ['--claude-dir', env.claude];
  return [
    ['recover', file, '--dry-run', ...cd, ...projectDir],
    ['recover', file, '--dry-run', '--json', ...cd],
    ['diff', file, ...cd, ...projectDir],
    ['diff', file, '--json', ...cd],
    ['report', file, ...cd, ...projectDir],
    ['report', file, '--json', '--redact', 'strict', ...cd],
    ['scan', '--jobs', '0', '--all', ...cd],
    ['scan', '--jobs', '0', '--json', ...cd, file],
    // The writing runs last, so the read-only ones see the tree as built.
    ['recover', file, '--json', ...cd, ...projectDir],
    ['scan', '--jobs', '0', '--repair', '--json', ...cd],
    // resume recovers too, then reads Claude Code's settings for the API URL; it prints the command instead of starting a client.
    ['resume', file, '--no-wait', '--no-auto-resume', '--json', ...cd, ...projectDir],
  ];
}

async function runAll(env: Env, commands: string[][]): Promise<Run[]> {
  const runs: Run[] = [];
  for (const args of commands) runs.push(await cli(args, env));
  return runs;
}

function expectConfined(runs: Run[], allowed: Allowed): void {
  for (const r of runs) {
    expect.soft(confinementViolations(r.calls, allowed), `ccrescue ${r.args.join(' ').slice(0, 200)}`).toEqual([]);
  }
}

// ---------------------------------------------------------------------------------------------
// 1 and 2: confinement and symlinks

describe('no path from a transcript is opened outside the project dir and the Claude dir', () => {
  let env: Env;
  let runs: Run[];
  let atimeKept: boolean;

  beforeAll(async () => {
    env = makeEnv('confine');
    plantSymlinks(env);
    hostileSession(env);
    ageOutside(env);
    atimeKept = atimeIsKept(env);
    runs = await runAll(env, commandsFor(env, env.file));
  }, 120_000);

  it('runs every command to its normal end on the hostile session', () => {
    // (resume reports what it wrote on stderr.)
    for (const r of runs) expect.soft({ args: r.args.slice(0, 3), code: r.code, stderr: r.args[0] === 'resume' ? '' : r.stderr }).toEqual({ args: r.args.slice(0, 3), code: 0, stderr: '' });
    // The recorder saw the real work: the session, the project's files, the backups.
    const paths = new Set(runs.flatMap((r) => r.calls.map((c) => c.path)));
    expect(paths).toContain(env.file);
    expect(paths).toContain(join(env.project, 'src', 'math.js'));
    expect([...paths].some((p) => p.startsWith('/proc/'))).toBe(true);
    expect(runs.find((r) => r.args[0] === 'recover' && !r.args.includes('--dry-run'))!.stdout).toMatch(/"status": "repaired"/);
  });

  it('opens, lists and writes nothing outside the allowed set, and stats nothing outside it either', () => {
    expectConfined(runs, allowedFor(env));
  });

  it('never opens the sentinel files: not recorded, not copied anywhere, not even read (atime)', () => {
    const real = (c: Call) => (NOFOLLOW.has(c.fn) ? join(realOfDeepest(dirname(c.path)), basename(c.path)) : realOfDeepest(c.path));
    const touched = runs.flatMap((r) => r.calls.filter((c) => c.kind !== 'meta' && real(c).startsWith(env.outside)).map((c) => `${c.fn} ${c.path}`));
    expect(touched).toEqual([]);
    expect(atimeKept, 'this file system keeps atime (relatime): the atime proof is live').toBe(true);
    expectUntouched(env, runs);
  });

  it('keeps a transcript path with a NUL byte, a huge path or `~` inside the project, and never expands `~` or $HOME', () => {
    const all = runs.flatMap((r) => r.calls);
    expect(all.some((c) => c.path.includes('/root/.ssh') || c.path.startsWith('/etc/') || c.path.startsWith('/dev/'))).toBe(false);
    // `~/.ssh/id_rsa` is a relative name: looked for as <project>/~/.ssh/id_rsa, never in a home dir.
    expect(all.filter((c) => c.path.includes('.ssh')).every((c) => c.path.startsWith(`${env.project}/~/`) || c.path.startsWith(`${env.project}/$HOME/`))).toBe(true);
  });

  it('names every refused transcript path: path-outside-project findings in diff --json and a "Not opened" section in diff', () => {
    const json = JSON.parse(runs.find((r) => r.args[0] === 'diff' && r.args.includes('--json'))!.stdout) as { findings: { code: string; message: string }[]; files: { file: string; status: string; evidence: string }[] };
    const refused = json.findings.filter((f) => f.code === 'path-outside-project').map((f) => f.message);
    const named = (p: string) => refused.some((m) => m.startsWith(`${p}: `));
    for (const p of ['/etc/passwd', '/root/.ssh/id_rsa', `${env.outside}/secret.txt`, join(env.project, 'escape-link/secret.txt'), join(env.project, 'escape-link/not-there.txt'), join(env.project, 'secret-link.txt'), join(env.project, 'dangling-link'), join(env.project, 'dangling-link/x'), join(env.project, 'NOTES.md'), join(env.project, 'src/../../outside/not-there.txt')]) {
      expect.soft(named(p), p).toBe(true);
    }
    // Backup names that are no plain names, and backups that are symlinks.
    for (const name of ['../../../../etc/passwd', '/etc/shadow', 'f7468aca950ecfb7@v1/../../../../outside/secret.txt', '..@v1', '../../../outside/secret.txt']) expect.soft(named(name), name).toBe(true);
    expect(refused.some((m) => m.startsWith(join(env.claude, 'file-history', SID, 'f7468aca950ecfb7@v1')) && /symlink/.test(m))).toBe(true);
    expect(refused.some((m) => m.startsWith(join(env.claude, 'file-history', SID, 'deadbeefdeadbeef@v1')) && /symlink/.test(m))).toBe(true);
    // A symlinked project file is `unknown`, with the reason.
    expect(json.files.find((f) => f.file === 'NOTES.md')).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/outside the project/) });
    const text = runs.find((r) => r.args[0] === 'diff' && !r.args.includes('--json'))!.stdout;
    expect(text).toMatch(/Not opened \(\d+\): paths outside the project dir or the Claude dir, or through a symlink leading out:/);
    expect(text).toContain(`${join(env.project, 'secret-link.txt')}: outside the project directory (or a symlink leading out of it); not read`);
    expect(text).toContain(`${join(env.claude, 'file-history', SID, 'f7468aca950ecfb7@v1')}: the backup is a symlink`);
  });

  it('reads no pending task from a tasks folder or a client record that lead out of the Claude dir', () => {
    const snapshotPath = (JSON.parse(runs.find((r) => r.args[0] === 'recover' && !r.args.includes('--dry-run'))!.stdout) as { written: { snapshot: string } }).written.snapshot;
    const snap = JSON.parse(readFileSync(snapshotPath, 'utf8')) as { pending_todos: { source: string }[]; crashed_clients: { pid: number }[] };
    expect(snap.pending_todos.filter((t) => t.source === 'tasks-dir')).toEqual([]);
    expect(snap.crashed_clients.map((c) => c.pid)).toEqual([8450]);
  });
});

describe('hostile ids and cwds', () => {
  it('never joins a session id with `..` to a Claude dir path (file-history, tasks, the copies recover makes)', async () => {
    const env = makeEnv('sid');
    // join(<claude>/file-history, '../../outside') and join(<claude>/tasks, '../../outside') are <root>/outside.
    const evil = '../../outside';
    hostileSession(env, { sessionId: evil });
    ageOutside(env);
    const runs = await runAll(env, commandsFor(env, env.file));
    for (const r of runs) expect.soft(r.code, r.args.join(' ').slice(0, 80)).toBe(0);
    expectConfined(runs, allowedFor(env));
    expectUntouched(env, runs);
    const snapshotPath = (JSON.parse(runs.find((r) => r.args[0] === 'recover' && !r.args.includes('--dry-run'))!.stdout) as { written: { snapshot: string } }).written.snapshot;
    expect((JSON.parse(readFileSync(snapshotPath, 'utf8')) as { pending_todos: { source: string }[] }).pending_todos.filter((t) => t.source === 'tasks-dir')).toEqual([]);
  });

  it('opens nothing through a cwd of `/` when no --project-dir is given, and maps it into the project when one is', async () => {
    const env = makeEnv('root-cwd');
    hostileSession(env, { cwd: '/' });
    ageOutside(env);
    // (resume's reading of Claude Code settings in the session's cwd is the next test's.)
    const commands = commandsFor(env, env.file, []).filter((c) => c[0] !== 'resume');
    const runs = await runAll(env, commands);
    for (const r of runs) expect.soft(r.code, r.args.join(' ').slice(0, 80)).toBe(0);
    // Without --project-dir the transcript's own cwd, `/`, would be the project: nothing at all is opened through it.
    expectConfined(runs, { dirs: [env.claude], files: [env.file, join(env.xdg, 'ccrescue', 'settings.json')], meta: ['/'] });
    expectUntouched(env, runs);
    const diff = JSON.parse(runs.find((r) => r.args[0] === 'diff' && r.args.includes('--json'))!.stdout) as { files: { file: string; status: string }[] };
    // Shown relative to the cwd `/`, as the client saw it; the session is not in Claude Code's folder for `/`, so `/` is no project dir.
    expect(diff.files.find((f) => f.file === 'etc/passwd')).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/pass --project-dir/) });
    // With --project-dir, `/etc/passwd` of a session run in `/` is <project>/etc/passwd.
    const mapped = await runAll(env, [['diff', env.file, '--json', '--claude-dir', env.claude, '--project-dir', env.project]]);
    expectConfined(mapped, allowedFor(env));
    expect(mapped[0]!.calls.some((c) => c.path === join(env.project, 'etc', 'passwd'))).toBe(true);
  });


  it('takes the cwd a session names as its project only when the session lies in Claude Code\'s folder for that cwd', async () => {
    // A session from a download or a bug report names the sentinel folder as its cwd: that folder exists here.
    const env = makeEnv('foreign-cwd');
    hostileSession(env, { cwd: env.outside });
    const downloaded = join(env.root, 'downloads', `${SID}.jsonl`);
    mkdirSync(dirname(downloaded));
    cpSync(env.file, downloaded);
    ageOutside(env);
    const runs = await runAll(env, [['diff', downloaded, '--json', '--claude-dir', env.claude], ['recover', downloaded, '--dry-run', '--json', '--claude-dir', env.claude]]);
    for (const r of runs) expect.soft(r.code, r.args.join(' ').slice(0, 80)).toBe(0);
    expectUntouched(env, runs);
    expect(runs.flatMap((r) => r.calls).filter((c) => c.path.startsWith(env.outside))).toEqual([]);
    const diff = JSON.parse(runs[0]!.stdout) as { project_dir: string | null; files: { status: string; evidence: string }[] };
    expect(diff.project_dir).toBeNull();
    expect(diff.files.length).toBeGreaterThan(0);
    for (const f of diff.files) expect(f).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/pass --project-dir/) });
  });

  it('resume reads Claude Code settings from the project dir it was given, not from another folder the transcript names as its cwd, nor from `/`', async () => {
    const env = makeEnv('resume-cwd');
    // The transcript says it ran in <root>/elsewhere (a folder that exists); the project is given with --project-dir.
    const elsewhere = join(env.root, 'elsewhere');
    mkdirSync(join(elsewhere, '.claude'), { recursive: true });
    writeFileSync(join(elsewhere, '.claude', 'settings.json'), JSON.stringify({ env: { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9/elsewhere' } }));
    hostileSession(env, { cwd: elsewhere });
    const runs = await runAll(env, [['resume', env.file, '--no-wait', '--no-auto-resume', '--json', '--claude-dir', env.claude, '--project-dir', env.project]]);
    expect(runs[0]!.code).toBe(0);
    // The client is started where the session ran (Claude Code finds the session through it), so resume
    // may ask whether that folder exists; it opens nothing in it.
    expectConfined(runs, allowedFor(env, { meta: [elsewhere] }));
    // A session run in `/`, no --project-dir: `/.claude/settings.json` is no project's settings.
    const rootEnv = makeEnv('resume-root');
    hostileSession(rootEnv, { cwd: '/' });
    const atRoot = await runAll(rootEnv, [['resume', rootEnv.file, '--no-wait', '--no-auto-resume', '--json', '--claude-dir', rootEnv.claude]]);
    expect(atRoot[0]!.code).toBe(0);
    expectConfined(atRoot, { dirs: [rootEnv.claude], files: [rootEnv.file, join(rootEnv.xdg, 'ccrescue', 'settings.json')], meta: ['/'] });
  });
});

describe('symlinks leading out are refused', () => {
  it('does not read a backup folder that is a symlink out of the Claude dir, and says so', async () => {
    const env = makeEnv('backup-dir');
    hostileSession(env);
    const store = join(env.claude, 'file-history', SID);
    rmSync(store, { recursive: true });
    symlinkSync(env.outside, store);
    ageOutside(env);
    const runs = await runAll(env, commandsFor(env, env.file));
    for (const r of runs) expect.soft(r.code, r.args.join(' ').slice(0, 80)).toBe(0);
    expectConfined(runs, allowedFor(env));
    expectUntouched(env, runs);
    const text = runs.find((r) => r.args[0] === 'diff' && !r.args.includes('--json'))!.stdout;
    expect(text).toContain(`: ${store}: the backup folder leads out of the Claude dir (a symlink); not opened`);
  });

  it('does not read a subagents folder that is a symlink out of the session folder', async () => {
    const env = makeEnv('subagents');
    const subDir = join(dirname(env.file), SID, 'subagents');
    mkdirSync(dirname(subDir), { recursive: true });
    symlinkSync(env.outside, subDir);
    hostileSession(env);
    ageOutside(env);
    const runs = await runAll(env, commandsFor(env, env.file));
    for (const r of runs) expect.soft(r.code, r.args.join(' ').slice(0, 80)).toBe(0);
    expectConfined(runs, allowedFor(env));
    expectUntouched(env, runs);
  });

  it('does not find a session through a project folder in <claude>/projects that is a symlink out', async () => {
    const env = makeEnv('folder');
    const elsewhere = join(env.outside, 'folder');
    mkdirSync(elsewhere);
    const id = randomUUID();
    hostileSession(env);
    hostileSession(env, { file: join(elsewhere, `${id}.jsonl`) });
    symlinkSync(elsewhere, join(env.claude, 'projects', '-evil-folder'));
    ageOutside(env);
    const byId = await cli(['recover', id, '--dry-run', '--claude-dir', env.claude], env);
    expect(byId.code).toBe(2);
    expect(byId.stderr).toContain(`no session matches "${id}"`);
    const scan = await cli(['scan', '--jobs', '0', '--all', '--json', '--claude-dir', env.claude], env);
    expect(scan.code).toBe(0);
    expect((JSON.parse(scan.stdout) as { sessions: { file: string }[] }).sessions.map((s) => s.file)).not.toContainEqual(expect.stringContaining(id));
    // locateSession asks whether the argument names a file in the working directory: the user's own argument.
    expectConfined([byId, scan], allowedFor(env, { files: [resolve(id)] }));
    expectUntouched(env, [byId, scan]);
  });

  it('reads a project reached through a symlink, but still nothing that leads out of it', async () => {
    const env = makeEnv('project-link');
    plantSymlinks(env);
    hostileSession(env);
    const link = join(env.root, 'project-link');
    symlinkSync(env.project, link);
    ageOutside(env);
    const runs = await runAll(env, commandsFor(env, env.file, ['--project-dir', link]));
    for (const r of runs) expect.soft(r.code, r.args.join(' ').slice(0, 80)).toBe(0);
    expectConfined(runs, allowedFor(env, { dirs: [link] }));
    expectUntouched(env, runs);
    // The project's files are read, under the project's real path.
    expect(runs[2]!.calls.some((c) => c.kind === 'read' && c.path === join(env.project, 'src', 'math.js'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// 3: nothing from a transcript is executed

/** A stand-in for `claude`: writes its argv (NUL-separated) and its working directory, runs nothing. */
function stubClient(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const stub = join(dir, 'claude');
  writeFileSync(stub, '#!/bin/sh\n: > "$STUB_OUT"\nfor a in "$@"; do printf \'%s\\0\' "$a" >> "$STUB_OUT"; done\nprintf \'%s\' "$PWD" > "$STUB_OUT.cwd"\n');
  chmodSync(stub, 0o755);
  return stub;
}

const stubArgv = (out: string): string[] => {
  const parts = readFileSync(out, 'utf8').split('\0');
  parts.pop();
  return parts;
};

const run = (args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) => ccrescue(args, o);

/** Files named pwned* anywhere under these folders. */
function pwned(dirs: string[]): string[] {
  return dirs.flatMap((d) => {
    try {
      return (readdirSync(d, { recursive: true }) as string[]).filter((p) => basename(p).startsWith('pwned')).map((p) => join(d, p));
    } catch {
      return [];
    }
  });
}

describe('nothing from a transcript is ever executed', () => {
  it('src/ spawns only the client binary, never through a shell, and evaluates nothing', () => {
    const sources: { path: string; text: string }[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        // Comments mention `eval` (processes.ts describes how Claude Code runs a command): code only.
        else if (p.endsWith('.ts')) sources.push({ path: relative(REPO, p), text: readFileSync(p, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '') });
      }
    };
    walk(join(REPO, 'src'));
    const hits = (re: RegExp) => sources.filter((s) => re.test(s.text)).map((s) => s.path);
    expect(hits(/from ['"](?:node:)?child_process['"]/)).toEqual(['src/resume/launch.ts']);
    // (`.exec(` of a RegExp is not a process.)
    expect(hits(/(?<![.\w])(?:exec|execSync|execFile|execFileSync|spawnSync|fork)\s*\(/)).toEqual([]);
    expect(hits(/(?<![.\w])spawn\s*\(/)).toEqual(['src/resume/launch.ts']);
    expect(hits(/shell\s*:\s*true/)).toEqual([]);
    expect(hits(/\beval\s*\(|new\s+Function\s*\(|from ['"](?:node:)?vm['"]|require\s*\(/)).toEqual([]);
    // Dynamic imports name fixed modules only; a Worker runs the built scan worker, with no eval.
    const dynamic = sources.flatMap((s) => [...s.text.matchAll(/\bimport\s*\(([^)]*)\)/g)].map((m) => m[1]!.trim()));
    expect(dynamic.every((arg) => /^['"][^'"]+['"]$/.test(arg))).toBe(true);
    expect(hits(/new Worker\(/)).toEqual(['src/guard/snapshot.ts', 'src/scan/scan.ts']);
    expect(hits(/eval\s*:\s*true/)).toEqual([]);
    // Signals: existence checks of recorded pids only (signal 0); launch.ts forwards the user's own signals to the client it started;
    // guard raises again, on itself, a stop signal that came before its command started, so that launch.ts passes it on.
    const kills = sources.flatMap((s) => [...s.text.matchAll(/\b(\w+)\.kill\(([^)]*)\)/g)].map((m) => `${s.path}: ${m[1]}.kill(${m[2]})`));
    expect(kills.filter((k) => !/process\.kill\(pid, 0\)$/.test(k))).toEqual(['src/cli/guard-command.ts: process.kill(process.pid, early)', 'src/resume/launch.ts: child.kill(signal)']);
  });

  // Shell payloads in the user's prompt, a Bash command, file paths, a todo, and the session's cwd
  // (a real folder named with them, so `resume` starts the client there).
  const payload = (root: string) => `it's "quoted" $(touch ${root}/pwned-p1) \`touch ${root}/pwned-p2\` ; touch ${root}/pwned-p3 | tee ${root}/pwned-p4 & $HOME \\ \n newline ; exit 7`;

  function shellSession(env: Env): { cwd: string; prompt: string } {
    // No `/` can be in a folder name: these payloads make relative files, looked for under the shell's folder.
    const cwd = join(env.root, `proj $(touch pwned-c1) \`touch pwned-c2\` ; touch pwned-c3 'q' "d" & |`);
    cpSync(env.project, cwd, { recursive: true });
    const prompt = payload(env.root);
    let base = deepReplace(fixtureLines(), FIX_CWD, cwd);
    base = deepReplace(base, 'Make add() coerce its inputs, write notes, then run the slow job.', prompt);
    const chain = new Chain(base, cwd, SID);
    chain.toolUse('Bash', { command: `echo $(touch ${env.root}/pwned-b1); \`touch ${env.root}/pwned-b2\`; touch ${env.root}/pwned-b3`, description: 'x' });
    chain.toolUse('Edit', { file_path: `${cwd}/$(touch ${env.root}/pwned-f1).js`, old_string: '`touch pwned-f2`', new_string: '; touch pwned-f3' });
    chain.toolUse('Write', { file_path: `${env.root}/;touch pwned-f4;.txt`, content: `$(touch ${env.root}/pwned-f5)` });
    chain.toolUse('TodoWrite', { todos: [{ content: `$(touch ${env.root}/pwned-t1)`, status: 'pending', activeForm: 'x' }] });
    writeSession(env.file, chain.entries);
    return { cwd, prompt };
  }

  it('recover, diff, report and scan run nothing, and resume gives the client the prompt as one argument', () => {
    const env = makeEnv('exec');
    const { cwd, prompt } = shellSession(env);
    const shellDir = join(env.root, 'shell');
    mkdirSync(shellDir);
    const stubDir = join(env.root, 'stub');
    const stub = stubClient(stubDir);
    const out = join(env.root, 'argv.bin');
    const common = { cwd: shellDir, env: { XDG_CONFIG_HOME: env.xdg, STUB_OUT: out } };
    const cd = ['--claude-dir', env.claude];
    for (const args of [
      ['diff', env.file, ...cd],
      ['diff', env.file, '--json', ...cd],
      ['report', env.file, ...cd],
      ['report', env.file, '--json', '--redact', 'strict', ...cd],
      ['scan', '--all', ...cd],
      ['recover', env.file, '--dry-run', ...cd],
    ]) {
      expect.soft(run(args, common).code, args.join(' ')).toBe(0);
    }
    const rec1 = run(['recover', env.file, ...cd], common);
    expect(rec1.code).toBe(0);
    expect(run(['scan', '--repair', ...cd], common).code).toBe(0);
    const res = run(['resume', env.file, '--no-wait', '--claude-bin', stub, '--json', ...cd], common);
    expect(res.code).toBe(0);
    const doc = JSON.parse(res.stdout) as { snapshot: { continuation_prompt: string; repaired_session_id: string }; started: boolean; client_exit_code: number };
    expect(doc).toMatchObject({ started: true, client_exit_code: 0 });
    expect(doc.snapshot.continuation_prompt).toContain(prompt.slice(0, 60));
    expect(stubArgv(out)).toEqual(['--resume', doc.snapshot.repaired_session_id, doc.snapshot.continuation_prompt]);
    expect(readFileSync(`${out}.cwd`, 'utf8')).toBe(cwd);
    expect(pwned([env.root])).toEqual([]);
  });

  it('prints `claude --resume …` commands that a shell runs as exactly one client call with the exact prompt', () => {
    const env = makeEnv('quote');
    const { cwd, prompt } = shellSession(env);
    const shellDir = join(env.root, 'shell');
    mkdirSync(shellDir);
    const stubDir = join(env.root, 'stub');
    stubClient(stubDir);
    const out = join(env.root, 'argv.bin');
    const cliEnv = { XDG_CONFIG_HOME: env.xdg, STUB_OUT: out };
    const sh = (command: string) => spawnSync('/bin/sh', ['-c', command], { cwd: shellDir, env: { ...process.env, PATH: `${stubDir}:${process.env.PATH}`, STUB_OUT: out }, encoding: 'utf8' });

    // recover's text output ends with the command.
    const rec1 = run(['recover', env.file, '--claude-dir', env.claude], { cwd: shellDir, env: cliEnv });
    expect(rec1.code).toBe(0);
    const marker = '\nresume with:\n';
    const printed = rec1.stdout.slice(rec1.stdout.indexOf(marker) + marker.length).replace(/\n$/, '');
    const snapFile = /^recovery snapshot: (.+)$/m.exec(rec1.stdout)![1]!;
    const snap = JSON.parse(readFileSync(snapFile, 'utf8')) as { continuation_prompt: string; repaired_session_id: string; resume_command: string };
    expect(snap.continuation_prompt).toContain(prompt.slice(0, 60));
    expect(printed).toBe(snap.resume_command);
    const r1 = sh(printed);
    expect(r1.status).toBe(0);
    expect(stubArgv(out)).toEqual(['--resume', snap.repaired_session_id, snap.continuation_prompt]);

    // resume --no-auto-resume prints `cd <cwd> && claude --resume …`.
    for (const json of [false, true]) {
      rmSync(out, { force: true });
      const res = run(['resume', env.file, '--no-wait', '--no-auto-resume', '--claude-dir', env.claude, ...(json ? ['--json'] : [])], { cwd: shellDir, env: cliEnv });
      expect(res.code).toBe(0);
      expect(existsSync(out)).toBe(false); // the client was not started
      const doc = json ? (JSON.parse(res.stdout) as { resume_command: string; snapshot: { continuation_prompt: string; repaired_session_id: string } }) : null;
      const command = json ? doc!.resume_command : res.stdout.replace(/\n$/, '');
      expect(command.startsWith(`cd ${shellQuote(cwd)} && `)).toBe(true);
      const r2 = sh(command);
      expect(r2.status).toBe(0);
      const argv = stubArgv(out);
      expect(argv.length).toBe(3);
      expect(argv[0]).toBe('--resume');
      if (doc) expect(argv.slice(1)).toEqual([doc.snapshot.repaired_session_id, doc.snapshot.continuation_prompt]);
      else expect(argv[2]).toContain(prompt.slice(0, 60));
      expect(readFileSync(`${out}.cwd`, 'utf8')).toBe(cwd);
    }
    expect(pwned([env.root])).toEqual([]);
  });

  it('gives the client no option from the transcript: a session id that starts with `-` is not passed as one', () => {
    const env = makeEnv('argv');
    // A healthy session is resumed under its own id, which the transcript names.
    const evilId = '--mcp-config={"mcpServers":{"x":{"command":"touch","args":["pwned-mcp"]}}}';
    const lines = readFileSync(join(FIXTURE, 'claude', 'projects', FOLDER, `${SID}.jsonl`), 'utf8').split('\n').filter(Boolean).slice(0, 24);
    const healthy = lines.map((l) => JSON.parse(l) as Entry).map((e) => deepReplace(deepReplace(e, FIX_CWD, env.project), SID, evilId));
    writeSession(env.file, healthy);
    rmSync(join(env.claude, 'sessions'), { recursive: true });
    // The disk as the session's Read saw it, so that nothing but the id is odd.
    writeFileSync(join(env.project, 'src', 'math.js'), 'function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n');
    const stub = stubClient(join(env.root, 'stub'));
    const out = join(env.root, 'argv.bin');
    // The session is healthy, so resume would start the client under the transcript's own id.
    const dry = run(['recover', env.file, '--dry-run', '--json', '--claude-dir', env.claude], { cwd: env.root, env: { XDG_CONFIG_HOME: env.xdg } });
    expect((JSON.parse(dry.stdout) as { status: string; snapshot: { session_id: string } }).snapshot.session_id).toBe(evilId);
    expect((JSON.parse(dry.stdout) as { status: string }).status).toBe('healthy');
    const res = run(['resume', env.file, '--no-wait', '--claude-bin', stub, '--claude-dir', env.claude], { cwd: env.root, env: { XDG_CONFIG_HOME: env.xdg, STUB_OUT: out } });
    const argv = existsSync(out) ? stubArgv(out) : [];
    // Either refused (no client started, a failing exit), or the id reaches the client as the value of
    // --resume, never as an option of its own (`claude --resume --version` prints the version: the
    // client's option parser takes a value starting with `-` for an option).
    if (argv.length === 0) expect(res.code, res.stderr).not.toBe(0);
    expect(argv.slice(1).some((a) => a.startsWith('-')), `stderr: ${res.stderr} argv: ${JSON.stringify(argv)}`).toBe(false);
    expect(pwned([env.root])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4: redaction on every path that prints transcript text
//
// Only `report` promises redaction. For the record, what the other commands print of a transcript,
// unredacted (they are for the machine's own user, not for sharing):
// - recover: the session path, finding messages (paths, tool names, ids), each interrupted call's
//   command or file, every repair's detail, the continuation prompt (the user's last request, the
//   partial response text, pending todos, diffs of untracked changes with file contents), the
//   resume command; errors name the file and may quote an entry type (ForeignFormatError).
// - diff: the session path, project and backup dirs, every touched file's path, evidence and
//   unified diffs of transcript or backup content against the disk (file contents), surviving
//   processes' command lines, crashed clients' record paths, refused paths.
// - scan: per file its path, the recorded cwd ("project"), session id, client versions, finding
//   codes and the reason a file is foreign or unreadable (which may quote an entry type); with
//   --repair the repair outcomes and error messages.
// - resume: recover's output on stderr, the resume command with the full prompt.

const S = {
  anthropic: 'sk-ant-api03-Zq8vR2mK7pL4nW9tT3bY6cH1dF5gJ0aSQe7uI2oP4lK8jHwE',
  github: 'ghp_R7tY2uI9oP3aS5dF8gH1jK4lZ6qC0vB2nM7q',
  aws: 'AKIAQ7RZ3TYU4IOP5ASD',
  password: 'Hunter2Secret9Zq',
  pem: 'MIIEowIBAAKCAQEA7qZk3Jb9Lm2Pq8Rt5Vw1Xy4Zc6Ab0Cd3Ef7Gh2Ij9Kl',
};
/** What may never appear: the random core of each secret. */
const NEEDLES = ['Zq8vR2mK7pL4nW9tT3bY6cH1dF5gJ0aS', 'R7tY2uI9oP3aS5dF8gH1jK4lZ6qC0vB2nM7q', 'Q7RZ3TYU4IOP5ASD', 'Hunter2Secret9Zq', 'MIIEowIBAAKCAQEA7qZk3Jb9Lm2Pq8Rt5Vw1Xy4Zc6Ab0Cd3Ef7Gh2Ij9Kl'];
const BLOB = `key ${S.anthropic} token ${S.github} aws ${S.aws} db postgres://admin:${S.password}@db.corp.internal:5432/app pem -----BEGIN RSA PRIVATE KEY-----\n${S.pem}\n-----END RSA PRIVATE KEY-----`;
/** The secrets that fit in a path (no spaces or slashes). */
const PATHY = `${S.aws}/${S.github}/${S.anthropic}`;

const leaks = (text: string): string[] => NEEDLES.filter((n) => text.includes(n));

/** A placement: a session built from the fixture with the secrets planted in one place. */
interface Placement {
  name: string;
  build(env: Env): { file: string; projectDir?: string };
}

function chainOf(env: Env, o: { cwd?: string; sessionId?: string } = {}): Chain {
  const cwd = o.cwd ?? env.project;
  let base = deepReplace(fixtureLines(), FIX_CWD, cwd);
  if (o.sessionId) base = deepReplace(base, SID, o.sessionId);
  return new Chain(base, cwd, o.sessionId ?? SID);
}

const PLACEMENTS: Placement[] = [
  {
    name: 'a torn last line',
    build(env) {
      const c = chainOf(env);
      writeSession(env.file, [...c.entries, `{"type":"user","message":{"role":"user","content":${JSON.stringify(BLOB)}`], false);
      return { file: env.file };
    },
  },
  {
    name: 'a torn line cut short mid-string',
    build(env) {
      const c = chainOf(env);
      writeSession(env.file, [...c.entries, `{"type":"user","message":{"role":"user","content":"${S.github} ${S.anthropic} ${S.aws} postgres://admin:${S.password}@db.corp.internal -----BEGIN RSA PRIVATE KEY-----\\n${S.pem}`], false);
      return { file: env.file };
    },
  },
  {
    name: 'a line that is not JSON, mid-file',
    build(env) {
      const lines: (Entry | string)[] = chainOf(env).entries;
      lines.splice(30, 0, `not json at all: ${BLOB.replace(/\n/g, ' ')}`);
      writeSession(env.file, lines);
      return { file: env.file };
    },
  },
  {
    name: 'a line with invalid UTF-8',
    build(env) {
      const c = chainOf(env);
      const text = JSON.stringify({ parentUuid: c.leaf, isSidechain: false, type: 'system', subtype: 'informational', content: `BAD ${BLOB}`, uuid: randomUUID(), timestamp: '2026-11-24T01:23:51.000Z', sessionId: SID, version: '2.1.328', cwd: env.project });
      const at = text.indexOf('BAD ');
      const bytes = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(text.slice(at))]);
      writeSession(env.file, [...c.entries, bytes]);
      return { file: env.file };
    },
  },
  {
    name: 'a line with a lone surrogate',
    build(env) {
      const c = chainOf(env);
      c.system(`\ud800 ${BLOB} \udc00`);
      c.assistantBlocks([{ type: 'text', text: `\ud83d ${BLOB}` }]);
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'entries of unknown types, a secret in the type itself',
    build(env) {
      const c = chainOf(env);
      c.side({ type: `mystery-${S.github}`, payload: BLOB, sessionId: SID, uuid: randomUUID() });
      c.side({ type: 'mystery', subtype: `sub-${S.anthropic}`, data: { nested: [BLOB] }, sessionId: SID });
      c.assistantBlocks([{ type: `block-${S.aws}`, text: BLOB }]);
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'tool inputs',
    build(env) {
      const c = chainOf(env);
      c.toolUse('Write', { file_path: `${env.project}/config.env`, content: BLOB });
      c.toolUse('Edit', { file_path: `${env.project}/src/math.js`, old_string: BLOB, new_string: BLOB });
      c.toolUse('WebFetch', { url: `https://admin:${S.password}@db.corp.internal/?token=${S.github}`, prompt: BLOB });
      c.toolUse('Grep', { pattern: S.anthropic, path: `${env.project}/${S.aws}` });
      c.toolUse('TodoWrite', { todos: [{ content: BLOB, status: 'pending', activeForm: BLOB }] });
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'a thinking block',
    build(env) {
      const c = chainOf(env);
      c.assistantBlocks([{ type: 'thinking', thinking: BLOB, signature: 'EqQBCkYIBRgCKkB' }]);
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'the cwd',
    build(env) {
      const cwd = `/srv/${PATHY}/proj`;
      writeSession(env.file, chainOf(env, { cwd }).entries);
      return { file: env.file };
    },
  },
  {
    name: 'the cwd, as a real project dir',
    build(env) {
      const cwd = join(env.root, S.aws, S.github, S.anthropic);
      mkdirSync(dirname(cwd), { recursive: true });
      cpSync(env.project, cwd, { recursive: true });
      writeSession(env.file, chainOf(env, { cwd }).entries);
      return { file: env.file, projectDir: cwd };
    },
  },
  {
    name: 'file paths',
    build(env) {
      const c = chainOf(env);
      c.toolUse('Edit', { file_path: `${env.project}/${PATHY}.env`, old_string: 'a', new_string: 'b' });
      c.toolUse('Write', { file_path: `/etc/${PATHY}`, content: 'x' });
      c.toolUse('NotebookEdit', { notebook_path: `../${PATHY}.ipynb`, new_source: 'x' });
      const read = c.toolUse('Read', { file_path: `${env.project}/${PATHY}` });
      c.result(read, 'x', { type: 'text', file: { filePath: `${env.project}/${PATHY}`, content: 'x', numLines: 1, startLine: 1, totalLines: 1 } });
      c.side({ type: 'file-history-delta', messageId: randomUUID(), snapshotMessageId: randomUUID(), trackingPath: `${PATHY}.txt`, backup: { backupFileName: `${S.github}@v1`, version: 1, backupTime: '2026-11-24T01:23:50.600Z' }, timestamp: '2026-11-24T01:23:50.600Z' });
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'a Bash command',
    build(env) {
      const c = chainOf(env);
      c.toolUse('Bash', { command: `curl -H "Authorization: Bearer ${S.anthropic}" https://admin:${S.password}@db.corp.internal/ && export GITHUB_TOKEN=${S.github} AWS_ACCESS_KEY_ID=${S.aws} && echo '-----BEGIN RSA PRIVATE KEY-----\n${S.pem}\n-----END RSA PRIVATE KEY-----' > key.pem`, description: BLOB });
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'the user prompt and an API error',
    build(env) {
      let base = deepReplace(fixtureLines(), FIX_CWD, env.project);
      base = deepReplace(base, 'Make add() coerce its inputs, write notes, then run the slow job.', BLOB);
      const c = new Chain(base, env.project, SID);
      c.system(`API Error: 401 ${BLOB}`, { subtype: 'api_error', level: 'error', error: { status: 401, message: BLOB, error: { message: BLOB } }, retryAttempt: 1, maxRetries: 10 });
      c.assistantBlocks([{ type: 'text', text: `API Error: 500 ${BLOB}` }], { isApiErrorMessage: true });
      writeSession(env.file, c.entries);
      return { file: env.file };
    },
  },
  {
    name: 'ids, versions, tool names and stop reasons',
    build(env) {
      const sessionId = `sess-${S.github}`;
      const c = chainOf(env, { sessionId });
      c.entries.forEach((e) => {
        if (typeof e.version === 'string') e.version = `2.1.328-${S.anthropic}`;
      });
      c.toolUse(`mcp__${S.aws}__tool`, { x: 1 }, `toolu_01-${S.github}`);
      c.assistantBlocks([{ type: 'text', text: 'done' }], { message: { ...(c.entries[c.entries.length - 1]!.message as Entry), id: `msg_${S.aws}`, stop_reason: `stop-${S.anthropic}`, content: [{ type: 'text', text: 'done' }] } });
      c.side({ type: 'last-prompt', lastPrompt: BLOB, leafUuid: `leaf-${S.github}`, sessionId });
      const file = join(dirname(env.file), `${sessionId}.jsonl`);
      writeSession(file, c.entries);
      return { file };
    },
  },
  {
    name: "the session file's name and folder",
    build(env) {
      const file = join(env.claude, 'projects', `${S.aws}-${S.github}`, `${S.anthropic}.jsonl`);
      writeSession(file, chainOf(env).entries);
      return { file };
    },
  },
];

/** Error inputs: each one a file (named with the secrets, in a folder named with them) that `report` must refuse. */
const ERROR_INPUTS: { name: string; write(file: string): void; code: number; chmod?: boolean }[] = [
  {
    name: 'a Codex rollout',
    code: 2,
    write: (f) => writeSession(f, [{ timestamp: '2026-01-01T00:00:00Z', type: 'session_meta', payload: { id: 'x', cwd: `/srv/${PATHY}`, instructions: BLOB } }, { type: 'response_item', payload: { type: 'message', role: 'user', content: [{ type: 'input_text', text: BLOB }] } }]),
  },
  { name: 'a file that is not JSONL at all', code: 2, write: (f) => writeSession(f, [`# notes ${BLOB}`, `more ${BLOB}`]) },
  { name: 'a pretty-printed JSON document', code: 2, write: (f) => writeFileSync(f, JSON.stringify({ sessionId: S.github, messages: [{ type: 'user', content: BLOB }] }, null, 2)) },
  { name: 'a JSONL file whose first type is a secret', code: 2, write: (f) => writeSession(f, [{ type: S.github, text: BLOB }, { type: `x-${S.anthropic}` }]) },
  { name: 'a folder named like a session', code: 2, write: (f) => mkdirSync(f, { recursive: true }) },
  { name: 'a missing file', code: 2, write: () => undefined },
];

const REPORT_MODES: string[][] = [[], ['--json'], ['--redact', 'strict'], ['--format', 'json', '--redact', 'strict']];

describe('redaction holds on every path that prints transcript text, errors included', () => {
  it('knows every planted secret (the test would prove nothing otherwise)', () => {
    for (const mode of ['default', 'strict'] as const) {
      const red = createRedactor({ mode });
      expect(leaks(red.text(BLOB))).toEqual([]);
      expect(leaks(red.text(PATHY))).toEqual([]);
      expect(leaks(red.text(`${S.aws}-${S.github}/${S.anthropic}.jsonl`))).toEqual([]);
    }
    expect(NEEDLES.every((n) => BLOB.includes(n))).toBe(true);
  });

  for (const p of PLACEMENTS) {
    it(`report prints no secret planted in ${p.name}`, async () => {
      const env = makeEnv('redact');
      const built = p.build(env);
      const failures: string[] = [];
      for (const mode of REPORT_MODES) {
        const args = ['report', built.file, '--claude-dir', env.claude, ...(built.projectDir ? ['--project-dir', built.projectDir] : []), ...mode];
        const r = await cli(args, env);
        if (r.code !== 0) failures.push(`${mode.join(' ') || 'markdown'}: exit ${r.code}: ${r.stderr}`);
        const found = [...leaks(r.stdout).map((n) => `stdout ${n}`), ...leaks(r.stderr).map((n) => `stderr ${n}`)];
        if (found.length > 0) failures.push(`${mode.join(' ') || 'markdown'}: ${found.join(', ')}`);
        // Also as an error: the same session with a --project-dir that does not exist.
        const bad = await cli(['report', built.file, '--claude-dir', env.claude, '--project-dir', join(env.root, `missing-${S.aws}`, S.github), ...mode], env);
        if (bad.code !== 2) failures.push(`missing project dir ${mode.join(' ')}: exit ${bad.code}`);
        const badFound = [...leaks(bad.stdout), ...leaks(bad.stderr)];
        if (badFound.length > 0) failures.push(`missing project dir ${mode.join(' ') || 'markdown'}: ${badFound.join(', ')} in ${bad.stderr}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it('report prints no secret on its error paths: foreign, non-JSONL, unknown, missing and folder inputs', async () => {
    const env = makeEnv('redact-errors');
    const failures: string[] = [];
    for (const [i, input] of ERROR_INPUTS.entries()) {
      const file = join(env.root, `case${i}-${S.aws}`, `${S.github}-${S.anthropic}.jsonl`);
      mkdirSync(dirname(file), { recursive: true });
      input.write(file);
      for (const mode of REPORT_MODES) {
        const r = await cli(['report', file, '--claude-dir', env.claude, ...mode], env);
        if (r.code !== input.code) failures.push(`${input.name} ${mode.join(' ')}: exit ${r.code} (${r.stderr.trim()})`);
        if (r.stderr.split('\n').filter(Boolean).length !== 1) failures.push(`${input.name} ${mode.join(' ')}: not one line on stderr: ${r.stderr}`);
        const found = [...leaks(r.stdout), ...leaks(r.stderr)];
        if (found.length > 0) failures.push(`${input.name} ${mode.join(' ') || 'markdown'}: ${found.join(', ')} in ${r.stderr.trim()}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('report prints no secret when the session file cannot be opened (run as an unprivileged user)', () => {
    const env = makeEnv('redact-unreadable');
    const file = join(env.root, `locked-${S.aws}`, `${S.github}-${S.anthropic}.jsonl`);
    writeSession(file, chainOf(env).entries);
    chmodSync(file, 0o000);
    const asNobody = typeof process.getuid === 'function' && process.getuid() === 0;
    // Root opens any file: the command runs as `nobody`, who can walk the temp tree but not open the file.
    for (let d = dirname(file); d !== dirname(d) && d.startsWith(env.root); d = dirname(d)) chmodSync(d, 0o755);
    chmodSync(env.root, 0o755);
    for (const mode of REPORT_MODES) {
      const r = spawnSync(process.execPath, [BIN, 'report', file, '--claude-dir', env.claude, ...mode], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, ...(asNobody ? { uid: 65534, gid: 65534 } : {}), timeout: 60_000 });
      expect.soft(r.status, r.stderr).not.toBe(0);
      expect.soft(r.stderr).toMatch(/EACCES|permission denied/i);
      expect.soft([...leaks(r.stdout), ...leaks(r.stderr)], r.stderr).toEqual([]);
    }
  });
});
