import type { ActiveToolCall } from '../inspect/active-calls.js';
import { isMutationTool, isReadOnlyTool } from '../inspect/tool-kinds.js';
import { CONNECTION_LOST_PREFIX } from '../read/facts.js';

/** The text of a synthetic result: what happened, everything known about the call, then what to do with it. */
export function connectionLostText(call: ActiveToolCall): string {
  const head = `${CONNECTION_LOST_PREFIX}: the session ended (the client was killed or lost its connection) before this ${call.tool} call's result was recorded.`;
  const { facts, advice } = whatIsKnown(call);
  return [head, facts, userDecision(call) ?? advice].filter((s) => s !== '').join(' ');
}

const pids = (call: ActiveToolCall): string => (call.running_processes ?? []).map((p) => `pid ${p.pid}`).join(', ');

/** The user's answer at the `-i` prompt, which replaces the advice; null when the model decides. */
export function userDecision(call: ActiveToolCall): string | null {
  if (call.chosen_by !== 'user' || call.choice === undefined || call.choice === 'model') return null;
  if (call.choice === 'skip') return 'The user chose not to run it again: do not repeat it, and leave whatever it did as it is.';
  if (isMutationTool(call.tool)) return `The user chose to have this change made again: read ${call.file ?? 'the file'} first, so that it is not applied twice.`;
  if ((call.running_processes ?? []).length > 0) return `The user chose to run it again, once the running process (${pids(call)}) has ended.`;
  return 'The user chose to run it again.';
}

function whatIsKnown(call: ActiveToolCall): { facts: string; advice: string } {
  switch (call.resume_strategy) {
    case 'retry':
      if (!isReadOnlyTool(call.tool)) return { facts: 'It only updates the task list.', advice: 'Check the list before running it again, so that nothing is added twice.' };
      return call.choice === 'model'
        ? { facts: 'It only reads.', advice: 'Run it again if its output is still needed.' }
        : { facts: 'It only reads.', advice: 'It is safe to run again.' };
    case 'verify': {
      const file = call.file ?? 'the file';
      switch (call.file_state) {
        case 'applied':
          return { facts: `On disk, ${file} already has this change (${call.evidence}).`, advice: 'Do not apply it again.' };
        case 'not_applied':
          return { facts: `On disk, ${file} does not have this change (${call.evidence}).`, advice: call.choice === 'retry' ? 'Apply it again.' : 'Apply it again if it is still wanted.' };
        case 'diverged':
          return { facts: `On disk, ${file} has changed in another way (${call.evidence}).`, advice: 'Read it before editing.' };
        case 'missing':
          return { facts: `On disk, ${file} is missing (${call.evidence}).`, advice: '' };
        default:
          return { facts: `What reached ${file} is unknown (${call.evidence ?? 'not checked'}).`, advice: 'Read it before editing.' };
      }
    }
    default: {
      const running = call.running_processes ?? [];
      if (call.command && running.length > 0) {
        return {
          facts: `The command \`${call.command}\` is still running (${pids(call)}); it outlived the client, so its output is lost.`,
          advice: 'Do not start it again: wait for it to finish or ask the user to stop it, then check its effects.',
        };
      }
      if (!call.command) return { facts: 'Its outcome and side effects are unknown.', advice: 'Check before running it again.' };
      return {
        facts: `The command \`${call.command}\` was started; it may have run partly or fully and its side effects are unknown.${call.running_processes ? ' No process runs it any more.' : ''}`,
        advice: 'Check its effects and ask the user before running it again.',
      };
    }
  }
}
