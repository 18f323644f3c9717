import { expect } from 'vitest';
import rule from '../../src/rules/invalid-utf8.js';
import { corpus, healthy, healthyCorpus, ruleTester, text, withBytes } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'multi-byte UTF-8: accents, CJK, a 4-byte emoji',
      session: () => {
        const t = healthy();
        t.user('Übersetze „café“ ins Japanische 🙂');
        t.assistant(text('カフェ (kafe) — 😀'));
        return t.write();
      },
    },
    {
      name: 'corpus 2.0.55: a single 855 KB line with a base64 image',
      session: corpus('daaain__claude-code-log/test/test_data/debug_image_message.jsonl'),
    },
    {
      name: 'a UTF-8 byte order mark is valid UTF-8',
      session: () => {
        const t = healthy();
        return t.replace(1, withBytes(t.line(1), 'What', [0xef, 0xbb, 0xbf, 0x57, 0x68, 0x61, 0x74])).write();
      },
    },
  ],
  invalid: [
    {
      name: 'a Latin-1 byte (0xE9) inside a prompt',
      session: () => {
        const t = healthy();
        t.user('Rename it to cafe.');
        return t.replace(8, withBytes(t.line(8), 'cafe', [0x63, 0x61, 0x66, 0xe9])).write();
      },
      findings: [{ line: 8, severity: 'warning', message: 'line 8 is not valid UTF-8' }],
      repaired: (messages) => expect(messages.at(-1)).toEqual({ role: 'user', content: [text('Rename it to caf\ufffd.')] }),
    },
    {
      name: 'a multi-byte sequence cut short (0xE2 0x82 without its last byte) in a tool result',
      session: () => {
        const t = healthy();
        return t.replace(6, withBytes(t.line(6), 'greet.js', [0xe2, 0x82, 0x67, 0x72, 0x65, 0x65, 0x74])).write();
      },
      findings: [{ line: 6, severity: 'warning', message: 'line 6 is not valid UTF-8' }],
    },
    {
      name: 'a 0xFF byte in an assistant text (2.1.152)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        return t.replace(7, withBytes(t.line(7), 'two:', [0x74, 0x77, 0x6f, 0xff])).write();
      },
      findings: [{ line: 7, severity: 'warning', message: 'line 7 is not valid UTF-8' }],
    },
  ],
});
