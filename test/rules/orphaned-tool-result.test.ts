import { expect } from 'vitest';
import rule from '../../src/rules/orphaned-tool-result.js';
import { CLIENT_INTERRUPTED_RESULT, corpus, healthy, healthyCorpus, ruleTester, text, toolResult, toolUse, Transcript } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'corpus 2.1.29: an orphan result before a SessionStart hook restarted the chain is not loaded (Entire ec/38b74f08e3)',
      session: corpus('entireio__cli/ec/38b74f08e3/3/full.jsonl'),
    },
    {
      name: 'corpus 2.1.4: a call without result is orphaned-tool-use, not this (Entire 4c/02af2759b6)',
      session: corpus('entireio__cli/4c/02af2759b6/0/full.jsonl'),
    },
    {
      name: 'a result after the user wrote on a sibling branch still answers its call',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user('Check the version.');
        const call = t.assistant(toolUse('toolu_01VersionZ1x2C3v4B5n6M7', 'Bash', { command: 'node -v' }));
        t.user('Skip that.', { parent: fork });
        t.result('toolu_01VersionZ1x2C3v4B5n6M7', 'v20.20.2', { parent: call });
        t.assistant(text('Node 20.'));
        return t.write();
      },
    },
    {
      name: 'a sidechain result whose call is in the subagent file',
      session: () => {
        const t = healthy({ version: '1.0.56' });
        t.result('toolu_01SideCallQ9w8E7r6T5y4', 'src/greet.js', { isSidechain: true, parent: null });
        return t.write();
      },
    },
    {
      name: "Claude Code's own [Tool call interrupted…] result for a call in the file",
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Run the slow job.');
        t.assistant(toolUse('toolu_01SlowJobJ7k8L9z0X1c2', 'Bash', { command: 'node scripts/slow-job.js' }));
        t.result('toolu_01SlowJobJ7k8L9z0X1c2', CLIENT_INTERRUPTED_RESULT, { isError: true });
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 2.0.75: a result whose Bedrock call is not in the file (codemie 5c187f31)',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl'),
      findings: [{ line: 21, severity: 'error', message: 'tool_result for toolu_bdrk_01Fqp38vZinuxxWWiyp7Xm4z answers no tool_use in this session', toolUseId: 'toolu_bdrk_01Fqp38vZinuxxWWiyp7Xm4z' }],
    },
    {
      name: 'the first message after a compaction answers a call the compaction cut away (CC#40305)',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.compact();
        t.result('toolu_01CutAwayH8j9K0l1Z2x3C4', 'Tests: 12 passed');
        t.assistant(text('The tests pass.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'tool_result for toolu_01CutAwayH8j9K0l1Z2x3C4 answers no tool_use in this session' }],
    },
    {
      name: 'a result with the id of no call, next to a real one in the same entry (2.1.152)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Run it.');
        t.assistant(toolUse('toolu_01RealCallP0o9I8u7Y6t5', 'Bash', { command: 'npm start' }));
        t.user([toolResult('toolu_01RealCallP0o9I8u7Y6t5', 'Hello, world'), toolResult('toolu_01GhostCallR4e3W2q1A0s9', 'ok')]);
        t.assistant(text('It prints the greeting.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'tool_result for toolu_01GhostCallR4e3W2q1A0s9 answers no tool_use', toolUseId: 'toolu_01GhostCallR4e3W2q1A0s9' }],
      repaired: (messages) =>
        expect(messages.at(-2)).toEqual({
          role: 'user',
          content: [
            toolResult('toolu_01RealCallP0o9I8u7Y6t5', 'Hello, world'),
            text('[Result of tool call toolu_01GhostCallR4e3W2q1A0s9, whose call is missing from this session:]\nok'),
          ],
        }),
    },
    {
      name: 'a result after the prompt, its call lost with a torn line',
      session: () => {
        const t = new Transcript({ version: '2.0.74' });
        t.user('What is in main.js?');
        t.assistant(toolUse('toolu_01ReadMainK8sLq2VwXe', 'Read', { file_path: '/home/user/proj/main.js' }));
        t.result('toolu_01ReadMainK8sLq2VwXe', '     1→import { greet } from "./greet.js";');
        t.assistant(text('It imports greet.'));
        return t.replace(2, t.line(2).slice(0, 100)).write();
      },
      findings: [{ line: 3, severity: 'error', message: 'tool_result for toolu_01ReadMainK8sLq2VwXe answers no tool_use' }],
    },
  ],
});
