import { lineDamageRule } from './line-damage.js';

export default lineDamageRule(
  'truncated-tail',
  {
    code: 'truncated-tail',
    severity: 'error',
    description: 'The last line was cut off before its newline (the writer was killed mid-append).',
    fix: { safety: 'safe', description: 'Remove the torn tail from the session; its bytes are kept in the snapshot.' },
    catalogue: 'C12',
  },
  (line) => `last line ${line} ends mid-record (no newline, not valid JSON)`,
);
