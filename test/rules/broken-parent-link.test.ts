import { expect } from 'vitest';
import rule from '../../src/rules/broken-parent-link.js';
import { corpus, healthy, healthyCorpus, ruleTester, text, Transcript } from './helpers.js';

const MISSING = '9b7c3e1a-5f2d-4e8b-a6c4-2d1f0e9a8b7c';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'corpus 2.1.5: its first line names a parent outside the file; two compactions (Entire b0/2936744f3b)',
      session: corpus('entireio__cli/b0/2936744f3b/0/full.jsonl'),
    },
    {
      name: 'corpus 2.1.25: a compacted session (Entire 64/9d11045222)',
      session: corpus('entireio__cli/64/9d11045222/0/full.jsonl'),
    },
    {
      name: 'a compaction: compact_boundary and its summary restart the chain on purpose',
      session: () => {
        const t = healthy();
        t.compact();
        t.user('Carry on with the flag.');
        t.assistant(text('Adding it now.'));
        return t.write();
      },
    },
    {
      name: 'a system/local_command line with parentUuid null mid-file',
      session: () => {
        const t = healthy();
        const before = t.last;
        t.system('local_command', { content: '<command-name>/cost</command-name>', level: 'info' }, { parent: null });
        t.user('Thanks.', { parent: before });
        t.assistant(text('You are welcome.'));
        return t.write();
      },
    },
    {
      name: 'corpus 2.0.46 excerpt: its first entry names a parent outside the file (nothing to link to)',
      session: corpus('daaain__claude-code-log/test/test_data/edit_tool.jsonl'),
    },
    {
      name: 'a file whose first prompt names a parent in another file (a fork copy)',
      session: () => {
        const t = new Transcript();
        t.user('Continue from the other session.', { parent: MISSING });
        t.assistant(text('Continuing.'));
        return t.write();
      },
    },
    {
      name: 'in-file sidechain entries (1.0.x subagent) whose parents are elsewhere',
      session: () => {
        const t = healthy({ version: '1.0.56' });
        t.user('Explore the repo.', { isSidechain: true, parent: MISSING });
        t.assistant(text('The repo has two files.'), { isSidechain: true });
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'an answer whose parent was never written (retry state after ECONNRESET, CC#58554)',
      session: () => {
        const t = healthy();
        t.user('Add a --name flag.');
        t.assistant(text('Added it.'), { parent: MISSING });
        return t.write();
      },
      findings: [{ line: 9, severity: 'error', message: `assistant entry names parent ${MISSING}, which is not in the file; linked to line 8`, related: [8] }],
      repaired: (messages) => {
        expect(messages).toHaveLength(8);
        expect(messages[0]).toEqual({ role: 'user', content: [text('What does this project do?')] });
      },
    },
    {
      name: 'a prompt with parentUuid null in the middle of the conversation (a replayed root)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('What about tests?', { parent: null });
        t.assistant(text('There are none yet.'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'user entry starts a new chain mid-conversation (parentUuid null); linked to line 7', related: [7] }],
    },
    {
      name: 'corpus 1.0.51: a duplicated answer written as a new root',
      session: corpus('slopus__happy-cli/src/claude/utils/__fixtures__/duplicate-assistant-response.jsonl'),
      findings: [{ line: 3, severity: 'error', message: 'assistant entry starts a new chain mid-conversation (parentUuid null); linked to line 2', related: [2] }],
    },
    {
      name: 'corpus 2.0.75: two gaps in a Bedrock session (codemie 5c187f31)',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl'),
      findings: [
        { line: 21, severity: 'error', message: 'user entry names parent 2d7f8e67-ed8d-40e9-bca3-b6924ed9b597, which is not in the file; linked to line 20', related: [20] },
        { line: 52, severity: 'error', message: 'assistant entry names parent 6d9b208a-075d-4c6d-ad51-da521d565dba, which is not in the file; linked to line 50', related: [50] },
      ],
    },
    {
      name: 'corpus 2.1.23: a hook progress line after a lost entry (Entire 6d/e70163f7e3)',
      session: corpus('entireio__cli/6d/e70163f7e3/0/full.jsonl'),
      findings: [{ line: 70, severity: 'error', message: 'progress entry names parent b2c35640-0d74-4d5b-9303-e0f64397c759, which is not in the file; linked to line 69', related: [69] }],
    },
  ],
});
