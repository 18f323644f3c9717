/** How a resumed model should treat a tool call whose outcome was lost. */
export type ResumeStrategy = 'retry' | 'verify' | 'ask' | 'none';

const READ_ONLY = new Set(['Read', 'Glob', 'Grep', 'LS', 'WebFetch', 'WebSearch', 'NotebookRead', 'TaskList', 'TaskGet', 'TodoRead', 'ToolSearch', 'BashOutput']);
const MUTATIONS = new Set(['Edit', 'MultiEdit', 'Write', 'NotebookEdit']);
const BOOKKEEPING = new Set(['TodoWrite', 'TaskCreate', 'TaskUpdate', 'ExitPlanMode', 'EnterPlanMode']);

export const isReadOnlyTool = (name: string): boolean => READ_ONLY.has(name);
export const isMutationTool = (name: string): boolean => MUTATIONS.has(name);

/** Read-only calls are safe to retry; file mutations are verified against the disk first; anything else asks. */
export function resumeStrategyFor(name: string): ResumeStrategy {
  if (READ_ONLY.has(name)) return 'retry';
  if (MUTATIONS.has(name)) return 'verify';
  if (BOOKKEEPING.has(name)) return 'retry';
  return 'ask';
}
