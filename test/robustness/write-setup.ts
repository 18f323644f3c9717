import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, cpSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { BIN, type CliResult } from '../helpers/cli.js';
import { fileSha256, tree } from '../helpers/files.js';
import { recover } from '../../src/recover.js';

/** The real crashed session of fixtures/crash-parallel (two calls without a result, a dead client's record). */
export const FIXTURE = join(import.meta.dirname, '..', '..', 'fixtures', 'crash-parallel');
export const SESSION_ID = '5fec7deb-813f-4346-8789-314f5d8e99ea';
const FOLDER = '-tmp-ccrescue-fixture-work-proj';

export interface CrashCopy {
  dir: string;
  claudeDir: string;
  projectDir: string;
  /** The project folder under claude/projects that holds the session. */
  folder: string;
  file: string;
  /** The session's sha256 before anything ran. */
  sha: string;
  /** `--claude-dir … --project-dir …` */
  dirs: string[];
}

const copies: string[] = [];

/** Removes every copy made (the large ones weigh ~19 MB each), folders made read-only included. */
export function removeCopies(): void {
  const writable = (p: string): void => {
    if (!lstatSync(p).isDirectory()) return;
    chmodSync(p, 0o755);
    for (const n of readdirSync(p)) writable(join(p, n));
  };
  for (const dir of copies.splice(0)) {
    writable(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A throwaway copy of the crash-parallel fixture (or of `from`, a copy made earlier). */
export function crashCopy(from = FIXTURE): CrashCopy {
  const dir = mkdtempSync(join(tmpdir(), 'ccrescue-write-'));
  copies.push(dir);
  cpSync(from, dir, { recursive: true });
  const claudeDir = join(dir, 'claude');
  const projectDir = join(dir, 'project');
  const folder = join(claudeDir, 'projects', FOLDER);
  const file = join(folder, `${SESSION_ID}.jsonl`);
  return { dir, claudeDir, projectDir, folder, file, sha: fileSha256(file), dirs: ['--claude-dir', claudeDir, '--project-dir', projectDir] };
}

/**
 * A copy of the fixture whose session is made large: its complete turns (lines 3–38) repeated
 * `copies` times, each copy with fresh uuids, tool ids and message ids and chained to the one
 * before, then the crashed tail (two tool calls without a result). About 97 kB a copy.
 */
export function bigCrashCopy(copies: number): CrashCopy {
  const c = crashCopy();
  const lines = readFileSync(c.file, 'utf8').split('\n').filter(Boolean);
  const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
  const remap = (block: string[], tag: string): string[] => {
    const ids = new Map([[SESSION_ID, SESSION_ID]]);
    const fresh = (u: string) => ids.get(u) ?? (ids.set(u, randomUUID()), ids.get(u)!);
    return block.map((l) => l.replace(UUID, fresh).replace(/toolu_h_\w+/g, (t) => `${t}_${tag}`).replace(/"(msg_[A-Za-z0-9]+)"/g, (_, m: string) => `"${m}${tag}"`));
  };
  const out = lines.slice(0, 2);
  let leaf: string | null = null;
  for (let k = 0; k <= copies; k++) {
    const block = k < copies ? remap(lines.slice(2, 38), `c${k}`) : remap(lines.slice(38), 'tail');
    const first = JSON.parse(block[0]!) as { parentUuid: string | null };
    if (leaf !== null) block[0] = block[0]!.replace(`"parentUuid":${JSON.stringify(first.parentUuid)}`, `"parentUuid":"${leaf}"`);
    leaf = (JSON.parse(block[block.length - 1]!) as { uuid: string }).uuid;
    out.push(...block);
  }
  writeFileSync(c.file, out.join('\n') + '\n');
  return { ...c, sha: fileSha256(c.file) };
}

/** The names in a folder, dot files included. */
export const names = (dir: string): string[] => readdirSync(dir).sort();
/** Our temp files: `.<name>.<pid>-<hex>.tmp`. */
export const temps = (dir: string): string[] => names(dir).filter((n) => /^\..+\.\d+-[0-9a-f]{8}\.tmp$/.test(n));

/** The claude dir's files and hashes, and the project's: what a failed run must leave as it found. */
export const snapshotOf = (c: CrashCopy) => ({ claude: tree(c.claudeDir), project: tree(c.projectDir) });

export interface Running {
  child: ChildProcess;
  exited: () => boolean;
  done: Promise<CliResult>;
}

const started = new Set<ChildProcess>();

/** Kills (by pid) every CLI a test started that still runs: one left frozen by a failed test, say. */
export function killStarted(): void {
  for (const child of started) child.kill('SIGKILL');
  started.clear();
}

/** Starts the built CLI without waiting for it. */
export function startCli(args: string[]): Running {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((res) => child.on('close', (code) => res({ code, stdout, stderr })));
  child.on('exit', () => {
    exited = true;
    started.delete(child);
  });
  return { child, exited: () => exited, done };
}

/**
 * Polls (yielding to the event loop between looks, no sleeping) until `seen` holds or the process
 * has exited; true when `seen` held while it still ran.
 */
export async function whileRunning(run: Running, seen: () => boolean): Promise<boolean> {
  for (;;) {
    if (run.exited()) return false;
    if (seen()) return true;
    await new Promise((r) => setImmediate(r));
  }
}

/** The process state letter from /proc/<pid>/stat ('T' once stopped, 'Z' once dead). */
const procState = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!;

/**
 * Waits for `seen` while the CLI runs, then freezes it (SIGSTOP) and waits until it is stopped:
 * true when it was frozen in that state, false when it ended first.
 */
export async function freezeWhen(run: Running, seen: () => boolean): Promise<boolean> {
  if (!(await whileRunning(run, seen))) return false;
  run.child.kill('SIGSTOP');
  while (!['T', 't', 'Z'].includes(procState(run.child.pid!))) await new Promise((r) => setImmediate(r));
  return true;
}

/** SIGKILLs the CLI and checks the signal ended it. */
export async function kill(run: Running): Promise<void> {
  run.child.kill('SIGKILL');
  const r = await run.done;
  expect(r.code).toBe(null);
}

/** A failure is one line on stderr without a stack trace. */
export function expectOneLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

/**
 * Checks a repaired copy of the crash-parallel fixture (or of bigCrashCopy) is complete and valid:
 * every line a JSON object; apart from one connection_lost result per call without one and the
 * final last-prompt, exactly the source's lines in order (the session id rewritten for a new
 * session); and a recovery of it finds no damage left (only the dead client's record, which names
 * the original id). `source` is the file, or the bytes, it was repaired from.
 */
export async function expectCompleteRepair(repaired: string, source: Buffer | string, c: CrashCopy, newId?: string): Promise<void> {
  const text = readFileSync(repaired, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  const lines = text.slice(0, -1).split('\n');
  const entries = lines.map((l) => JSON.parse(l) as { type?: string; uuid?: string; leafUuid?: string; message?: { content?: { type?: string; content?: unknown }[] } });
  for (const e of entries) expect(typeof e).toBe('object');
  const lost = (e: (typeof entries)[number]) => e.type === 'user' && typeof e.message?.content?.[0]?.content === 'string' && (e.message.content[0].content as string).startsWith('connection_lost');
  const results = entries.filter(lost);
  expect(results).toHaveLength(2);
  expect(entries[entries.length - 1]).toMatchObject({ type: 'last-prompt', leafUuid: results[1]!.uuid });
  let original = (typeof source === 'string' ? readFileSync(source) : source).toString('utf8');
  if (newId) original = original.replaceAll(`"sessionId":"${SESSION_ID}"`, `"sessionId":"${newId}"`);
  expect(lines.filter((_, i) => !lost(entries[i]!)).slice(0, -1)).toEqual(original.slice(0, -1).split('\n'));
  const again = await recover({ file: repaired, claudeDir: c.claudeDir, projectDir: c.projectDir, dryRun: true, force: true });
  expect(again.analysis.findings.filter((f) => f.severity !== 'notice' && f.code !== 'crashed-client')).toEqual([]);
}
