import type { ActiveToolCall } from '../inspect/active-calls.js';
import { CONNECTION_LOST_PREFIX } from '../read/facts.js';

/** The text of a synthetic result: what happened, then everything known about the call. */
export function connectionLostText(call: ActiveToolCall): string {
  const head = `${CONNECTION_LOST_PREFIX}: the session ended (the client was killed or lost its connection) before this ${call.tool} call's result was recorded.`;
  return `${head} ${whatIsKnown(call)}`;
}

function whatIsKnown(call: ActiveToolCall): string {
  switch (call.resume_strategy) {
    case 'retry':
      return 'It only reads, so it is safe to run again.';
    case 'verify': {
      const file = call.file ?? 'the file';
      switch (call.file_state) {
        case 'applied':
          return `On disk, ${file} already has this change (${call.evidence}). Do not apply it again.`;
        case 'not_applied':
          return `On disk, ${file} does not have this change (${call.evidence}). Apply it again if it is still wanted.`;
        case 'diverged':
          return `On disk, ${file} has changed in another way (${call.evidence}). Read it before editing.`;
        case 'missing':
          return `On disk, ${file} is missing (${call.evidence}).`;
        default:
          return `What reached ${file} is unknown (${call.evidence ?? 'not checked'}). Read it before editing.`;
      }
    }
    default: {
      const running = call.running_processes ?? [];
      if (call.command && running.length > 0) {
        return `The command \`${call.command}\` is still running (${running.map((p) => `pid ${p.pid}`).join(', ')}); it outlived the client, so its output is lost. Do not start it again: wait for it to finish or ask the user to stop it, then check its effects.`;
      }
      return call.command
        ? `The command \`${call.command}\` was started; it may have run partly or fully and its side effects are unknown.${call.running_processes ? ' No process runs it any more.' : ''} Check its effects and ask the user before running it again.`
        : 'Its outcome and side effects are unknown. Check before running it again.';
    }
  }
}
