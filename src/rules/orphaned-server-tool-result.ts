import { misplacedForRules } from '../plan/placement.js';
import { serverToolUseTagOf } from '../validate/messages-api.js';
import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'orphaned-server-tool-result',
  severity: 'error',
  description:
    'A server tool result (web_search_tool_result, advisor_tool_result…) on the resumed branch has no server_tool_use (mcp_tool_use for an mcp_tool_result) of its id before it in the same assistant message, or sits in a user message; or a server_tool_use has no result after it there; the API refuses the request.',
  fix: { safety: 'safe', description: 'Leave the result block (or the unanswered server_tool_use) out, kept in the snapshot; a message left with nothing to send is removed like a blank one.' },
  catalogue: 'C02',
};

const rule: Rule = {
  meta,
  detect: (ctx) => {
    // Judged on what the client sends once the other repairs have removed entries and added user messages, as the plan judges it.
    return misplacedForRules(ctx)
      .filter((m) => m.why === 'orphan-server-result' || m.why === 'unanswered-server-use')
      .map((m) => {
        if (m.why === 'unanswered-server-use') {
          return report(meta, m.entry, `${m.block.type} block ${m.block.id === undefined ? 'names no id' : `${m.block.id} has no result after it in its assistant message`}`, m.block.id === undefined ? {} : { toolUseId: m.block.id });
        }
        const id = m.block.toolUseId;
        const message =
          m.role === 'user'
            ? `${m.block.type} block in a user message: a server tool result belongs after its ${serverToolUseTagOf(m.block.type)}, in the assistant message`
            : `${m.block.type} block ${id === undefined ? 'names no tool_use_id' : `for ${id} has no ${serverToolUseTagOf(m.block.type)} of that id before it in its assistant message`}`;
        return report(meta, m.entry, message, id === undefined ? {} : { toolUseId: id });
      });
  },
};
export default rule;
