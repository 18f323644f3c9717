import type { SessionIndex, ToolCall } from '../index/session-index.js';
import type { EntryLoader } from '../index/load.js';
import { isMutationTool, resumeStrategyFor, type ResumeStrategy } from './tool-kinds.js';
import { shownPath, type FileState } from './mutations.js';
import type { Forensics } from './forensics.js';
import type { CallChoice, ChosenBy } from '../plan/choices.js';
import { toolInput } from './tool-input.js';

/** A process that still runs the command of an interrupted Bash call. */
export interface RunningProcess {
  pid: number;
  cmdline: string;
}

/** A tool call whose outcome the transcript does not know. */
export interface ActiveToolCall {
  tool_use_id: string;
  tool: string;
  line: number;
  file: string | null;
  command: string | null;
  /** pending_result: no result at all; interrupted_by_client: only Claude Code's "[Tool call interrupted…". */
  status: 'pending_result' | 'interrupted_by_client';
  file_state: FileState | null;
  evidence: string | null;
  resume_strategy: ResumeStrategy;
  /** For a command: processes that still run it (empty when none does; null when the platform cannot tell). */
  running_processes?: RunningProcess[] | null;
  /** What the resumed session should do with it, and who chose (set by `applyChoices`). */
  choice?: CallChoice;
  chosen_by?: ChosenBy;
}

const COMMAND_CHARS = 500;

/** Every call on the resumed branch that has no real result, with what the disk says about it. */
export function findActiveCalls(index: SessionIndex, loader: EntryLoader, forensics: Forensics): ActiveToolCall[] {
  const calls: ActiveToolCall[] = [];
  for (const call of index.toolCalls.values()) {
    if (call.entry.isSidechain || !index.branchSet.has(call.entry)) continue;
    const interrupted = call.results.length > 0 && call.results.every((r) => r.blocks.some((b) => b.toolUseId === call.id && b.clientInterrupted));
    if (call.results.length > 0 && !interrupted) continue;
    calls.push(describeCall(call, index, loader, forensics, interrupted ? 'interrupted_by_client' : 'pending_result'));
  }
  return calls.sort((a, b) => a.line - b.line);
}

function describeCall(call: ToolCall, index: SessionIndex, loader: EntryLoader, forensics: Forensics, status: ActiveToolCall['status']): ActiveToolCall {
  const input = toolInput(loader.load(call.entry), call.id);
  const command = typeof input.command === 'string' ? input.command.slice(0, COMMAND_CHARS) : null;
  const filePath = typeof input.file_path === 'string' ? input.file_path : typeof input.notebook_path === 'string' ? input.notebook_path : typeof input.path === 'string' ? input.path : null;
  const cwd = call.entry.cwd ?? index.cwd;
  const base: ActiveToolCall = {
    tool_use_id: call.id,
    tool: call.name,
    line: call.entry.line,
    file: filePath === null ? null : shownPath(cwd, filePath),
    command,
    status,
    file_state: null,
    evidence: null,
    resume_strategy: resumeStrategyFor(call.name),
  };
  if (!isMutationTool(call.name)) return base;
  const judged = forensics.calls.get(call.id);
  if (judged) return { ...base, file: judged.file, file_state: judged.status, evidence: judged.evidence };
  return { ...base, file_state: 'unknown', evidence: 'the call names no file' };
}
