import { lineDamageRule } from './line-damage.js';

export default lineDamageRule(
  'torn',
  {
    code: 'torn-line',
    severity: 'error',
    description: 'A line in the middle of the file is not valid JSON (a write cut off by a crash).',
    fix: { safety: 'safe', description: 'Remove the line from the session; its bytes are kept in the snapshot.' },
    catalogue: 'C12',
  },
  (line, damage) =>
    damage.salvaged.length > 0
      ? `line ${line} is not valid JSON: its entry is followed by characters JSON does not allow`
      : `line ${line} is not valid JSON and holds no complete entry`,
);
