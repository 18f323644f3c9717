import rule from '../../src/rules/interrupt-marker.js';
import { corpus, healthy, healthyCorpus, INTERRUPTED_BY_USER, INTERRUPTED_FOR_TOOL_USE, REJECTED_TOOL_USE, ruleTester, text, toolUse } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'a prompt that quotes the marker',
      session: () => {
        const t = healthy();
        t.user(`What does "${INTERRUPTED_BY_USER}" in my transcript mean?`);
        t.assistant(text('That you pressed Esc.'));
        return t.write();
      },
    },
    {
      name: 'an assistant text that starts with the marker text',
      session: () => {
        const t = healthy();
        t.user('Print the marker.');
        t.assistant(text(`${INTERRUPTED_BY_USER} is what Claude Code writes.`));
        return t.write();
      },
    },
    {
      name: 'a marker on a branch the user rewound away from',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user('Write an essay.');
        t.assistant(text('Once upon'));
        t.user([text(INTERRUPTED_BY_USER)]);
        t.user('Just one sentence, please.', { parent: fork });
        t.assistant(text('It greets.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 1.0.43: three interrupts in one session',
      session: corpus('daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-claude-code-log-sample/0d3a8e6f-290f-4105-a327-a2496e5e2a83.jsonl'),
      findings: [
        { line: 15, severity: 'notice', message: 'the user interrupted the turn here' },
        { line: 20, severity: 'notice', message: 'the user interrupted the turn here' },
        { line: 45, severity: 'notice', message: 'the user interrupted the turn here' },
      ],
    },
    {
      name: 'corpus 1.0.51: a permission prompt aborted with an interrupt',
      session: corpus('slopus__happy-cli/src/claude/utils/__fixtures__/permission-prompt-aborted-with-interrupt.jsonl'),
      findings: [{ line: 5, severity: 'notice', message: 'the user interrupted the turn here' }],
    },
    {
      name: 'streaming interrupted: partial text, then the marker (2.1.39)',
      session: () => {
        const t = healthy();
        t.user('Write an essay.');
        t.assistant(text('Once upon'));
        t.user([text(INTERRUPTED_BY_USER)]);
        return t.write();
      },
      findings: [{ line: 10, severity: 'notice', message: 'the user interrupted the turn here' }],
    },
    {
      name: 'interrupted during a tool: the rejection result, then the marker (2.0.74)',
      session: () => {
        const t = healthy({ version: '2.0.74' });
        t.user('Delete the build directory.');
        t.assistant(toolUse('toolu_01RmBuildA1s2D3f4G5h6', 'Bash', { command: 'rm -rf build' }));
        t.result('toolu_01RmBuildA1s2D3f4G5h6', REJECTED_TOOL_USE, { isError: true });
        t.user([text(INTERRUPTED_FOR_TOOL_USE)]);
        t.user('Keep the build directory.');
        t.assistant(text('Understood.'));
        return t.write();
      },
      findings: [{ line: 11, severity: 'notice', message: 'the user interrupted the turn here' }],
    },
  ],
});
