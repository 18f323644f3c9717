import { lineDamageRule } from './line-damage.js';

export default lineDamageRule(
  'invalid-utf8',
  {
    code: 'invalid-utf8',
    severity: 'warning',
    description: 'A line holds bytes that are not valid UTF-8.',
    fix: { safety: 'safe', description: 'Write the line as UTF-8 with U+FFFD for the bad bytes; the original bytes are kept in the snapshot.' },
  },
  (line) => `line ${line} is not valid UTF-8`,
);
