import { isThinking, type BlockFacts, type EntryFacts } from '../read/facts.js';
import { atLeast } from '../index/version.js';
import { messageOf } from '../index/session-index.js';
import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'unfinished-turn',
  severity: 'warning',
  description: 'An assistant response was cut off mid-stream: its text is partial and the model never finished the turn.',
  fix: {
    safety: 'safe',
    description:
      "Partial text stays, followed by Claude Code's own note for a cut-off response; a response that got no further than thinking cannot be sent back (the final block cannot be thinking) and is removed, kept in the snapshot.",
  },
  catalogue: 'C15',
};

// From 2.1.97 on, block lines are written with the message's final stop_reason; before that every
// line of a complete message says null (measured on the corpus: 1.0.24–2.1.42 and 2.1.114 subagents).
const WRITES_STOP_REASON = '2.1.100';

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings: Finding[] = [];
    const messages = index.branch.filter((e) => (e.type === 'user' || e.type === 'assistant') && !e.isSidechain);
    const seen = new Set<string>();
    messages.forEach((e, i) => {
      if (e.type !== 'assistant' || e.isApiErrorMessage || e.model === '<synthetic>' || e.messageId === undefined) return;
      if (seen.has(e.messageId)) return;
      const group = messageOf(index, e);
      const last = group[group.length - 1]!;
      if (last !== e && group.some((g) => g.stopReason)) return;
      seen.add(e.messageId);
      if (group.some((g) => g.stopReason)) return;
      // 2.1.3x wrote a whitespace text line before each thinking line; clients drop it before sending.
      if (group.some((g) => g.blocks.some(isThinking)) && group.every((g) => g.blocks.every((b) => isThinking(b) || b.blank))) {
        findings.push(report(meta, last, `response ${e.messageId} stopped after its thinking: no text or tool call was recorded`, { related: group.map((g) => g.line), kind: THINKING_ONLY }));
        return;
      }
      const next = nextMessageAfter(messages, last, i);
      if (next?.type === 'assistant' && next.isApiErrorMessage) {
        findings.push(report(meta, last, `response ${e.messageId} stopped mid-stream: an API error (line ${next.line}) followed its partial content`, { related: [next.line] }));
      } else if (next === undefined && atLeast(last.version, WRITES_STOP_REASON) && !answeredToolCalls(index, group)) {
        findings.push(report(meta, last, `response ${e.messageId} has no stop_reason: the stream ended before message_stop`));
      }
    });
    return findings;
  },
};

/** The finding kind of a response that got no further than thinking: its repair removes it. */
export const THINKING_ONLY = 'thinking-only';


function nextMessageAfter(messages: EntryFacts[], last: EntryFacts, from: number): EntryFacts | undefined {
  for (let j = from + 1; j < messages.length; j++) if (messages[j]!.index > last.index && messages[j]!.messageId !== last.messageId) return messages[j];
  return undefined;
}

function answeredToolCalls(index: Parameters<Rule['detect']>[0]['index'], group: EntryFacts[]): boolean {
  const ids = group.flatMap((g) => g.blocks.filter((b) => b.type === 'tool_use' && b.id).map((b) => b.id!));
  return ids.length > 0 && ids.every((id) => (index.toolCalls.get(id)?.results.length ?? 0) > 0);
}
export default rule;
