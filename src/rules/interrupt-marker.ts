import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'interrupt-marker',
  severity: 'notice',
  description: 'The user interrupted a response or a tool call ([Request interrupted by user…]); legitimate, kept as is.',
  fix: null,
  catalogue: 'C16',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => index.branch.filter((e) => e.interruptMarker).map((e) => report(meta, e, 'the user interrupted the turn here')),
};
export default rule;
