import { expect } from 'vitest';
import rule from '../../src/rules/blank-content.js';
import { corpus, healthy, healthyCorpus, ruleTester, text, thinking, toolResult, toolUse } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'a whitespace text line before a thinking line of the same message (2.1.3x)',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Think it over.');
        t.assistant([text('\n\n'), thinking('Two files, one import.'), text('Done thinking: it is simple.')]);
        return t.write();
      },
    },
    {
      name: 'an API error placeholder with empty text is never sent',
      session: () => {
        const t = healthy();
        t.user('Hello?');
        t.apiError('');
        t.user('Hello again?');
        t.assistant(text('Hi.'));
        return t.write();
      },
    },
    {
      name: 'an empty assistant line on a branch the user rewound away from',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user('Go on.');
        t.assistant([]);
        t.user('Go on, please.', { parent: fork });
        t.assistant(text('Going on.'));
        return t.write();
      },
    },
    {
      name: 'a tool-only message and an image-only prompt have content',
      session: () => {
        const t = healthy();
        t.user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }]);
        t.assistant(toolUse('toolu_01LookPngA1b2C3d4E5f6G7', 'Bash', { command: 'file shot.png' }));
        t.result('toolu_01LookPngA1b2C3d4E5f6G7', 'shot.png: PNG image data');
        t.assistant(text('A PNG screenshot.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 2.0.75: an assistant entry with content [] (a Bedrock error stored as the answer)',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/unknown-operation-error.jsonl'),
      findings: [{ line: 3, severity: 'error', message: 'assistant message has no content but empty or whitespace-only text' }],
    },
    {
      name: 'an empty prompt (SDK, CL 2.1.229)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('');
        t.assistant(text('How can I help?'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'user entry has no content but empty or whitespace-only text' }],
    },
    {
      name: 'an aborted stream left an assistant line with an empty text block, then the user went on',
      session: () => {
        const t = healthy();
        t.user('Explain main.js.');
        t.assistant(text(''));
        t.user('Hello?');
        t.assistant(text('main.js calls greet.'));
        return t.write();
      },
      findings: [{ line: 9, severity: 'error', message: 'assistant message has no content' }],
      repaired: (messages) => {
        expect(messages).toHaveLength(8);
        expect(messages.slice(-2)).toEqual([
          { role: 'user', content: [text('Explain main.js.'), text('Hello?')] },
          { role: 'assistant', content: [text('main.js calls greet.')] },
        ]);
      },
    },
    {
      name: 'every block line of one message is whitespace: each line is reported',
      session: () => {
        const t = healthy();
        t.user('Anything?');
        t.assistant([text('\n\n'), text('  ')]);
        t.user('Well?');
        t.assistant(text('Nothing to add.'));
        return t.write();
      },
      findings: [
        { line: 9, severity: 'error', message: 'assistant message has no content' },
        { line: 10, severity: 'error', message: 'assistant message has no content' },
      ],
    },
    {
      name: 'an empty text block beside an image in a prompt: a user message is sent as it is (R11)',
      session: () => {
        const t = healthy();
        t.user([{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, text('')]);
        t.assistant(text('A PNG screenshot.'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'user entry holds an empty or whitespace-only text block beside other content' }],
      repaired: (messages) => expect(messages.at(-2)).toEqual({ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }),
    },
    {
      name: 'whitespace text blocks after a tool result, in the same user entry',
      session: () => {
        const t = healthy();
        t.user('Run it.');
        t.assistant(toolUse('toolu_01RunItQw3Rt6Yu8Io1PaZx', 'Bash', { command: 'true' }));
        t.user([toolResult('toolu_01RunItQw3Rt6Yu8Io1PaZx', 'ok'), text(' '), text('\n')]);
        t.assistant(text('It ran.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'user entry holds 2 empty or whitespace-only text blocks beside other content' }],
      repaired: (messages) => expect(messages.at(-2)).toEqual({ role: 'user', content: [toolResult('toolu_01RunItQw3Rt6Yu8Io1PaZx', 'ok')] }),
    },
    {
      name: 'the first prompt [unknown, empty text] (the B18 counterexample): both blocks go, and with them the prompt',
      session: () => {
        const t = healthy();
        const first = JSON.parse(t.line(1)) as { message: { content: unknown } };
        first.message.content = [{ type: 'unknown' }, { type: 'text', text: '' }];
        return t.replace(1, JSON.stringify(first)).write();
      },
      findings: [{ line: 1, severity: 'error', message: 'user entry holds an empty or whitespace-only text block beside other content' }],
      repaired: (messages) => {
        expect((messages[0]!.content as { text?: string }[])[0]!.text).toMatch(/^\[Recovered session\]/);
        expect(JSON.stringify(messages)).not.toContain('"unknown"');
      },
    },
    {
      name: 'a user entry with only a whitespace text block',
      session: () => {
        const t = healthy({ version: '2.0.74' });
        t.user([text(' \n ')]);
        t.assistant(text('Did you mean to send something?'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'user entry has no content' }],
    },
  ],
});
