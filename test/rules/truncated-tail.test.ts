import rule from '../../src/rules/truncated-tail.js';
import { healthy, healthyCorpus, ruleTester, text, toolUse, Transcript } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'the last line is complete but has no newline (Entire copies)',
      session: () => healthy().write({ trailingNewline: false }),
    },
    {
      name: 'a torn line followed by a newline is torn-line, even at the end',
      session: () => {
        const t = healthy();
        t.assistant(text('Now I will run the tests.'));
        return t.cutLast(90).write({ trailingNewline: true });
      },
    },
    {
      name: 'whitespace after the last newline is a blank line, not a record',
      session: () => healthy().raw('   ').write({ trailingNewline: false }),
    },
    {
      name: 'a tail of NULs without newline is nul-bytes (delayed allocation), not a cut record',
      session: () => healthy().raw(Buffer.alloc(4096)).write({ trailingNewline: false }),
    },
    {
      name: 'an empty session file',
      session: () => new Transcript().write({ trailingNewline: false }),
    },
  ],
  invalid: [
    {
      name: 'killed while appending an assistant line (2.1.39)',
      session: () => {
        const t = healthy();
        t.user('Now add a --name flag.');
        t.assistant(text('I will add the flag to main.js and document it in the README.'));
        return t.cutLast(210).write({ trailingNewline: false });
      },
      findings: [{ line: 9, severity: 'error', message: 'last line 9 ends mid-record (no newline, not valid JSON)' }],
    },
    {
      name: 'killed while appending the result of a tool call (2.0.74): the call is left without a result',
      session: () => {
        const t = healthy({ version: '2.0.74' });
        t.user('Run the tests.');
        t.assistant([text('Running them.'), toolUse('toolu_01RunTestsM9aZq4TnYcE2', 'Bash', { command: 'npm test', description: 'Run tests' })]);
        t.result('toolu_01RunTestsM9aZq4TnYcE2', '> proj@1.0.0 test\n> node test.js\n\nall 12 tests passed');
        return t.cutLast('"content":"> proj@').write({ trailingNewline: false });
      },
      findings: [{ line: 11, severity: 'error', message: 'ends mid-record' }],
    },
    {
      name: 'cut just after a backslash inside a string escape',
      session: () => {
        const t = healthy({ version: '2.1.14' });
        t.assistant(text('The config says "debug": true.'));
        return t.cutLast('says \\').write({ trailingNewline: false });
      },
      findings: [{ line: 8, severity: 'error', message: 'last line 8' }],
    },
    {
      name: 'a last-prompt pin cut off at the end of a 2.1.152 session',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.lastPrompt('List the source files.');
        return t.cutLast(40).write({ trailingNewline: false });
      },
      findings: [{ line: 8, severity: 'error', message: 'ends mid-record' }],
    },
  ],
});
