import rule from '../../src/rules/duplicate-tool-use-id.js';
import { expect } from 'vitest';
import { healthy, healthyCorpus, repoFile, ruleTester, text, toolUse } from './helpers.js';

const ID = 'toolu_01DupIdQ1w2E3r4T5y6U7i8';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'the real 2.1.328 crash: six parallel calls in two messages, all ids distinct',
      session: repoFile('fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl'),
    },
    {
      name: 'an entry replayed with its own uuid (a resume copy) is the same call',
      session: () => {
        const t = healthy();
        t.user('Run the tests.');
        t.assistant(toolUse(ID, 'Bash', { command: 'npm test' }));
        const copy = t.line(t.lineCount);
        t.result(ID, 'ok');
        t.raw(copy);
        t.assistant(text('Tests pass.'));
        return t.write();
      },
    },
    {
      name: 'the same id used again on a branch the user rewound away from',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user('Run the tests.');
        t.assistant(toolUse(ID, 'Bash', { command: 'npm test' }));
        t.result(ID, 'ok');
        t.user('Run the tests again, verbosely.', { parent: fork });
        t.assistant(text('I will not reuse the old call.'));
        return t.write();
      },
    },
    {
      name: 'several tool_use blocks of one message with distinct ids',
      session: () => {
        const t = healthy();
        t.user('Two checks.');
        const id = 'msg_01TwoChecksAs1Df2Gh3Jk4';
        t.assistant(toolUse('toolu_01CheckOneZ9x8C7v6B5n4', 'Bash', { command: 'true' }), { id });
        t.assistant(toolUse('toolu_01CheckTwoM3n2B1v0C9x8', 'Bash', { command: 'true' }), { id });
        t.result('toolu_01CheckOneZ9x8C7v6B5n4', '');
        t.result('toolu_01CheckTwoM3n2B1v0C9x8', '');
        t.assistant(text('Both passed.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'the same id in two different messages on the branch (the 2.1.19 -p regression, CC#21083)',
      session: () => {
        const t = healthy({ version: '2.1.19' });
        t.user('Run the tests.');
        t.assistant(toolUse(ID, 'Bash', { command: 'npm test' }));
        t.result(ID, 'ok');
        t.user('Run them again.');
        t.assistant(toolUse(ID, 'Bash', { command: 'npm test' }));
        t.result(ID, 'ok');
        t.assistant(text('Still passing.'));
        return t.write();
      },
      findings: [{ line: 12, severity: 'error', message: `tool_use id ${ID} is also used at line 9`, related: [9], toolUseId: ID }],
      // The first call and its result stay; the later call and the result answering it are left out (C04).
      repaired: (messages) => {
        const blocks = messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type?: string; id?: string; tool_use_id?: string }[]) : []));
        expect(blocks.filter((b) => b.type === 'tool_use' && b.id === ID)).toHaveLength(1);
        expect(blocks.filter((b) => b.type === 'tool_result' && b.tool_use_id === ID)).toEqual([expect.objectContaining({ content: 'ok' })]);
      },
    },
    {
      name: 'two block lines of one message with the same id (messages.N.content.M: `tool_use` ids must be unique)',
      session: () => {
        const t = healthy({ version: '2.1.19' });
        t.user('Run the tests twice.');
        const id = 'msg_01TwiceSameIdPo9Iu8Yt7Re';
        t.assistant(toolUse(ID, 'Bash', { command: 'npm test' }), { id });
        t.assistant(toolUse(ID, 'Bash', { command: 'npm test' }), { id });
        t.result(ID, 'ok');
        t.assistant(text('Passing.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: `tool_use id ${ID} is also used at line 9`, related: [9] }],
      // Within one message the copy goes and the one result answers the call that stays.
      repaired: (messages) => {
        const blocks = messages.flatMap((m) => (Array.isArray(m.content) ? (m.content as { type?: string; id?: string; tool_use_id?: string }[]) : []));
        expect(blocks.filter((b) => b.type === 'tool_use' && b.id === ID)).toHaveLength(1);
        expect(blocks.filter((b) => b.type === 'tool_result' && b.tool_use_id === ID)).toEqual([expect.objectContaining({ content: 'ok' })]);
      },
    },
    {
      name: 'three uses of one id: each later use is reported against the first',
      session: () => {
        const t = healthy();
        for (const prompt of ['Build.', 'Build again.', 'And once more.']) {
          t.user(prompt);
          t.assistant(toolUse(ID, 'Bash', { command: 'npm run build' }));
          t.result(ID, 'built');
        }
        t.assistant(text('Built three times.'));
        return t.write();
      },
      findings: [
        { line: 12, severity: 'error', message: `tool_use id ${ID} is also used at line 9` },
        { line: 15, severity: 'error', message: `tool_use id ${ID} is also used at line 9` },
      ],
    },
  ],
});
