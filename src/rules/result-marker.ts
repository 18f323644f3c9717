import type { BlockFacts } from '../read/facts.js';
import type { ToolCall } from '../index/session-index.js';
import { report, type Finding, type Rule, type RuleMeta } from './types.js';

/** Rules that recognise results written for a lost call (by Claude Code or by an earlier recovery). */
export function resultMarkerRule(marker: 'clientInterrupted' | 'connectionLost', meta: RuleMeta, describe: (toolUseId: string, call: ToolCall | undefined) => string): Rule {
  return {
    meta,
    detect: ({ index }) => {
      const findings: Finding[] = [];
      for (const e of index.branch) {
        for (const b of e.blocks as BlockFacts[]) {
          if (!b[marker] || b.toolUseId === undefined) continue;
          const call = index.toolCalls.get(b.toolUseId);
          findings.push(report(meta, e, describe(b.toolUseId, call), { toolUseId: b.toolUseId, related: call ? [call.entry.line] : [] }));
        }
      }
      return findings;
    },
  };
}
