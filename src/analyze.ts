import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { scanSession, type SessionScan } from './read/session-reader.js';
import { buildIndex, messageOf, type SessionIndex } from './index/session-index.js';
import { EntryLoader, textOf } from './index/load.js';
import { RULES } from './rules/registry.js';
import type { Finding } from './rules/types.js';
import { readClientRecords, type ClientRecord } from './inspect/clients.js';
import { findActiveCalls, type ActiveToolCall } from './inspect/active-calls.js';
import { fileForensics, type Forensics } from './inspect/forensics.js';
import { findCommandProcesses } from './inspect/processes.js';
import { pendingTodos, type PendingTodo } from './inspect/todos.js';
import { ForeignFormatError, InputError } from './errors.js';
import { encodeCwd } from './locate/claude-dir.js';
import { earlierRepairs } from './locate/recoveries.js';

/** Everything known about a session before any repair is planned. */
export interface Analysis {
  file: string;
  scan: SessionScan;
  index: SessionIndex;
  loader: EntryLoader;
  findings: Finding[];
  clients: ClientRecord[];
  liveClients: ClientRecord[];
  activeCalls: ActiveToolCall[];
  /** What reached the disk: every mutation classified, and the changes no line records. */
  forensics: Forensics;
  todos: PendingTodo[];
  projectDir: string | null;
  partialText: string | null;
  lastUserRequest: string | null;
  /** True when nothing but notices was found. */
  healthy: boolean;
}

export interface AnalyzeOptions {
  claudeDir: string | null;
  projectDir?: string;
  /** File forensics list every touched file even without a project dir (slower on huge sessions). */
  listAllFiles?: boolean;
  /** Look for processes that still run an interrupted command (default true). */
  processes?: boolean;
  /**
   * `all` (default): every call and read is compared with the disk. `interrupted`: only calls
   * without a real result and the checkpoint evidence of lost changes, the way `scan` triages.
   */
  forensics?: 'all' | 'interrupted';
  /** Read the pending todos and tasks (default true); a triage that never writes a prompt skips them. */
  todos?: boolean;
  /** The Claude dir's process records, when the caller has read them already (one read for many sessions). */
  clientRecords?: ClientRecord[];
}

const CLAUDE_TYPES = new Set(['user', 'assistant', 'system', 'summary', 'file-history-snapshot', 'file-history-delta', 'queue-operation', 'progress', 'attachment', 'last-prompt', 'custom-title', 'permission-mode', 'mode', 'ai-title', 'agent-name', 'pr-link', 'tag', 'saved_hook_context']);

/** Reads, indexes and checks a session; reads nothing outside the session file, the Claude dir and the project dir. */
export async function analyzeSession(file: string, opts: AnalyzeOptions): Promise<Analysis> {
  const scan = await scanSession(file);
  rejectForeignFormats(file, scan);
  const index = buildIndex(scan);
  const loader = new EntryLoader(scan);
  const records = opts.clientRecords ?? (opts.claudeDir ? readClientRecords(opts.claudeDir) : []);
  const clients = records.filter((c) => c.sessionId !== null && c.sessionId === index.sessionId && (c.alive || !handledInPlace(file, c)));
  if (opts.projectDir !== undefined && !isDirectory(opts.projectDir)) throw new InputError(`${opts.projectDir}: --project-dir is not a directory`);
  const projectDir = opts.projectDir !== undefined ? resolve(opts.projectDir) : index.cwd && filedUnderCwd(file, index.cwd) && isDirectory(index.cwd) ? index.cwd : null;
  const forensics = await fileForensics({ index, loader, file, projectDir, claudeDir: opts.claudeDir, listAll: opts.listAllFiles ?? false, scope: opts.forensics ?? 'all' });
  const activeCalls = findActiveCalls(index, loader, forensics);
  if (opts.processes !== false) for (const call of activeCalls) if (call.command !== null) call.running_processes = runningProcesses(call.command, index.toolCalls.get(call.tool_use_id)?.entry.time ?? Number.NaN, projectDir);
  const findings = RULES.flatMap((rule) => rule.detect({ index, clients, loader, forensics, activeCalls }));
  findings.sort((a, b) => a.line - b.line);
  const unfinished = findings.find((f) => f.code === 'unfinished-turn');
  const partialEntry = unfinished ? index.entries.find((e) => e.line === unfinished.line) : undefined;
  const partialText = partialEntry ? messageOf(index, partialEntry).map((e) => textOf(loader.load(e))).filter(Boolean).join('\n') || null : null;
  const lastPrompt = [...index.branch].reverse().find((e) => e.type === 'user' && e.promptPreview !== undefined && !e.isCompactSummary);
  return {
    file,
    scan,
    index,
    loader,
    findings,
    clients,
    liveClients: clients.filter((c) => c.alive),
    activeCalls,
    forensics,
    todos: opts.todos === false ? [] : pendingTodos(index, loader, opts.claudeDir),
    projectDir,
    partialText,
    lastUserRequest: lastPrompt?.promptPreview ?? null,
    healthy: !findings.some((f) => f.severity !== 'notice'),
  };
}

/**
 * Whether a dead client's record predates an in-place recovery of this very file (a snapshot
 * beside it names the file as both source and repair): that crash was reported and handled then,
 * and the record, which ccrescue never removes, no longer says anything about the file.
 */
function handledInPlace(file: string, record: ClientRecord): boolean {
  const path = resolve(file);
  const repairs = earlierRepairs([dirname(path)]).get(path) ?? [];
  if (repairs.length === 0) return false;
  const recordTime = mtimeOf(record.file);
  return repairs.some((r) => r.repairedFile === path && mtimeOf(r.snapshot) >= recordTime);
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Number.NaN;
  }
}

/**
 * Whether the session lies in the project folder Claude Code keeps for `cwd`
 * (`…/projects/<encoded cwd>/`, a subagent's file below it): only then is the cwd the transcript
 * names taken as the project dir. A session from elsewhere (a download, a bug report) could name
 * any folder, and its forensics would then read and print files there; it needs `--project-dir`.
 */
export function filedUnderCwd(file: string, cwd: string): boolean {
  const folder = encodeCwd(cwd);
  for (let dir = dirname(resolve(file)); dir !== dirname(dir); dir = dirname(dir)) {
    if (basename(dirname(dir)) === 'projects') return basename(dir) === folder;
  }
  return false;
}

/** Processes still running an interrupted call's command, started no earlier than the call. */
function runningProcesses(command: string, time: number, projectDir: string | null): ActiveToolCall['running_processes'] {
  const found = findCommandProcesses(command, { cwd: projectDir, notBeforeMs: Number.isNaN(time) ? null : time });
  return found === null ? null : found.map((p) => ({ pid: p.pid, cmdline: p.cmdline }));
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Chain entries carry a uuid in every Claude Code version; other types stand on their own. */
const isClaudeEntry = (e: SessionScan['entries'][number]) => CLAUDE_TYPES.has(e.type) && (e.uuid !== undefined || !CHAIN_TYPES.has(e.type));
const CHAIN_TYPES = new Set(['user', 'assistant', 'system', 'progress', 'attachment']);

/** Codex rollouts and Gemini sessions are not Claude Code transcripts: say so instead of "repairing" them. */
function rejectForeignFormats(file: string, scan: SessionScan): void {
  if (scan.size === 0 || scan.entries.some(isClaudeEntry)) return;
  const first = scan.entries[0];
  if (first && (first.type === 'session_meta' || first.type === 'response_item' || first.type === 'event_msg')) {
    throw new ForeignFormatError(`${file}:${first.line}: not a Claude Code session (this is a Codex CLI rollout)`);
  }
  if (scan.entries.length === 0 && scan.damage.size > 0) {
    const firstDamaged = Math.min(...scan.damage.keys());
    throw new ForeignFormatError(`${file}:${firstDamaged}: not a Claude Code session (no line holds a JSON entry${scan.lineCount > 1 ? '; a pretty-printed JSON document, such as a Gemini CLI session?' : ''})`);
  }
  if (scan.entries.some((e) => e.type === 'gemini')) throw new ForeignFormatError(`${file}:${first!.line}: not a Claude Code session (this is a Gemini CLI session)`);
  if (first) throw new ForeignFormatError(`${file}:${first.line}: not a Claude Code session (no entry of a Claude Code type; first type "${first.type}")`);
}
