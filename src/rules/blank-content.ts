import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'blank-content',
  severity: 'error',
  description: 'A message on the resumed branch has empty content or an empty / whitespace-only text block.',
  fix: { safety: 'safe', description: 'Drop the blank blocks; an entry left with nothing is removed and its children linked to its parent.' },
  catalogue: 'C05',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings = [];
    for (const e of index.branch) {
      if (e.type !== 'user' && e.type !== 'assistant') continue;
      if (e.isApiErrorMessage) continue; // never sent (C15)
      const blank = e.blocks.filter((b) => b.blank).length;
      if (e.blocks.length === 0) findings.push(report(meta, e, `${e.type} entry has empty content`));
      else if (blank > 0) findings.push(report(meta, e, `${e.type} entry has ${blank} empty or whitespace-only text block(s)`));
    }
    return findings;
  },
};
export default rule;
