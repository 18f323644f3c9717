import type { ActiveToolCall } from '../inspect/active-calls.js';
import { isMutationTool, isReadOnlyTool } from '../inspect/tool-kinds.js';
import type { ResilienceSettings } from '../settings/settings.js';

/**
 * What the resumed session should do with a call whose outcome was lost:
 * `retry` run it again, `skip` leave it as it is and do not run it again, `model` let the model
 * decide from what is known (the call's resume strategy).
 */
export type CallChoice = 'retry' | 'skip' | 'model';

/** The settings that give each call its default choice. */
export type ChoiceSettings = Pick<ResilienceSettings, 'auto_retry_readonly_tools' | 'auto_retry_mutations'>;

/** Who made a call's choice: the user at the `-i` prompt, or the retry settings. */
export type ChosenBy = 'user' | 'settings';

/**
 * The choice the retry settings make for a call: a read-only call is retried while
 * `auto_retry_readonly_tools` holds, a file change that is not on disk while `auto_retry_mutations`
 * holds; everything else is left to the model, which verifies files, checks the task list and
 * asks before re-running commands.
 */
export function defaultChoice(call: ActiveToolCall, s: ChoiceSettings): CallChoice {
  if (call.resume_strategy === 'retry' && isReadOnlyTool(call.tool)) return s.auto_retry_readonly_tools ? 'retry' : 'model';
  if (isMutationTool(call.tool) && s.auto_retry_mutations && call.file_state === 'not_applied') return 'retry';
  return 'model';
}

/** The calls with their choices: the user's where given, else the settings'. */
export function applyChoices(calls: ActiveToolCall[], settings: ChoiceSettings, userChoices?: ReadonlyMap<string, CallChoice>): ActiveToolCall[] {
  return calls.map((c) => {
    const mine = userChoices?.get(c.tool_use_id);
    return mine ? { ...c, choice: mine, chosen_by: 'user' } : { ...c, choice: defaultChoice(c, settings), chosen_by: 'settings' };
  });
}
