import { report, type Rule, type RuleMeta } from './types.js';

const meta: RuleMeta = {
  code: 'crashed-client',
  severity: 'warning',
  description: 'A Claude Code process record (sessions/<pid>.json) names this session but its process is gone: the client died without exiting.',
  fix: null,
};

const rule: Rule = {
  meta,
  detect: ({ index, clients }) =>
    clients
      .filter((c) => !c.alive && c.sessionId !== null && c.sessionId === index.sessionId)
      .map((c) =>
        report(meta, index.leaf ?? 0, `Claude Code${c.version ? ` ${c.version}` : ''} (pid ${c.pid}) died while this session was ${c.status ?? 'open'}; its record ${c.file} was left behind`),
      ),
};
export default rule;
