import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

export type FileState = 'applied' | 'not_applied' | 'diverged' | 'missing' | 'unknown';

export interface MutationState {
  status: FileState;
  /** What the state rests on, in one sentence. */
  evidence: string;
}

/** The project path a transcript names, or null when it points outside the project (never read). */
export function projectPath(projectDir: string, sessionCwd: string | null, filePath: string): string | null {
  const base = realOr(projectDir);
  // A project dir of `/` (a transcript whose cwd is the root) would make every path on the machine a
  // project path: nothing is opened through it.
  if (dirname(base) === base) return null;
  // Paths are recorded against the session's cwd; map them onto the project dir given now.
  const rel = isAbsolute(filePath) && sessionCwd ? relative(sessionCwd, filePath) : isAbsolute(filePath) ? relative(base, filePath) : filePath;
  if (rel.startsWith('..') || isAbsolute(rel)) return null;
  const full = resolve(base, rel);
  // `src/../../elsewhere` does not start with `..` until it is resolved: check the resolved path too.
  const back = relative(base, full);
  if (back === '..' || back.startsWith(`..${sep}`) || isAbsolute(back)) return null;
  // A symlink leading out, the file itself or any folder on the way (even when the file does not exist).
  if (leadsOut(base, full)) return null;
  return full;
}

/**
 * Whether a path below `base` (a real path) goes through a symlink that leads out of it, or one that
 * leads nowhere: each component is looked at with lstat from `base` down, until one does not exist.
 */
function leadsOut(base: string, full: string): boolean {
  let cur = base;
  for (const part of relative(base, full).split(sep)) {
    if (part === '') continue;
    cur = join(cur, part);
    try {
      if (!lstatSync(cur).isSymbolicLink()) continue;
    } catch {
      return false; // nothing exists from here on, so nothing can be followed
    }
    let real: string;
    try {
      real = realpathSync(cur);
    } catch {
      return true; // a dangling link: where it leads is not known
    }
    if (real !== base && !real.startsWith(base + sep)) return true;
    cur = real;
  }
  return false;
}

/** How a transcript path is shown: relative to the session's cwd when it lies inside it. */
export function shownPath(sessionCwd: string | null, filePath: string): string {
  if (!sessionCwd || !isAbsolute(filePath)) return filePath;
  const rel = relative(sessionCwd, filePath);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? filePath : rel;
}

/** Whether `path`, every symlink on the way resolved, lies inside `base` (also resolved); false when it does not exist. */
export function resolvesInside(path: string, base: string): boolean {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return false;
  }
  const root = realOr(base);
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** What is on disk at a transcript path, read only inside the project and never through a symlink leading out. */
export type DiskState =
  | { kind: 'file'; path: string; content: string }
  | { kind: 'absent'; path: string }
  | { kind: 'outside' | 'no-project' }
  | { kind: 'not-file' | 'too-large' | 'unreadable'; path: string };

/** Files larger than this are not compared (a recovery tool must not be stalled by a build artefact). */
export const MAX_COMPARED_BYTES = 16 * 1024 * 1024;

export function readDisk(projectDir: string | null, sessionCwd: string | null, filePath: string): DiskState {
  if (!projectDir) return { kind: 'no-project' };
  const full = projectPath(projectDir, sessionCwd, filePath);
  if (full === null) return { kind: 'outside' };
  const r = readRegularFile(full, MAX_COMPARED_BYTES);
  return r.kind === 'file' ? { kind: 'file', path: full, content: r.content } : { kind: r.kind, path: full };
}

/**
 * A regular file's content, never through a symlink in its last component and never opening anything
 * else (a FIFO, a device): lstat first, then an open that refuses a symlink (O_NOFOLLOW, where the
 * platform has it) and does not block, and fstat to check that the file opened is the one looked at.
 */
export function readRegularFile(path: string, maxBytes = Number.POSITIVE_INFINITY): { kind: 'file'; content: string } | { kind: 'absent' | 'not-file' | 'too-large' | 'unreadable' } {
  let fd: number;
  try {
    const st = lstatSync(path);
    if (!st.isFile()) return { kind: 'not-file' };
    if (st.size > maxBytes) return { kind: 'too-large' };
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    try {
      const now = fstatSync(fd);
      if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) return { kind: 'not-file' }; // swapped since it was looked at
      if (now.size > maxBytes) return { kind: 'too-large' };
      return { kind: 'file', content: readFileSync(fd, 'utf8') };
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'absent' } : code === 'ELOOP' ? { kind: 'not-file' } : { kind: 'unreadable' };
  }
}

/** Why a disk state cannot be compared, in words; null when it can. */
export function diskUnknownReason(disk: DiskState): string | null {
  switch (disk.kind) {
    case 'no-project':
      return "no project directory to compare with (pass --project-dir): the session's cwd is not on this machine, or the session is not in Claude Code's folder for that cwd";
    case 'outside':
      return 'the path lies outside the project directory; not read';
    case 'not-file':
      return 'the path is not a regular file';
    case 'too-large':
      return `the file is larger than ${MAX_COMPARED_BYTES / 1024 / 1024} MiB; not compared`;
    case 'unreadable':
      return 'the file could not be read';
    default:
      return null;
  }
}

/**
 * The fallback when the transcript does not say what a file held: compares the disk with the call's
 * own input (an edit's old and new text, a write's content).
 */
export function containmentState(tool: string, input: Record<string, unknown>, disk: string | null): MutationState {
  if (disk === null) {
    return tool === 'Write' ? { status: 'not_applied', evidence: 'the file does not exist: the write did not happen' } : { status: 'missing', evidence: 'the file no longer exists' };
  }
  if (tool === 'Write') {
    const content = typeof input.content === 'string' ? input.content : null;
    if (content === null) return { status: 'unknown', evidence: 'the call has no content to compare' };
    return disk === content
      ? { status: 'applied', evidence: 'the file on disk equals the content this call wrote' }
      : { status: 'diverged', evidence: 'the file exists but differs from what this call would have written' };
  }
  if (tool === 'NotebookEdit') {
    const source = typeof input.new_source === 'string' ? input.new_source : null;
    if (source !== null && source !== '' && disk.includes(JSON.stringify(source).slice(1, -1))) return { status: 'applied', evidence: "the notebook holds this call's new cell source" };
    return { status: 'unknown', evidence: 'a notebook edit cannot be checked against the disk' };
  }
  const pairs = editPairs(tool, input);
  if (pairs.length === 0) return { status: 'unknown', evidence: 'the call has no old/new text to compare' };
  const newPresent = pairs.every((p) => p.newText === '' || disk.includes(p.newText));
  const oldPresent = pairs.some((p) => p.oldText !== '' && disk.includes(p.oldText) && !p.newText.includes(p.oldText));
  if (newPresent && !oldPresent) return { status: 'applied', evidence: "the file holds this edit's new text and not its old text" };
  if (oldPresent && !newPresent) return { status: 'not_applied', evidence: "the file still holds this edit's old text" };
  return { status: 'diverged', evidence: "the file holds neither exactly the edit's old text nor its new text: it changed since" };
}

export interface EditPair {
  oldText: string;
  newText: string;
  replaceAll: boolean;
}

/** The old/new text pairs of an Edit or MultiEdit input, in order. */
export function editPairs(tool: string, input: Record<string, unknown>): EditPair[] {
  const edits = tool === 'MultiEdit' && Array.isArray(input.edits) ? (input.edits as Record<string, unknown>[]) : [input];
  return edits
    .map((e) => ({ oldText: typeof e?.old_string === 'string' ? e.old_string : null, newText: typeof e?.new_string === 'string' ? e.new_string : null, replaceAll: e?.replace_all === true }))
    .filter((p): p is EditPair => p.oldText !== null && p.newText !== null);
}

/**
 * The content an Edit/MultiEdit leaves, applied the way Claude Code applies it (first occurrence, or
 * every one with replace_all; an empty old text on an empty file creates it); undefined when the
 * old text is not there, so the result cannot be known.
 */
export function applyEdits(before: string | null, pairs: EditPair[]): string | undefined {
  let text = before;
  for (const p of pairs) {
    if (p.oldText === '') {
      if (text !== null && text !== '') return undefined;
      text = p.newText;
      continue;
    }
    if (text === null || !text.includes(p.oldText)) return undefined;
    text = p.replaceAll ? text.split(p.oldText).join(p.newText) : text.replace(p.oldText, () => p.newText);
  }
  return text ?? undefined;
}
