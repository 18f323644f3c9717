import { expect } from 'vitest';
import rule from '../../src/rules/concatenated-line.js';
import { corpus, healthy, healthyCorpus, ruleTester, text, toolResult, toolUse } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'a message whose text holds glued JSON records',
      session: () => {
        const t = healthy();
        t.user('My log has lines like {"type":"user","uuid":"a"}{"type":"summary","summary":"x"} — why?');
        t.assistant(text('Two records were written without the newline between them: `}{"type":"summary"`.'));
        return t.write();
      },
    },
    {
      name: 'a torn line with no complete record in it is torn-line',
      session: () => {
        const t = healthy();
        return t.replace(4, t.line(4).slice(0, 200)).write();
      },
    },
    {
      name: 'a complete record followed by spaces',
      session: () => {
        const t = healthy();
        return t.replace(2, `${t.line(2)}   `).write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 2.1.12: an entry glued to a summary line (Entire 37/995ebed6e4)',
      session: corpus('entireio__cli/37/995ebed6e4/2/full.jsonl'),
      findings: [{ line: 128, severity: 'error', message: 'line 128 holds more than one record' }],
    },
    {
      name: 'corpus 2.1.12: an entry glued to a file-history-snapshot (Entire 5a/c45bc32212)',
      session: corpus('entireio__cli/5a/c45bc32212/0/full.jsonl'),
      findings: [{ line: 115, severity: 'error', message: 'line 115 holds more than one record' }],
    },
    {
      name: 'a tool_use block line glued to its tool result (2.1.328)',
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Run the tests.');
        t.assistant([text('Running them.'), toolUse('toolu_01RunTestsM9aZq4TnYcE2', 'Bash', { command: 'npm test' })]);
        t.result('toolu_01RunTestsM9aZq4TnYcE2', 'all 12 tests passed');
        t.assistant(text('All tests pass.'));
        return t.replace(9, t.line(9) + t.line(10)).remove(10).write();
      },
      findings: [{ line: 9, severity: 'error', message: 'line 9 holds more than one record' }],
      repaired: (messages) =>
        expect(messages.slice(-3)).toEqual([
          { role: 'assistant', content: [text('Running them.'), toolUse('toolu_01RunTestsM9aZq4TnYcE2', 'Bash', { command: 'npm test' })] },
          { role: 'user', content: [toolResult('toolu_01RunTestsM9aZq4TnYcE2', 'all 12 tests passed')] },
          { role: 'assistant', content: [text('All tests pass.')] },
        ]),
    },
    {
      name: 'a torn stub, then the record a resumed client appended to it',
      session: () => {
        const t = healthy();
        t.user('Now add a --name flag.');
        t.assistant(text('Added it.'));
        const stub = t.line(9).slice(0, 180);
        // The cut answer is rewritten on resume; the new copy lands on the stub's line.
        return t.replace(9, stub + t.line(9)).write();
      },
      findings: [{ line: 9, severity: 'error', message: 'line 9 holds more than one record' }],
    },
    {
      name: 'a complete record, then the next one cut off at the end of the file (no newline)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Thanks.');
        t.assistant(text('You are welcome.'));
        const cut = t.line(9).slice(0, 150);
        return t.replace(8, t.line(8) + cut).remove(9).write({ trailingNewline: false });
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 holds more than one record' }],
    },
    {
      name: 'three records on one line',
      session: () => {
        const t = healthy();
        t.user('One more question.');
        t.assistant(text('Sure.'));
        t.user('What is the license?');
        return t.replace(8, t.line(8) + t.line(9) + t.line(10)).remove(10).remove(9).write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 holds more than one record' }],
    },
  ],
});
