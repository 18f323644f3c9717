import { expect } from 'vitest';
import rule from '../../src/rules/orphaned-tool-use.js';
import { CLIENT_INTERRUPTED_RESULT, corpus, healthy, healthyCorpus, INTERRUPTED_FOR_TOOL_USE, REJECTED_TOOL_USE, repoFile, ruleTester, text, toolUse, Transcript } from './helpers.js';

const CRASH_PARALLEL = 'fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'corpus 2.0.75: a prompt answered only by API retries has no call',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/single-user-message.jsonl'),
    },
    {
      name: 'corpus 2.1.23: a thinking-only response and a broken link, every call answered (Entire 6d/e70163f7e3)',
      session: corpus('entireio__cli/6d/e70163f7e3/0/full.jsonl'),
    },
    {
      name: 'parallel calls of one message, each answered, results between the block lines (2.1.328)',
      session: () => {
        const t = new Transcript({ version: '2.1.328' });
        t.user('Read both files.');
        const id = 'msg_01ParallelReadsZx8Qm3Lp';
        t.assistant([text('Reading both.'), toolUse('toolu_01ReadMathQ2w3E4r5T6', 'Read', { file_path: '/home/user/proj/src/math.js' })], { id });
        t.result('toolu_01ReadMathQ2w3E4r5T6', 'export const add = (a, b) => a + b;');
        t.assistant(toolUse('toolu_01ReadGreetY7u8I9o0P1', 'Read', { file_path: '/home/user/proj/src/greet.js' }), { id });
        t.result('toolu_01ReadGreetY7u8I9o0P1', 'export const greet = (n) => `Hello, ${n}`;');
        t.assistant(text('Both are one-liners.'));
        return t.write();
      },
    },
    {
      name: 'a call the user rejected (is_error result, then the interrupt marker)',
      session: () => {
        const t = healthy();
        t.user('Delete the build directory.');
        t.assistant(toolUse('toolu_01RmBuildA1s2D3f4G5h6', 'Bash', { command: 'rm -rf build' }));
        t.result('toolu_01RmBuildA1s2D3f4G5h6', REJECTED_TOOL_USE, { isError: true });
        t.user(INTERRUPTED_FOR_TOOL_USE);
        return t.write();
      },
    },
    {
      name: "a call answered by Claude Code's own [Tool call interrupted…] result",
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Run the slow job.');
        t.assistant(toolUse('toolu_01SlowJobJ7k8L9z0X1c2', 'Bash', { command: 'node scripts/slow-job.js' }));
        t.result('toolu_01SlowJobJ7k8L9z0X1c2', CLIENT_INTERRUPTED_RESULT, { isError: true, extra: { toolDenialKind: 'interrupted' } });
        return t.write();
      },
    },
    {
      name: 'an unanswered call inside an in-file sidechain (1.0.x Task subagent)',
      session: () => {
        const t = healthy({ version: '1.0.56' });
        t.user('Explore the repo.', { isSidechain: true, parent: null });
        t.assistant(toolUse('toolu_01SideGlobV3b4N5m6Q7w8', 'Glob', { pattern: '**/*.js' }), { isSidechain: true });
        return t.write();
      },
    },
    {
      name: 'an unanswered call on a branch the user rewound away from',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user('Deploy it.');
        t.assistant(toolUse('toolu_01DeployE9r0T1y2U3i4O5', 'Bash', { command: './deploy.sh' }));
        t.user('Actually, just describe the deploy script.', { parent: fork });
        t.assistant(text('deploy.sh copies dist/ to the server.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 2.1.4: a Task call at the end of the file (Entire copied it while the tool ran)',
      session: corpus('entireio__cli/4c/02af2759b6/0/full.jsonl'),
      findings: [{ line: 6, severity: 'error', message: 'Task call toolu_01Y2W8G7AnRZx2Q7vWrRL9vA has no tool_result', toolUseId: 'toolu_01Y2W8G7AnRZx2Q7vWrRL9vA' }],
    },
    {
      name: 'corpus 2.1.34: a Bash call at the end of the file',
      session: corpus('entireio__cli/60/fd31fcf44f/0/full.jsonl'),
      findings: [{ line: 117, severity: 'error', message: 'Bash call toolu_01WGYs8UbekNJUaEDd2rwDXv has no tool_result' }],
    },
    {
      name: 'corpus 1.0.71: a Read call at the end of an SDK session',
      session: corpus('slopus__happy-cli/src/claude/utils/__fixtures__/task_sdk.jsonl'),
      findings: [{ line: 10, severity: 'error', message: 'Read call toolu_01WcAeP5o1cykMtWBgyETq46 has no tool_result' }],
    },
    {
      name: 'corpus 2.0.75: four calls without results in the middle of the file (codemie 5c187f31)',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl'),
      findings: [
        { line: 18, severity: 'error', message: 'Read call toolu_bdrk_01H4dqP4AJrXHoCdkaib5upi has no tool_result' },
        { line: 19, severity: 'error', message: 'Read call toolu_bdrk_011Xs9dHJ8g6SM3eYSFAHWP9 has no tool_result' },
        { line: 49, severity: 'error', message: 'Write call toolu_bdrk_01BZnkbBydyAwpinLianesAA has no tool_result' },
        { line: 50, severity: 'error', message: 'Bash call toolu_bdrk_01P6LttSQTZUbSsStaagN9pA has no tool_result' },
      ],
    },
    {
      name: 'the real 2.1.328 client killed during a parallel batch (fixtures/crash-parallel)',
      session: repoFile(CRASH_PARALLEL, 'fixtures/crash-parallel/claude'),
      findings: [
        { line: 39, severity: 'error', message: 'Bash call toolu_h_bash has no tool_result' },
        { line: 40, severity: 'error', message: 'Write call toolu_h_write_marker has no tool_result' },
      ],
    },
    {
      name: 'one of two parallel calls answered, then a new prompt (mid-file, 2.0.74)',
      session: () => {
        const t = new Transcript({ version: '2.0.74' });
        t.user('Check lint and tests.');
        const id = 'msg_01LintAndTestsWq2Er4Ty6U';
        t.assistant([toolUse('toolu_01LintR5t6Y7u8I9o0P1a', 'Bash', { command: 'npm run lint' })], { id });
        t.assistant([toolUse('toolu_01TestS2d3F4g5H6j7K8l9', 'Bash', { command: 'npm test' })], { id });
        t.result('toolu_01LintR5t6Y7u8I9o0P1a', 'no lint errors');
        t.user('Never mind the tests; what did lint say?');
        t.assistant(text('Lint found no errors.'));
        return t.write();
      },
      findings: [{ line: 3, severity: 'error', message: 'Bash call toolu_01TestS2d3F4g5H6j7K8l9 has no tool_result', toolUseId: 'toolu_01TestS2d3F4g5H6j7K8l9' }],
      repaired: (messages) => {
        const results = messages[2]!.content as { type: string; tool_use_id: string; is_error?: boolean; content: string }[];
        expect(results.map((b) => [b.type, b.tool_use_id, b.is_error === true])).toEqual([
          ['tool_result', 'toolu_01TestS2d3F4g5H6j7K8l9', true],
          ['tool_result', 'toolu_01LintR5t6Y7u8I9o0P1a', false],
          ['text', undefined, false],
        ]);
        expect(results[0]!.content).toMatch(/^connection_lost: .*Bash call/);
      },
    },
  ],
});
