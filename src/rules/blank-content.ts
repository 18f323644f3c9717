import type { EntryFacts } from '../read/facts.js';
import { messageOf } from '../index/session-index.js';
import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'blank-content',
  severity: 'error',
  description:
    'A message on the resumed branch has no content but empty or whitespace-only text (a whitespace block beside real content is not reported: clients drop it before sending).',
  fix: { safety: 'safe', description: 'Remove the empty entries and link their children to their parent.' },
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
