import type { LineDamage, LineDamageKind } from '../read/session-reader.js';
import { report, type Rule, type RuleMeta } from './types.js';

/** Rules that report one kind of byte-level damage found by the reader. */
export function lineDamageRule(kind: LineDamageKind, meta: RuleMeta, describe: (line: number, damage: LineDamage) => string): Rule {
  return {
    meta,
    detect: ({ index }) =>
      [...index.scan.damage.values()].filter((d) => d.kinds.includes(kind)).map((d) => report(meta, d.line, describe(d.line, d))),
  };
}
