import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'client-interrupted-result',
  severity: 'notice',
  description: "A result Claude Code itself added on resume for a call cut off by a crash (\"[Tool call interrupted…\"); valid, but it says only that the outcome is unknown.",
  fix: null,
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings: Finding[] = [];
    for (const e of index.branch) {
      for (const b of e.blocks) {
        if (!b.clientInterrupted || b.toolUseId === undefined) continue;
        const call = index.toolCalls.get(b.toolUseId);
        findings.push(report(meta, e, `Claude Code marked ${call?.name ?? 'a'} call ${b.toolUseId} as interrupted; its outcome is unknown`, { toolUseId: b.toolUseId, related: call ? [call.entry.line] : [] }));
      }
    }
    return findings;
  },
};
export default rule;
