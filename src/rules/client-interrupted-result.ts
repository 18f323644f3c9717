import { resultMarkerRule } from './result-marker.js';

export default resultMarkerRule(
  'clientInterrupted',
  {
    code: 'client-interrupted-result',
    severity: 'notice',
    description:
      "A result Claude Code itself added on resume for a call cut off by a crash (\"[Tool call interrupted…\"); valid, but it says only that the outcome is unknown.",
    fix: null,
  },
  (id, call) => `Claude Code marked ${call?.name ?? 'a'} call ${id} as interrupted; its outcome is unknown`,
);
