import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'orphaned-tool-use',
  severity: 'error',
  description: 'A tool call on the resumed branch has no result: the client died while it ran, or its result line was lost.',
  fix: {
    safety: 'safe',
    description: "Add a connection_lost tool_result in Claude Code's own shape for interrupted calls, stating what is known of the call.",
  },
  catalogue: 'C01',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings = [];
    for (const call of index.toolCalls.values()) {
      if (call.results.length > 0 || call.entry.isSidechain || !index.branchSet.has(call.entry)) continue;
      findings.push(report(meta, call.entry, `${call.name} call ${call.id} has no tool_result`, { toolUseId: call.id }));
    }
    return findings;
  },
};
export default rule;
