import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'duplicate-tool-use-id',
  severity: 'error',
  description: 'Two different assistant entries on the resumed branch use the same tool_use id (`tool_use` ids must be unique).',
  fix: {
    safety: 'safe',
    description:
      'Keep the first call with the id and its result; leave out the later tool_use block and the result blocks that answer it, kept in the snapshot (a message left with nothing to send is removed like a blank one).',
  },
  catalogue: 'C04',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings = [];
    for (const [id, entries] of index.duplicateToolUses) {
      const onBranch = entries.filter((e) => index.branchSet.has(e));
      if (onBranch.length < 2) continue;
      const [first, ...later] = onBranch;
      for (const e of later) findings.push(report(meta, e, `tool_use id ${id} is also used at line ${first!.line}`, { toolUseId: id, related: [first!.line] }));
    }
    return findings;
  },
};
export default rule;
