import { resultMarkerRule } from './result-marker.js';

export default resultMarkerRule(
  'connectionLost',
  {
    code: 'connection-lost-result',
    severity: 'notice',
    description: 'A connection_lost result that an earlier ccrescue recovery wrote for a lost call.',
    fix: null,
  },
  (id) => `recovered earlier: call ${id} was marked connection_lost`,
);
