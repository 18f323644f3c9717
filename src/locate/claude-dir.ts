import { existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { InputError } from '../errors.js';

/** --claude-dir, else $CLAUDE_CONFIG_DIR (the first entry, where it is a list), else ~/.claude. */
export function resolveClaudeDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  const fromEnv = env.CLAUDE_CONFIG_DIR?.split(',')[0]?.trim();
  return fromEnv ? resolve(fromEnv) : join(homedir(), '.claude');
}

/** Claude Code's project folder name for a cwd: every character outside [A-Za-z0-9] becomes '-'. */
export function encodeCwd(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, '-');
}

/**
 * Whether a session id from a transcript may become a path component (`file-history/<id>`,
 * `tasks/<id>`, `<id>/subagents`): letters, digits, `_` and `-` only, so never `..` or a separator.
 */
export function isPlainSessionId(id: string): boolean {
  return /^[A-Za-z0-9_-]{1,128}$/.test(id);
}

const UUIDISH = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$/i;
const isMainSessionFile = (name: string) => name.endsWith('.jsonl') && !name.startsWith('agent-');

/** Every project folder under `<claude-dir>/projects`. */
export function projectFolders(claudeDir: string): string[] {
  const root = join(claudeDir, 'projects');
  try {
    return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(root, d.name));
  } catch {
    return [];
  }
}

/**
 * Resolves `[session]` to a file: a path, a session id or unique prefix of one, or nothing
 * (the newest session of the project whose cwd is `cwd`).
 */
export function locateSession(arg: string | undefined, claudeDir: string, cwd: string): string {
  if (arg !== undefined && (arg.includes('/') || arg.endsWith('.jsonl') || existsSync(arg))) {
    const path = resolve(arg);
    if (!existsSync(path)) throw new InputError(`${path}: no such file`);
    if (!statSync(path).isFile()) throw new InputError(`${path}: not a file`);
    return path;
  }
  if (arg !== undefined) {
    const matches = projectFolders(claudeDir).flatMap((folder) => {
      try {
        return readdirSync(folder).filter((n) => isMainSessionFile(n) && n.startsWith(arg)).map((n) => join(folder, n));
      } catch {
        return [];
      }
    });
    const exact = matches.filter((m) => basename(m) === `${arg}.jsonl`);
    if (exact.length === 1) return exact[0]!;
    if (matches.length === 1) return matches[0]!;
    if (matches.length === 0) throw new InputError(`${join(claudeDir, 'projects')}: no session matches "${arg}"`);
    throw new InputError(`${join(claudeDir, 'projects')}: "${arg}" matches ${matches.length} sessions: ${matches.slice(0, 5).map((m) => basename(m, '.jsonl')).join(', ')}`);
  }
  const folder = join(claudeDir, 'projects', encodeCwd(cwd));
  let newest: { path: string; mtime: number } | null = null;
  try {
    for (const name of readdirSync(folder)) {
      if (!isMainSessionFile(name) || !UUIDISH.test(name)) continue;
      const path = join(folder, name);
      const mtime = statSync(path).mtimeMs;
      if (!newest || mtime > newest.mtime) newest = { path, mtime };
    }
  } catch {
    // no project folder for this directory
  }
  if (!newest) throw new InputError(`${folder}: no Claude Code session for ${cwd}`);
  return newest.path;
}
