import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'path-outside-project',
  severity: 'notice',
  description: 'A path in the transcript leads outside the project directory (or through a symlink out of it); ccrescue does not open it, so its state is unknown.',
  fix: null,
};

const rule: Rule = {
  meta,
  detect: ({ forensics }) => (forensics?.refused ?? []).map((r) => report(meta, r.line, `${r.path}: ${r.reason}`)),
};
export default rule;
