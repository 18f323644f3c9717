import { lineDamageRule } from './line-damage.js';

export default lineDamageRule(
  'concatenated',
  {
    code: 'concatenated-line',
    severity: 'error',
    description: 'Two records share one line (a non-atomic append lost its newline), sometimes after a torn stub.',
    fix: { safety: 'safe', description: 'Split the line into one line per record; a torn stub is kept in the snapshot.' },
    catalogue: 'C12',
  },
  (line) => `line ${line} holds more than one record`,
);
