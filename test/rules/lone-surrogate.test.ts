import { expect } from 'vitest';
import rule from '../../src/rules/lone-surrogate.js';
import { healthy, healthyCorpus, ruleTester, text, thinking, toolUse } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'an escaped surrogate pair (\\ud83d\\ude00)',
      session: () => {
        const t = healthy();
        t.user('Say hi with an emoji: EMOJI');
        return t.replace(8, t.line(8).replace('EMOJI', '\\ud83d\\ude00')).write();
      },
    },
    {
      name: 'a literal 4-byte emoji',
      session: () => {
        const t = healthy();
        t.assistant(text('Done 😀'));
        return t.write();
      },
    },
    {
      name: 'upper-case escapes of a pair (\\uD83D\\uDE00)',
      session: () => {
        const t = healthy();
        t.user('EMOJI');
        return t.replace(8, t.line(8).replace('EMOJI', '\\uD83D\\uDE00')).write();
      },
    },
    {
      name: 'text that talks about the escape "\\ud83d" (an escaped backslash, no surrogate)',
      session: () => {
        const t = healthy();
        t.user(String.raw`Why does JSON.parse accept "\ud83d" on its own?`);
        t.assistant(text(String.raw`Because "\ud83d" is a valid escape; only the API rejects a lone surrogate.`));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'a lone high surrogate in a prompt (an emoji cut in half)',
      session: () => {
        const t = healthy();
        t.user('Add a smiley: \ud83d');
        t.assistant(text('Added.'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 has an unpaired UTF-16 surrogate ("no low surrogate in string")' }],
      repaired: (messages) => expect(messages.at(-2)).toEqual({ role: 'user', content: [text('Add a smiley: \ufffd')] }),
    },
    {
      name: 'a lone low surrogate in a tool result (output truncated mid-emoji)',
      session: () => {
        const t = healthy();
        t.user('Show the log.');
        t.assistant([toolUse('toolu_01ShowLogK2nR7vQ4wHs', 'Bash', { command: 'tail -n 1 app.log' })]);
        t.result('toolu_01ShowLogK2nR7vQ4wHs', '\ude00 deployed');
        t.assistant(text('The last deploy succeeded.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'line 10 has an unpaired UTF-16 surrogate' }],
    },
    {
      name: 'a reversed pair (low before high) in an assistant text (2.1.152)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.assistant(text('Mood: \ude00\ud83d'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 has an unpaired UTF-16 surrogate' }],
    },
    {
      name: 'a lone surrogate in a record glued to the next one (a lost newline)',
      session: () => {
        const t = healthy();
        t.user('Show the log.');
        t.assistant(text('Mood: \ud83d'));
        return t.replace(8, t.line(8) + t.line(9)).remove(9).write();
      },
      findings: [{ line: 8, severity: 'error', message: 'line 8 has an unpaired UTF-16 surrogate' }],
      repaired: (messages) => {
        expect(messages.at(-1)).toEqual({ role: 'assistant', content: [text('Mood: \ufffd')] });
      },
    },
    {
      // Its signature covers the text, so the surrogate cannot be replaced; the API refuses the block as it is.
      name: 'a lone surrogate inside a signed thinking block: the block is left out',
      session: () => {
        const t = healthy();
        t.user('Pick an emoji.');
        t.assistant([thinking('The user wants \ud83d'), text('😀')]);
        return t.write();
      },
      findings: [{ line: 9, severity: 'error', message: 'line 9 has an unpaired UTF-16 surrogate' }],
      repaired: (messages) => {
        expect(messages.at(-1)).toEqual({ role: 'assistant', content: [text('😀')] });
      },
    },
    {
      name: 'a lone surrogate inside a signed thinking block that shares its line with the answer',
      session: () => {
        const t = healthy();
        t.user('Pick an emoji.');
        const line = t.next;
        t.assistant(text('😀'));
        const entry = JSON.parse(t.line(line)) as { message: { content: unknown[] } };
        entry.message.content.unshift(thinking('The user wants \ud83d'));
        return t.replace(line, JSON.stringify(entry)).write();
      },
      findings: [{ line: 9, severity: 'error', message: 'line 9 has an unpaired UTF-16 surrogate' }],
      repaired: (messages) => {
        expect(messages.at(-1)).toEqual({ role: 'assistant', content: [text('😀')] });
      },
    },
  ],
});
