import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'connection-lost-result',
  severity: 'notice',
  description: 'A connection_lost result that an earlier ccrescue recovery wrote for a lost call.',
  fix: null,
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings: Finding[] = [];
    for (const e of index.branch) {
      for (const b of e.blocks) if (b.connectionLost) findings.push(report(meta, e, `recovered earlier: call ${b.toolUseId} was marked connection_lost`, { toolUseId: b.toolUseId }));
    }
    return findings;
  },
};
export default rule;
