import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

export type FileState = 'applied' | 'not_applied' | 'diverged' | 'missing' | 'unknown';

export interface MutationState {
  /** Path as the call named it, relative to the project where possible. */
  file: string;
  state: FileState;
  /** What the state rests on, in one sentence. */
  evidence: string;
}

/** The project path a transcript names, or null when it points outside the project (never read). */
export function projectPath(projectDir: string, sessionCwd: string | null, filePath: string): string | null {
  const base = realOr(projectDir);
  // Paths are recorded against the session's cwd; map them onto the project dir given now.
  const rel = isAbsolute(filePath) && sessionCwd ? relative(sessionCwd, filePath) : isAbsolute(filePath) ? relative(base, filePath) : filePath;
  if (rel.startsWith('..') || isAbsolute(rel)) return null;
  const full = resolve(base, rel);
  if (existsSync(full)) {
    const real = realOr(full);
    if (real !== base && !real.startsWith(base + '/')) return null; // a symlink leading out
  }
  return full;
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/**
 * What the disk says about an Edit/MultiEdit/Write whose result was never recorded: compares the
 * file with the call's own input (the edit's old and new text, the write's content).
 */
export function mutationState(tool: string, input: Record<string, unknown>, projectDir: string, sessionCwd: string | null): MutationState {
  const filePath = typeof input.file_path === 'string' ? input.file_path : typeof input.notebook_path === 'string' ? input.notebook_path : null;
  if (filePath === null) return { file: '', state: 'unknown', evidence: 'the call names no file' };
  const full = projectPath(projectDir, sessionCwd, filePath);
  const rel = sessionCwd && isAbsolute(filePath) ? relative(sessionCwd, filePath) : filePath;
  const shown = rel === '' || rel.startsWith('..') || isAbsolute(rel) ? filePath : rel;
  if (full === null) return { file: shown, state: 'unknown', evidence: 'the path lies outside the project directory; not read' };
  if (!existsSync(full)) {
    return { file: shown, state: tool === 'Write' ? 'not_applied' : 'missing', evidence: tool === 'Write' ? 'the file does not exist: the write did not happen' : 'the file no longer exists' };
  }
  if (!lstatSync(full).isFile()) return { file: shown, state: 'unknown', evidence: 'the path is not a regular file' };
  const disk = readFileSync(full, 'utf8');
  if (tool === 'Write') {
    const content = typeof input.content === 'string' ? input.content : null;
    if (content === null) return { file: shown, state: 'unknown', evidence: 'the call has no content to compare' };
    return disk === content
      ? { file: shown, state: 'applied', evidence: 'the file on disk equals the content this call wrote' }
      : { file: shown, state: 'diverged', evidence: 'the file exists but differs from what this call would have written' };
  }
  const edits = tool === 'MultiEdit' && Array.isArray(input.edits) ? (input.edits as Record<string, unknown>[]) : [input];
  const pairs = edits
    .map((e) => ({ oldText: typeof e.old_string === 'string' ? e.old_string : null, newText: typeof e.new_string === 'string' ? e.new_string : null }))
    .filter((p): p is { oldText: string; newText: string } => p.oldText !== null && p.newText !== null);
  if (pairs.length === 0) return { file: shown, state: 'unknown', evidence: 'the call has no old/new text to compare' };
  const newPresent = pairs.every((p) => p.newText === '' || disk.includes(p.newText));
  const oldPresent = pairs.some((p) => p.oldText !== '' && disk.includes(p.oldText) && !p.newText.includes(p.oldText));
  if (newPresent && !oldPresent) return { file: shown, state: 'applied', evidence: "the file holds this edit's new text and not its old text" };
  if (oldPresent && !newPresent) return { file: shown, state: 'not_applied', evidence: "the file still holds this edit's old text" };
  return { file: shown, state: 'diverged', evidence: "the file holds neither exactly the edit's old text nor its new text: it changed since" };
}
