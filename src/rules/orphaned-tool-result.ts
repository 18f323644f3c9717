import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'orphaned-tool-result',
  severity: 'error',
  description: 'A tool_result answers a tool_use that is not in the file; older clients then fail every request with a 400.',
  fix: { safety: 'safe', description: 'Turn the result into a text block that keeps its content and says which call it answered.' },
  catalogue: 'C02',
};

const rule: Rule = {
  meta,
  detect: ({ index }) =>
    index.orphanResults
      .filter((o) => !o.entry.isSidechain && index.branchSet.has(o.entry))
      .map((o) => report(meta, o.entry, `tool_result for ${o.toolUseId} answers no tool_use in this session`, { toolUseId: o.toolUseId })),
};
export default rule;
