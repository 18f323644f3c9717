import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'invalid-entry-shape',
  severity: 'warning',
  description: 'An entry of a known type lacks a field its type needs or has one of the wrong type (malformed entries have crashed the client loader).',
  fix: null,
  catalogue: 'C17',
};

const rule: Rule = {
  meta,
  detect: ({ index }) =>
    index.entries.filter((e) => e.shapeProblem !== undefined).map((e) => report(meta, e, e.type ? `${e.type} entry: ${e.shapeProblem}` : e.shapeProblem!)),
};
export default rule;
