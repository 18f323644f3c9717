import type { SessionIndex, ToolCall } from '../index/session-index.js';
import type { EntryLoader } from '../index/load.js';
import { isMutationTool, resumeStrategyFor, type ResumeStrategy } from './tool-kinds.js';
import { mutationState, type FileState } from './mutations.js';

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
}

const COMMAND_CHARS = 500;

/** Every call on the resumed branch that has no real result, with what the disk says about it. */
export function findActiveCalls(index: SessionIndex, loader: EntryLoader, projectDir: string): ActiveToolCall[] {
  const calls: ActiveToolCall[] = [];
  for (const call of index.toolCalls.values()) {
    if (call.entry.isSidechain || !index.branchSet.has(call.entry)) continue;
    const interrupted = call.results.length > 0 && call.results.every((r) => r.blocks.some((b) => b.toolUseId === call.id && b.clientInterrupted));
    if (call.results.length > 0 && !interrupted) continue;
    calls.push(describeCall(call, index, loader, projectDir, interrupted ? 'interrupted_by_client' : 'pending_result'));
  }
  return calls.sort((a, b) => a.line - b.line);
}

function describeCall(call: ToolCall, index: SessionIndex, loader: EntryLoader, projectDir: string, status: ActiveToolCall['status']): ActiveToolCall {
  const input = toolInput(loader.load(call.entry), call.id);
  const command = typeof input.command === 'string' ? input.command.slice(0, COMMAND_CHARS) : null;
  const base: ActiveToolCall = {
    tool_use_id: call.id,
    tool: call.name,
    line: call.entry.line,
    file: typeof input.file_path === 'string' ? input.file_path : typeof input.path === 'string' ? input.path : null,
    command,
    status,
    file_state: null,
    evidence: null,
    resume_strategy: resumeStrategyFor(call.name),
  };
  if (isMutationTool(call.name)) {
    const state = mutationState(call.name, input, projectDir, call.entry.cwd ?? index.cwd);
    return { ...base, file: state.file || base.file, file_state: state.state, evidence: state.evidence };
  }
  return base;
}

/** The input object of one tool_use block of a loaded assistant entry. */
export function toolInput(entry: Record<string, unknown> | null, toolUseId: string): Record<string, unknown> {
  const content = (entry?.message as { content?: unknown } | undefined)?.content;
  if (!Array.isArray(content)) return {};
  const block = content.find((b: unknown) => typeof b === 'object' && b !== null && (b as { id?: unknown }).id === toolUseId) as { input?: unknown } | undefined;
  return typeof block?.input === 'object' && block.input !== null && !Array.isArray(block.input) ? (block.input as Record<string, unknown>) : {};
}
