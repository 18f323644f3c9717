import { misplacedForRules } from '../plan/placement.js';
import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'misplaced-thinking',
  severity: 'error',
  description:
    'An assistant message on the resumed branch holds thinking blocks but does not start with one, or ends with one (thinking must come first, and the final block cannot be thinking); the API refuses the request.',
  fix: {
    safety: 'safe',
    description:
      'Leave out each thinking block out of place, kept in the snapshot: every one of a message that does not start with thinking, the trailing ones of a message that ends with thinking; a response left with nothing but thinking is removed.',
  },
  catalogue: 'C06',
};

const rule: Rule = {
  meta,
  detect: (ctx) => {
    // A response that stopped after its thinking is unfinished-turn's, a blank entry blank-content's; a
    // cut-off note or a connection_lost result ends a turn. As the plan judges it.
    return misplacedForRules(ctx).flatMap((m) => {
      if (m.why === 'thinking-last') return [report(meta, m.entry, `${m.block.type} block ends its assistant message: the final block cannot be thinking`)];
      if (m.why !== 'thinking-not-first' || m.first === undefined) return [];
      const first = m.first.entry === m.entry ? 'its assistant message' : `its assistant message (line ${m.first.entry.line})`;
      return [report(meta, m.entry, `${m.block.type} block after ${m.first.block.type} in ${first}: thinking must come first`, m.first.entry === m.entry ? {} : { related: [m.first.entry.line] })];
    });
  },
};
export default rule;
