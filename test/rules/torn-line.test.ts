import { expect } from 'vitest';
import rule from '../../src/rules/torn-line.js';
import { corpus, healthy, healthyCorpus, ruleTester, text, toolUse, Transcript } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'corpus 2.1.12: a glued line is concatenated-line, not torn-line (Entire 37/995ebed6e4)',
      session: corpus('entireio__cli/37/995ebed6e4/2/full.jsonl'),
    },
    {
      name: 'a record cut off at the very end without newline is truncated-tail, not torn-line',
      session: () => {
        const t = healthy();
        t.assistant(text('Done; the tests pass.'));
        return t.cutLast(120).write({ trailingNewline: false });
      },
    },
    {
      name: 'CRLF line endings (the \\r is JSON whitespace)',
      session: () => {
        const t = healthy();
        for (let n = 1; n <= t.lineCount; n++) t.replace(n, `${t.line(n)}\r`);
        return t.write();
      },
    },
    {
      name: 'JSON text and braces inside strings',
      session: () => {
        const t = healthy();
        t.user('Why does this fail? {"type":"user"}{"broken": [');
        t.assistant(text('The input holds two objects glued together: `}{` is not valid JSON, and `[` never closes.'));
        return t.write();
      },
    },
    {
      name: 'two records glued on one line are concatenated-line, not torn-line',
      session: () => {
        const t = healthy();
        const last = t.lineCount;
        t.snapshot(t.last!);
        return t.replace(last, t.line(last) + t.line(last + 1)).remove(last + 1).write();
      },
    },
    {
      name: 'a record behind a run of NULs is nul-bytes, not torn-line',
      session: () => {
        const t = healthy();
        return t.replace(3, Buffer.concat([Buffer.alloc(64), Buffer.from(t.line(3))])).write();
      },
    },
  ],
  invalid: [
    {
      name: 'a prompt cut mid-record in the middle of the file (2.1.39); the answer names the lost line as parent',
      session: () => {
        const t = healthy();
        t.user('Add a --name flag to main.js.');
        t.assistant(text('Added the flag.'));
        return t.replace(8, t.line(8).slice(0, 150)).write();
      },
      findings: [{ line: 8, severity: 'error', message: /^line 8 is not valid JSON and holds no complete entry$/ }],
    },
    {
      name: 'a tool result cut mid-record between two block lines of one message (2.0.74)',
      session: () => {
        const t = new Transcript({ version: '2.0.74' });
        t.user('Read both files.');
        t.assistant([toolUse('toolu_01ReadGreetP8wLm2XcV', 'Read', { file_path: '/home/user/proj/src/greet.js' })]);
        t.result('toolu_01ReadGreetP8wLm2XcV', '     1→export const greet = (n) => `Hello, ${n}`;');
        t.assistant(text('greet.js exports one function.'));
        return t.replace(3, t.line(3).slice(0, t.line(3).indexOf('"content"') + 14)).write();
      },
      findings: [{ line: 3, severity: 'error', message: 'line 3 is not valid JSON' }],
    },
    {
      name: 'shell output written into the file (not JSON at all)',
      session: () => {
        const t = healthy();
        const lines = t.lineCount;
        t.user('Thanks.');
        t.assistant(text('You are welcome.'));
        return t.replace(lines + 1, 'Killed').write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 is not valid JSON' }],
    },
    {
      name: 'a whole entry followed by a no-break space (U+00A0 is no JSON whitespace): the entry is kept',
      session: () => {
        const t = healthy();
        return t.replace(7, `${t.line(7)}\u00a0`).write();
      },
      findings: [{ line: 7, severity: 'error', message: /^line 7 is not valid JSON: its entry is followed by characters JSON does not allow$/ }],
      repaired: (messages) => expect(messages.at(-1)).toEqual({ role: 'assistant', content: [text('There are two: greet.js and main.js.')] }),
    },
    {
      name: 'the last line is cut but ends with a newline (torn, not a truncated tail)',
      session: () => {
        const t = healthy({ version: '2.1.14' });
        t.user('And the README?');
        return t.cutLast(100).write({ trailingNewline: true });
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 is not valid JSON' }],
    },
  ],
});
