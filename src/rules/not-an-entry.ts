import { lineDamageRule } from './line-damage.js';

export default lineDamageRule(
  'not-an-object',
  {
    code: 'not-an-entry',
    severity: 'warning',
    description: 'A line is valid JSON but not an object, so it is no transcript entry.',
    fix: { safety: 'safe', description: 'Remove the line from the session; its text is kept in the snapshot.' },
    catalogue: 'C17',
  },
  (line) => `line ${line} is JSON but not an entry object`,
);
