import type { Rule, RuleMeta } from './types.js';
import { report } from './types.js';

const meta: RuleMeta = {
  code: 'nul-bytes',
  severity: 'error',
  description: 'NUL bytes in a line, left by an interrupted append under delayed allocation.',
  fix: { safety: 'safe', description: 'Strip the NUL bytes; a line of nothing but NULs is removed.' },
  catalogue: 'C12',
};

const rule: Rule = {
  meta,
  detect: ({ index }) =>
    [...index.scan.damage.values()]
      .filter((d) => d.kinds.includes('nul') || d.kinds.includes('nul-only'))
      .map((d) => report(meta, d.line, d.kinds.includes('nul-only') ? `line ${d.line} is ${d.length} bytes of NULs` : `line ${d.line} contains NUL bytes`)),
};
export default rule;
