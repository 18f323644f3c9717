import { isBlankText, type EntryFacts } from '../read/facts.js';
import { messageOf } from '../index/session-index.js';
import { report, type Finding, type Rule, type RuleMeta } from './types.js';

/** The finding kind of a blank text block beside other content of a user entry: its repair leaves out the block, not the entry. */
export const BLANK_BLOCK = 'blank-block';

const meta: RuleMeta = {
  code: 'blank-content',
  severity: 'error',
  description:
    'A message on the resumed branch has no content but empty or whitespace-only text, or a user message holds such a text block beside other content (the API refuses both; a whitespace block beside real content of a response is not reported: clients drop it before sending).',
  fix: {
    safety: 'safe',
    description: 'Remove the empty entries and link their children to their parent; leave out an empty text block beside other content of a user entry, kept in the snapshot.',
  },
  catalogue: 'C05',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const e of index.branch) {
      if (e.isApiErrorMessage || e.isSidechain) continue; // never sent (C15)
      if (e.type === 'user' && isBlankEntry(e)) findings.push(report(meta, e, 'user entry has no content but empty or whitespace-only text'));
      else if (e.type === 'user' && e.blocks.some(isBlankText)) {
        // Clients send a user message as it is (R11): only a response's stray whitespace is dropped.
        const n = e.blocks.filter(isBlankText).length;
        findings.push(report(meta, e, `user entry holds ${n === 1 ? 'an empty or whitespace-only text block' : `${n} empty or whitespace-only text blocks`} beside other content`, { kind: BLANK_BLOCK }));
      }
      if (e.type !== 'assistant') continue;
      const key = e.messageId ?? `line:${e.line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const onBranch = messageOf(index, e);
      if (onBranch.every(isBlankEntry)) for (const g of onBranch) findings.push(report(meta, g, 'assistant message has no content but empty or whitespace-only text'));
    }
    return findings;
  },
};

const isBlankEntry = (e: EntryFacts) => e.blocks.every((b) => b.blank);
export default rule;
