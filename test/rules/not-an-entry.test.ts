import rule from '../../src/rules/not-an-entry.js';
import { healthy, healthyCorpus, ruleTester } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'an object of a type this tool does not know (worktree-state, 2.1.220)',
      session: () => healthy().entry({ type: 'worktree-state', worktreePath: '/home/user/proj-wt', sessionId: 'x' }).write(),
    },
    {
      name: 'an object with no type is invalid-entry-shape, not not-an-entry',
      session: () => healthy().entry({ note: 'hand-edited' }).write(),
    },
  ],
  invalid: [
    {
      name: 'a JSON array holding an entry',
      session: () => {
        const t = healthy();
        return t.replace(4, `[${t.line(4)}]`).write();
      },
      findings: [{ line: 4, severity: 'warning', message: 'line 4 is JSON but not an entry object' }],
    },
    {
      name: 'a bare JSON string',
      session: () => healthy().raw('"Killed"').write(),
      findings: [{ line: 8, severity: 'warning', message: 'line 8 is JSON but not an entry object' }],
    },
    {
      name: 'null and a number',
      session: () => {
        const t = healthy();
        t.raw('null').raw('42');
        return t.write();
      },
      findings: [
        { line: 8, severity: 'warning', message: 'line 8 is JSON but not an entry object' },
        { line: 9, severity: 'warning', message: 'line 9 is JSON but not an entry object' },
      ],
    },
  ],
});
