import { textOf } from '../index/load.js';
import { report, type Finding, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'api-error',
  severity: 'notice',
  description: 'The client recorded an API error (connection lost, overloaded, timeout…) or retried a request; the transcript itself stays valid.',
  fix: null,
  catalogue: 'C15',
};

const rule: Rule = {
  meta,
  detect: ({ index, loader }) => {
    const findings: Finding[] = [];
    const messages = index.branch.filter((e) => e.type === 'user' || e.type === 'assistant');
    const lastMessage = messages[messages.length - 1];
    for (const e of index.branch) {
      if (e.type !== 'assistant' || !e.isApiErrorMessage) continue;
      const text = textOf(loader.load(e)).split('\n')[0]!.slice(0, 200);
      findings.push(report(meta, e, e === lastMessage ? `the session ends on an API error: ${text}` : `API error recorded: ${text}`));
    }
    const retries = index.entries.filter((e) => e.type === 'system' && e.subtype === 'api_error' && !e.isSidechain);
    if (retries.length > 0) {
      const lastRetry = retries[retries.length - 1]!;
      const unanswered = lastMessage !== undefined && lastMessage.type === 'user' && lastRetry.index > lastMessage.index;
      const summary = `${retries.length} API retry entr${retries.length === 1 ? 'y' : 'ies'} (system/api_error), the last at line ${lastRetry.line}`;
      findings.push(report(meta, unanswered ? lastRetry : retries[0]!, unanswered ? `${summary}: the last request was never answered` : summary, { related: retries.map((r) => r.line) }));
    }
    return findings;
  },
};
export default rule;
