import { typeName } from '../plan/blocks.js';
import { knownContentTag } from '../validate/messages-api.js';
import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'unknown-block-type',
  severity: 'error',
  description: 'A user or assistant entry holds a content block of a type the Messages API does not know, or a tool_result whose content holds a block of a type it does not take there; the API refuses the whole request.',
  fix: {
    safety: 'safe',
    description:
      'Leave the block out, kept in the snapshot (a message left with nothing to send is removed like a blank one); a tool_result keeps answering its call, its content written as JSON text.',
  },
  catalogue: 'C17',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const findings: Finding[] = [];
    // Every message entry, not only those the resumed branch sends: a repair can make a side branch the resumed one.
    for (const e of index.entries) {
      if (e.type !== 'user' && e.type !== 'assistant') continue;
      // A block with no string type has the wrong shape: invalid-entry-shape names it.
      const unknown = e.blocks.filter((b) => b.untyped !== true && !knownContentTag(b.type)).map((b) => typeName(b.type));
      if (unknown.length > 0) {
        const types = [...new Set(unknown)].join(', ');
        findings.push(report(meta, e, `${e.type} entry holds ${unknown.length === 1 ? `a block of type ${types}` : `${unknown.length} blocks of types ${types}`}, which the Messages API does not know`));
      }
      for (const b of e.blocks) {
        if (b.type !== 'tool_result' || !b.unknownPart) continue;
        findings.push(report(meta, e, `the content of the tool_result for ${b.toolUseId ?? '(no id)'} holds a block of a type the Messages API does not take there`, b.toolUseId === undefined ? {} : { toolUseId: b.toolUseId }));
      }
    }
    return findings;
  },
};
export default rule;
