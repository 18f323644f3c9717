import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'surviving-process',
  severity: 'warning',
  description: 'A command the session started is still running although its tool call never returned: the client died and the process outlived it.',
  fix: { safety: 'safe', description: 'Nothing is stopped; the synthetic result and the continuation prompt say that it still runs, with its pid.' },
};

const rule: Rule = {
  meta,
  detect: ({ activeCalls }) =>
    (activeCalls ?? [])
      .filter((c) => c.running_processes && c.running_processes.length > 0)
      .map((c) =>
        report(meta, c.line, `${c.tool} \`${c.command ?? ''}\` still runs: ${c.running_processes!.map((p) => `pid ${p.pid}`).join(', ')}`, { toolUseId: c.tool_use_id }),
      ),
};
export default rule;
