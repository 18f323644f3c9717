import { lstatSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { InputError } from '../errors.js';

/** A transcript found by `scan`: a main session or a subagent's sidechain file. */
export interface FoundFile {
  path: string;
  kind: 'session' | 'subagent';
  size: number;
  mtimeMs: number;
}

/** Folders that never hold transcripts of their own; skipped when walking a folder given on the command line. */
const SKIPPED = new Set(['.git', '.hg', '.svn', 'node_modules']);

/** Subagent files: `<session>/subagents/agent-*.jsonl` (2.1.x) or `agent-*.jsonl` beside the sessions (2.0.x). */
export function kindOf(path: string): FoundFile['kind'] {
  return basename(path).startsWith('agent-') || path.includes(`${sep}subagents${sep}`) ? 'subagent' : 'session';
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function isRealDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function found(path: string): FoundFile | null {
  try {
    const st = statSync(path);
    return st.isFile() ? { path, kind: kindOf(path), size: st.size, mtimeMs: st.mtimeMs } : null;
  } catch {
    return null;
  }
}

/** Every transcript Claude Code keeps: `projects/<folder>/*.jsonl` and `projects/<folder>/<session>/subagents/*.jsonl`. */
function claudeDirFiles(claudeDir: string): FoundFile[] {
  const out: FoundFile[] = [];
  const projects = join(claudeDir, 'projects');
  for (const project of entries(projects)) {
    if (!project.isDirectory()) continue;
    const folder = join(projects, project.name);
    for (const d of entries(folder)) {
      const path = join(folder, d.name);
      if (d.isFile() && d.name.endsWith('.jsonl')) {
        const f = found(path);
        if (f) out.push(f);
      } else if (d.isDirectory()) {
        if (!isRealDir(join(path, 'subagents'))) continue; // a symlink (it may lead out of the Claude dir) is not followed
        for (const sub of entries(join(path, 'subagents'))) {
          if (!sub.isFile() || !sub.name.endsWith('.jsonl')) continue;
          const f = found(join(path, 'subagents', sub.name));
          if (f) out.push(f);
        }
      }
    }
  }
  return out;
}

/** Every `.jsonl` under a folder given on the command line; symlinks are not followed. */
function walk(dir: string, out: FoundFile[]): void {
  for (const d of entries(dir)) {
    const path = join(dir, d.name);
    if (d.isDirectory()) {
      if (!SKIPPED.has(d.name)) walk(path, out);
    } else if (d.isFile() && d.name.endsWith('.jsonl')) {
      const f = found(path);
      if (f) out.push(f);
    }
  }
}

/**
 * The files `scan` reads: with no paths, every transcript under the Claude dir; otherwise the
 * files given and every `.jsonl` under the folders given. A path that does not exist is bad usage.
 */
export function discoverFiles(paths: string[], claudeDir: string): FoundFile[] {
  if (paths.length === 0) return sortFiles(claudeDirFiles(claudeDir));
  const out: FoundFile[] = [];
  for (const p of paths) {
    const path = resolve(p);
    let st;
    try {
      st = statSync(path); // a path given by name is followed, even through a symlink
    } catch {
      throw new InputError(`${path}: no such file or folder`);
    }
    if (st.isDirectory()) walk(path, out);
    else if (st.isFile()) out.push({ path, kind: kindOf(path), size: st.size, mtimeMs: st.mtimeMs });
    else throw new InputError(`${path}: not a file or folder`);
  }
  const seen = new Set<string>();
  return sortFiles(out.filter((f) => !seen.has(f.path) && seen.add(f.path)));
}

function sortFiles(files: FoundFile[]): FoundFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
