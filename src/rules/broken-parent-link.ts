import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'broken-parent-link',
  severity: 'error',
  description: 'An entry names a parent that is not in the file, so a resumed client loads only the conversation after the gap.',
  fix: {
    safety: 'safe',
    description: 'Link the entry to the previous conversational entry in the file (never across a compaction boundary), so the whole conversation loads.',
  },
  catalogue: 'C13',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings: Finding[] = [];
    for (const [entry, target] of index.bridges) {
      // A chain that starts mid-conversation (an excerpt, a subagent's first line) has nothing to bridge to.
      if (target === null) continue;
      const why = entry.parentUuid == null ? `starts a new chain mid-conversation (parentUuid ${entry.parentUuid === null ? 'null' : 'missing'})` : `names parent ${entry.parentUuid}, which is not in the file`;
      findings.push(report(meta, entry, `${entry.type} entry ${why}; linked to line ${target.line}`, { related: [target.line] }));
    }
    return findings;
  },
};
export default rule;
