import { shapeRepairedByBlocks } from '../plan/blocks.js';
import { report, type Rule, type RuleMeta } from './types.js';

/** A finding whose entry has the shape of its type once its content blocks are repaired. */
export const MALFORMED_BLOCKS = 'malformed-blocks';
/** A finding whose entry's own fields are wrong: no safe repair takes it away, so it stays named (blocks of the wrong shape are still left out). */
export const KEPT = 'kept';

const meta: RuleMeta = {
  code: 'invalid-entry-shape',
  severity: 'warning',
  description: 'An entry of a known type lacks a field its type needs or has one of the wrong type (malformed entries have crashed the client loader).',
  fix: {
    safety: 'safe',
    description:
      'Leave out each content block of the wrong shape, kept in the snapshot (a tool_result that names its call keeps answering it, its content as JSON text; a thinking block without a signature goes too, as the API refuses it); a message left with nothing to send is removed like a blank one. A wrong field of the entry itself has no safe repair: it stays, and stays named.',
    leaves: [KEPT],
  },
  catalogue: 'C17',
};

const rule: Rule = {
  meta,
  detect: ({ index, loader }) =>
    index.entries
      .filter((e) => e.shapeProblem !== undefined)
      .map((e) => report(meta, e, e.type ? `${e.type} entry: ${e.shapeProblem}` : e.shapeProblem!, { kind: shapeRepairedByBlocks(loader.load(e)) ? MALFORMED_BLOCKS : KEPT })),
};
export default rule;
