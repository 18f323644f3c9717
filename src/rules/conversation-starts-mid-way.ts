import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'conversation-starts-mid-way',
  severity: 'error',
  description: 'The resumed branch does not begin with a user prompt (its start was never written or was cut away); the API requires the first message to be a user message without tool results.',
  fix: { safety: 'safe', description: 'Add a first user message saying that the start of the conversation is missing.' },
  catalogue: 'C13',
};

const rule: Rule = {
  meta,
  detect: ({ index }) => {
    const first = index.branch.find((e) => (e.type === 'user' || e.type === 'assistant') && !e.isApiErrorMessage && !e.isSidechain);
    if (!first) return [];
    const startsWithPrompt = first.type === 'user' && !first.blocks.some((b) => b.type === 'tool_result');
    return startsWithPrompt ? [] : [report(meta, first, `the conversation a client would load begins with ${first.type === 'user' ? 'a tool result' : 'an assistant message'}`)];
  },
};
export default rule;
