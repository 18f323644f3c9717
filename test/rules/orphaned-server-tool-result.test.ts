import { expect } from 'vitest';
import rule from '../../src/rules/orphaned-server-tool-result.js';
import { healthy, healthyCorpus, messageId, ruleTester, text, type Block } from './helpers.js';

const serverToolUse = (id: string, name = 'web_search'): Block => ({ type: 'server_tool_use', id, name, input: { query: 'greeting cli' } });
const searchResult = (id: string): Block => ({ type: 'web_search_tool_result', tool_use_id: id, content: [{ type: 'web_search_result', url: 'https://example.com', title: 'Example', encrypted_content: 'Eu8B' }] });
const blocks = (messages: { content: unknown[] }[]) => messages.flatMap((m) => m.content) as Block[];
const SEARCH = 'srvtoolu_01WebA1b2C3d4E5f6G7h8';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'a web search: server_tool_use and its result in one response, one block line each',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Search for greeting CLIs.');
        t.assistant([text('Searching.'), serverToolUse(SEARCH), searchResult(SEARCH), text('Found one.')]);
        return t.write();
      },
    },
    {
      name: 'an MCP connector call: mcp_tool_use, then its mcp_tool_result',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Ask the demo server.');
        t.assistant([{ type: 'mcp_tool_use', id: 'mcptoolu_01EchoQw3Rt6Yu8Io1PaZ', name: 'echo', server_name: 'demo', input: {} }, { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_01EchoQw3Rt6Yu8Io1PaZ', is_error: false, content: [text('hi')] }, text('It said hi.')]);
        return t.write();
      },
    },
    {
      name: 'a server tool result in a user message of a side branch is never sent',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user([searchResult(SEARCH)]);
        t.user('Never mind.', { parent: fork });
        t.assistant(text('Fine.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'a web_search_tool_result as the content of the first prompt (the B16 counterexample)',
      session: () => {
        const t = healthy();
        const first = JSON.parse(t.line(1)) as { message: { content: unknown } };
        first.message.content = [{ type: 'web_search_tool_result' }];
        return t.replace(1, JSON.stringify(first)).write();
      },
      findings: [{ line: 1, severity: 'error', message: 'web_search_tool_result block in a user message' }],
      // The prompt has nothing left: it goes, and the conversation starts with a note saying so.
      repaired: (messages) => {
        expect(blocks(messages).some((b) => b.type === 'web_search_tool_result')).toBe(false);
        expect((messages[0]!.content as Block[])[0]!.text).toMatch(/^\[Recovered session\]/);
      },
    },
    {
      name: 'an advisor result separated from its server_tool_use by a prompt (CC#63790): the two lines do not merge',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Ask the advisor.');
        const id = messageId();
        t.assistant([text('Asking the advisor.'), serverToolUse('srvtoolu_01AdvQw3Rt6Yu8Io1PaZx', 'advisor')], { id });
        t.user('/plugin list');
        t.assistant({ type: 'advisor_tool_result', tool_use_id: 'srvtoolu_01AdvQw3Rt6Yu8Io1PaZx', content: { type: 'advisor_result', text: 'Looks right.' } }, { id });
        t.assistant(text('The advisor agrees.'), { id });
        return t.write();
      },
      findings: [
        // The use, left without its result in its own message, goes too (R9).
        { line: 10, severity: 'error', message: 'server_tool_use block srvtoolu_01AdvQw3Rt6Yu8Io1PaZx has no result after it in its assistant message', toolUseId: 'srvtoolu_01AdvQw3Rt6Yu8Io1PaZx' },
        { line: 12, severity: 'error', message: 'advisor_tool_result block for srvtoolu_01AdvQw3Rt6Yu8Io1PaZx has no server_tool_use of that id before it', toolUseId: 'srvtoolu_01AdvQw3Rt6Yu8Io1PaZx' },
      ],
      repaired: (messages) => {
        expect(blocks(messages).some((b) => b.type === 'advisor_tool_result' || b.type === 'server_tool_use')).toBe(false);
        expect(messages.some((m) => m.role === 'assistant' && JSON.stringify(m.content) === JSON.stringify([text('Asking the advisor.')]))).toBe(true);
        expect(messages.at(-1)).toEqual({ role: 'assistant', content: [text('The advisor agrees.')] });
      },
    },
    {
      name: 'a second result naming a search the response never made',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Search twice.');
        const id = messageId();
        t.assistant([serverToolUse(SEARCH)], { id });
        t.assistant([searchResult(SEARCH), searchResult('srvtoolu_01OtherQw3Rt6Yu8Io1Pa')], { id });
        t.assistant(text('Done searching.'), { id });
        return t.write();
      },
      findings: [{ line: 11, severity: 'error', message: 'for srvtoolu_01OtherQw3Rt6Yu8Io1Pa has no server_tool_use', toolUseId: 'srvtoolu_01OtherQw3Rt6Yu8Io1Pa' }],
      repaired: (messages) => {
        const results = blocks(messages).filter((b) => b.type === 'web_search_tool_result');
        expect(results.map((b) => b.tool_use_id)).toEqual([SEARCH]);
      },
    },
  ],
});
