import { lineDamageRule } from './line-damage.js';

export default lineDamageRule(
  'lone-surrogate',
  {
    code: 'lone-surrogate',
    severity: 'error',
    description: 'A string holds half of a UTF-16 surrogate pair; the API rejects the whole request body.',
    fix: {
      safety: 'safe',
      description: 'Replace each unpaired surrogate with U+FFFD; a thinking block holding one is left out, kept in the snapshot (an edit breaks its signature, and the API refuses the block as it is).',
    },
    catalogue: 'C08',
  },
  (line) => `line ${line} has an unpaired UTF-16 surrogate ("no low surrogate in string")`,
);
