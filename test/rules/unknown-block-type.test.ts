import { expect } from 'vitest';
import rule from '../../src/rules/unknown-block-type.js';
import { healthy, healthyCorpus, ruleTester, text, thinking, toolResult, toolUse, type Block } from './helpers.js';

const blocks = (messages: { content: unknown[] }[]) => messages.flatMap((m) => m.content) as Block[];

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'blocks of every kind Claude Code writes: image and document prompts, redacted thinking, a web search, a tool_reference result',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user([text('What is on this page?'), { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }, { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } }]);
        t.assistant([
          { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4' },
          { type: 'server_tool_use', id: 'srvtoolu_01WebA1b2C3d4E5f6G7h8', name: 'web_search', input: { query: 'greeting cli' } },
          { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_01WebA1b2C3d4E5f6G7h8', content: [] },
          toolUse('toolu_01ToolSearchQw3Rt6Yu8Io', 'ToolSearch', { query: 'grep' }),
        ]);
        t.user([toolResult('toolu_01ToolSearchQw3Rt6Yu8Io', [{ type: 'tool_reference', tool_name: 'Grep' }])]);
        t.assistant(text('A page about greetings.'));
        return t.write();
      },
    },
    {
      name: 'blocks the 2.1.328 client sends back as they came: a model fallback, a compaction',
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Summarize.');
        t.assistant([{ type: 'fallback', from: { model: 'claude-fable-5' }, to: { model: 'claude-opus-4-8' } }, text('Here is the summary.')]);
        t.user('Thanks.');
        t.assistant([{ type: 'compaction', content: 'The user asked for a summary.' }, text('You are welcome.')]);
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'a response block typed "constructor" (the property tests\' damage): the line is left out, the response keeps its text',
      session: () => {
        const t = healthy();
        t.user('Say hi.');
        t.assistant([text('Hi.'), { type: 'constructor' }]);
        t.user('Thanks.');
        t.assistant(text('You are welcome.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'assistant entry holds a block of type "constructor", which the Messages API does not know' }],
      repaired: (messages) => {
        expect(blocks(messages).some((b) => b.type === 'constructor')).toBe(false);
        expect(messages.slice(-4).map((m) => [m.role, (m.content as Block[]).map((b) => b.text)])).toEqual([
          ['user', ['Say hi.']],
          ['assistant', ['Hi.']],
          ['user', ['Thanks.']],
          ['assistant', ['You are welcome.']],
        ]);
      },
    },
    {
      name: 'a prompt holding a block in another API\'s shape ("input_text") beside its text',
      session: () => {
        const t = healthy();
        t.user([text('Run the tests.'), { type: 'input_text', text: 'Run the tests.' }]);
        t.assistant(text('All green.'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'user entry holds a block of type "input_text"' }],
      repaired: (messages) => expect(messages.slice(-2)).toEqual([
        { role: 'user', content: [text('Run the tests.')] },
        { role: 'assistant', content: [text('All green.')] },
      ]),
    },
    {
      name: 'a tool_result whose content holds a tool_use block: it keeps answering its call, its content as JSON text',
      session: () => {
        const t = healthy();
        t.user('Read it.');
        t.assistant(toolUse('toolu_01ReadItQw3Rt6Yu8Io1Pa', 'Read', { file_path: 'a.txt' }));
        t.user([toolResult('toolu_01ReadItQw3Rt6Yu8Io1Pa', [text('a'), toolUse('toolu_01Nested0000000000000000', 'Bash', {})])]);
        t.assistant(text('It says a.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'the content of the tool_result for toolu_01ReadItQw3Rt6Yu8Io1Pa holds a block of a type the Messages API does not take there', toolUseId: 'toolu_01ReadItQw3Rt6Yu8Io1Pa' }],
      repaired: (messages) => {
        const result = blocks(messages).find((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_01ReadItQw3Rt6Yu8Io1Pa')!;
        expect(typeof result.content).toBe('string');
        expect(JSON.parse(result.content as string)).toEqual([text('a'), toolUse('toolu_01Nested0000000000000000', 'Bash', {})]);
      },
    },
    {
      name: 'a prompt with nothing but an unknown block goes whole, and the conversation then starts with a note',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        const first = JSON.parse(t.line(1)) as { message: { content: unknown } };
        first.message.content = [{ type: 'toString', text: 'x' }];
        return t.replace(1, JSON.stringify(first)).write();
      },
      findings: [{ line: 1, severity: 'error', message: 'block of type "toString"' }],
      repaired: (messages) => {
        expect((messages[0]!.content as Block[])[0]!.text).toMatch(/^\[Recovered session\] The start of this conversation is missing/);
        expect(blocks(messages).some((b) => b.type === 'toString')).toBe(false);
      },
    },
    {
      name: 'an entry on a side branch is repaired too: a repair can make a side branch the resumed one',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user([text('Try this instead.'), { type: 'valueOf' }]);
        t.assistant([thinking('Another way.'), text('Trying.')]);
        t.user('Go back to the first idea.', { parent: fork });
        t.assistant(text('Back to it.'));
        return t.write();
      },
      findings: [{ line: 8, severity: 'error', message: 'block of type "valueOf"' }],
    },
  ],
});
