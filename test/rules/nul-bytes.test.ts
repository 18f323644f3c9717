import { expect } from 'vitest';
import rule from '../../src/rules/nul-bytes.js';
import { healthy, healthyCorpus, ruleTester, text, withBytes } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'an escaped \\u0000 inside a string is text, not a NUL byte',
      session: () => {
        const t = healthy();
        t.user('Why does my C string stop at \u0000?');
        t.assistant(text('A NUL (\u0000) ends a C string.'));
        return t.write();
      },
    },
    {
      name: 'blank lines between records',
      session: () => healthy().raw('').raw('  ').write(),
    },
  ],
  invalid: [
    {
      name: 'a run of NULs before a record (delayed allocation, then the next append)',
      session: () => {
        const t = healthy();
        return t.replace(4, Buffer.concat([Buffer.alloc(1536), Buffer.from(t.line(4))])).write();
      },
      findings: [{ line: 4, severity: 'error', message: 'line 4 contains NUL bytes' }],
    },
    {
      name: 'a line of nothing but NULs in the middle of the file',
      session: () => {
        const t = healthy();
        t.raw(Buffer.alloc(4096));
        t.user('Next question: what is the license?');
        t.assistant(text('MIT.'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 is 4096 bytes of NULs' }],
    },
    {
      name: 'NULs at the end of the file without newline (the tail of a lost append)',
      session: () => healthy({ version: '2.1.152' }).raw(Buffer.alloc(512)).write({ trailingNewline: false }),
      findings: [{ line: 8, severity: 'error', message: 'line 8 is 512 bytes of NULs' }],
    },
    {
      name: 'the end of a record replaced by NULs (delayed allocation), the next append on the following line',
      session: () => {
        const t = healthy();
        t.user('Thanks.');
        t.assistant(text('You are welcome.'));
        const line = t.line(8);
        return t.replace(8, Buffer.concat([Buffer.from(line.slice(0, 120)), Buffer.alloc(line.length - 120)])).write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 contains NUL bytes' }],
    },
    {
      name: 'NUL bytes inside a string of a record',
      session: () => {
        const t = healthy();
        return t.replace(2, withBytes(t.line(2), 'small CLI', [0, 0, 0, 0])).write();
      },
      findings: [{ line: 2, severity: 'error', message: 'line 2 contains NUL bytes' }],
      repaired: (messages) => expect(messages[1]).toEqual({ role: 'assistant', content: [text('It is a  that prints a greeting.')] }),
    },
  ],
});
