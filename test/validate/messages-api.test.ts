import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  apiErrorBody,
  betasOf,
  MESSAGE_CONTENT_TAGS,
  validateMessagesRequest,
  type MessagesApiIssue,
  type MessagesApiOptions,
} from '../../src/validate/messages-api.js';

type Block = Record<string, unknown>;

const user = (...content: Block[]): Block => ({ role: 'user', content });
const assistant = (...content: Block[]): Block => ({ role: 'assistant', content });
const system = (text: string): Block => ({ role: 'system', content: text });
const text = (value: string): Block => ({ type: 'text', text: value });
const toolUse = (id: string, input: unknown = { command: 'ls' }): Block => ({ type: 'tool_use', id, name: 'Bash', input });
const toolResult = (id: string, content: unknown = 'ok'): Block => ({ type: 'tool_result', tool_use_id: id, content });
const thinking = (signature?: string): Block => ({ type: 'thinking', thinking: 'Let me think.', ...(signature === undefined ? {} : { signature }) });
const image = (bytes = 8): Block => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'A'.repeat(bytes) } });
const serverToolUse = (id: string): Block => ({ type: 'server_tool_use', id, name: 'web_search', input: { query: 'q' } });
const searchResult = (id: string): Block => ({ type: 'web_search_tool_result', tool_use_id: id, content: [] });

const PER_TURN_CONTROL: MessagesApiOptions = { betas: ['claude-code-20250219', 'per-turn-control-2026-07-01'] };
const FIVE_MB = 5_242_880;

interface ValidCase {
  name: string;
  messages: Block[];
  options?: MessagesApiOptions;
}

interface InvalidCase extends ValidCase {
  errors: MessagesApiIssue[];
}

const valid: ValidCase[] = [
  { name: 'R2: a single user prompt', messages: [user(text('Hello'))] },
  { name: 'R2: string content', messages: [{ role: 'user', content: 'Hello' }] },
  {
    name: 'R4/R6: a tool_use answered in the next user message',
    messages: [user(text('List files')), assistant(text('Listing.'), toolUse('toolu_a')), user(toolResult('toolu_a')), assistant(text('Done.'))],
  },
  {
    name: 'R1: an assistant message split over entries and results split over entries are merged',
    messages: [
      user(text('Read both')),
      assistant(text('Reading.')),
      assistant(toolUse('toolu_a')),
      assistant(toolUse('toolu_b')),
      user(toolResult('toolu_a')),
      user(toolResult('toolu_b')),
      user(text('Also: be brief.')),
    ],
  },
  {
    name: 'R1: role system is transparent with a per-turn-control beta',
    options: PER_TURN_CONTROL,
    messages: [user(text('Go')), system('Environment: linux'), assistant(toolUse('toolu_a')), system('reminder'), user(toolResult('toolu_a'))],
  },
  {
    name: 'R5: text before the results is accepted without strictOrder',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(text('[Request interrupted by user]'), toolResult('toolu_a'))],
  },
  {
    name: 'R5: results first, then text, under strictOrder',
    options: { strictOrder: true },
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(toolResult('toolu_a'), text('Carry on.'))],
  },
  {
    name: 'R7: distinct ids across turns',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(toolResult('toolu_a')), assistant(toolUse('toolu_b')), user(toolResult('toolu_b'))],
  },
  {
    name: 'R8: tool_result content as string, block list or absent',
    messages: [
      user(text('Go')),
      assistant(toolUse('toolu_a'), toolUse('toolu_b'), toolUse('toolu_c')),
      user(
        toolResult('toolu_a', 'plain'),
        toolResult('toolu_b', [text('a'), image(), { type: 'tool_reference', tool_name: 'Grep' }, { type: 'document', source: {} }]),
        { type: 'tool_result', tool_use_id: 'toolu_c' },
      ),
    ],
  },
  {
    name: 'R9: a server tool result after its use in the same message',
    messages: [user(text('Search')), assistant(serverToolUse('srvtoolu_a'), searchResult('srvtoolu_a'), text('Found it.'))],
  },
  {
    name: 'R8/R9: blocks of types the API knows beyond the common ones',
    messages: [
      user(text('Read these'), { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } }, { type: 'search_result', source: 'kb', title: 'T', content: [text('r')] }),
      assistant(serverToolUse('srvtoolu_f'), { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_f', content: {} }, text('Fetched.')),
    ],
  },
  {
    name: 'R9: an MCP connector result after its mcp_tool_use',
    messages: [
      user(text('Ask the server')),
      assistant({ type: 'mcp_tool_use', id: 'mcptoolu_a', name: 'echo', server_name: 'demo', input: {} }, { type: 'mcp_tool_result', tool_use_id: 'mcptoolu_a', content: [text('hi')] }, text('It said hi.')),
    ],
  },
  { name: 'R10: the final assistant message may be empty', messages: [user(text('Hi')), assistant()] },
  { name: 'R12: a surrogate pair is well formed', messages: [user(text('Party \u{1F389} time'))] },
  {
    name: 'R14: signed thinking first, then a tool_use',
    messages: [user(text('Go')), assistant(thinking('sig'), text('Running.'), toolUse('toolu_a')), user(toolResult('toolu_a'))],
  },
  {
    name: 'R14: redacted thinking first',
    messages: [user(text('Go')), assistant({ type: 'redacted_thinking', data: 'opaque' }, text('Hi.'))],
  },
  { name: 'R20: exactly 100 images', messages: [user(...Array.from({ length: 100 }, () => image()))] },
  { name: 'R21: an image of exactly 5,242,880 base64 bytes', messages: [user(image(FIVE_MB), text('What is this?'))] },
];

const NO_RESULT = 'Each `tool_use` block must have a corresponding `tool_result` block in the next message.';
const NO_USE = 'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.';

const invalid: InvalidCase[] = [
  {
    name: 'R1: role system without the per-turn-control beta',
    messages: [user(text('Go')), system('Environment: linux')],
    errors: [
      {
        rule: 'R1',
        path: 'messages.1',
        message: 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
      },
    ],
  },
  {
    name: 'R1: an unknown role',
    messages: [user(text('Go')), { role: 'tool', content: 'x' }],
    errors: [{ rule: 'R1', path: 'messages.1.role', message: "messages.1.role: Input should be 'user' or 'assistant'" }],
  },
  {
    name: 'R1: consecutive assistant messages merge, so the merged turn still needs its results next',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), assistant(text('Waiting.')), user(text('Hello?'))],
    errors: [{ rule: 'R4', path: 'messages.1', message: `messages.1: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: toolu_a. ${NO_RESULT}` }],
  },
  {
    name: 'R2: an assistant message first',
    messages: [assistant(text('Hi')), user(text('Hello'))],
    errors: [{ rule: 'R2', path: 'messages.0', message: 'messages: first message must use the "user" role' }],
  },
  {
    name: 'R2: the first message starts with a tool_result',
    messages: [user(toolResult('toolu_gone'), text('Continue'))],
    errors: [
      {
        rule: 'R2',
        path: 'messages.0.content.0',
        message: `messages.0.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: toolu_gone. ${NO_USE}`,
      },
    ],
  },
  {
    name: 'R2: no messages at all',
    messages: [],
    errors: [{ rule: 'R2', path: 'messages', message: 'messages: at least one message is required' }],
  },
  {
    name: 'R4: a parallel call with one result missing',
    messages: [user(text('Go')), assistant(text('Two calls.'), toolUse('toolu_a'), toolUse('toolu_b'), toolUse('toolu_c')), user(toolResult('toolu_b'))],
    errors: [{ rule: 'R4', path: 'messages.1', message: `messages.1: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: toolu_a, toolu_c. ${NO_RESULT}` }],
  },
  {
    name: 'R4: a new prompt instead of the result',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(text('Please continue.'))],
    errors: [{ rule: 'R4', path: 'messages.1', message: `messages.1: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: toolu_a. ${NO_RESULT}` }],
  },
  {
    name: 'R4: the request ends on the tool_use (a session killed mid-tool)',
    messages: [user(text('Go')), assistant(text('Running.')), assistant(toolUse('toolu_a'))],
    errors: [{ rule: 'R4', path: 'messages.2', message: `messages.2: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: toolu_a. ${NO_RESULT}` }],
  },
  {
    name: 'R5: text before the results under strictOrder',
    options: { strictOrder: true },
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(text('[Request interrupted by user]'), toolResult('toolu_a'))],
    errors: [
      {
        rule: 'R5',
        path: 'messages.2',
        message:
          'messages.2: Did not find 1 tool_result block(s) at the beginning of this message. Messages following tool_use blocks must begin with a matching number of tool_result blocks.',
      },
    ],
  },
  {
    name: 'R6: a result whose tool_use is two turns back',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(toolResult('toolu_a')), assistant(text('Ok.')), user(toolResult('toolu_a'))],
    errors: [
      {
        rule: 'R6',
        path: 'messages.4.content.0',
        message: `messages.4.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: toolu_a. ${NO_USE}`,
      },
    ],
  },
  {
    name: 'R6: a result with an unknown id next to a good one',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(toolResult('toolu_a'), toolResult('toolu_zz'))],
    errors: [
      {
        rule: 'R6',
        path: 'messages.2.content.1',
        message: `messages.2.content.1: unexpected \`tool_use_id\` found in \`tool_result\` blocks: toolu_zz. ${NO_USE}`,
      },
    ],
  },
  {
    name: 'R7: the same tool_use id in two turns',
    messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(toolResult('toolu_a')), assistant(text('Again.'), toolUse('toolu_a')), user(toolResult('toolu_a'))],
    errors: [{ rule: 'R7', path: 'messages.3.content.1', message: 'messages.3.content.1: `tool_use` ids must be unique' }],
  },
  {
    name: 'R8: tool_use input that is a string',
    messages: [user(text('Go')), assistant(toolUse('toolu_a', '{"command":"ls"}')), user(toolResult('toolu_a'))],
    errors: [{ rule: 'R8', path: 'messages.1.content.0.tool_use.input', message: 'messages.1.content.0.tool_use.input: Input should be a valid dictionary' }],
  },
  {
    name: 'R8: tool_result content that is an object, or holds a foreign block',
    messages: [
      user(text('Go')),
      assistant(toolUse('toolu_a'), toolUse('toolu_b')),
      user(toolResult('toolu_a', { text: 'x' }), toolResult('toolu_b', [text('fine'), toolUse('toolu_c'), { text: 'untyped' }])),
    ],
    errors: [
      { rule: 'R8', path: 'messages.2.content.0.tool_result.content', message: 'messages.2.content.0.tool_result.content: Input should be a valid list' },
      {
        rule: 'R8',
        path: 'messages.2.content.1.tool_result.content.1',
        message:
          "messages.2.content.1.tool_result.content.1: Input tag 'tool_use' found using 'type' does not match any of the expected tags: 'document', 'image', 'search_result', 'text', 'tool_reference'",
      },
      {
        rule: 'R8',
        path: 'messages.2.content.1.tool_result.content.2',
        message: "messages.2.content.1.tool_result.content.2: Unable to extract tag using discriminator 'type'",
      },
    ],
  },
  {
    name: 'R8: a block of a type the API does not know, and one without a type',
    messages: [user(text('Go'), { type: 'constructor' }), assistant(text('Ok.'), { text: 'untyped' })],
    errors: [
      {
        rule: 'R8',
        path: 'messages.0.content.1',
        message: `messages.0.content.1: Input tag 'constructor' found using 'type' does not match any of the expected tags: ${MESSAGE_CONTENT_TAGS.map((t) => `'${t}'`).join(', ')}`,
      },
      { rule: 'R8', path: 'messages.1.content.1', message: "messages.1.content.1: Unable to extract tag using discriminator 'type'" },
    ],
  },
  {
    name: 'R8: the tags listed are the known ones, in order',
    messages: [user({ type: 'input_text', text: 'Go' })],
    errors: [
      {
        rule: 'R8',
        path: 'messages.0.content.0',
        message:
          "messages.0.content.0: Input tag 'input_text' found using 'type' does not match any of the expected tags: 'advisor_tool_result', 'bash_code_execution_tool_result', 'code_execution_tool_result', 'compaction', 'connector_text', 'container_upload', 'document', 'fallback', 'image', 'mcp_tool_listing', 'mcp_tool_result', 'mcp_tool_use', 'mid_conv_system', 'redacted_thinking', 'search_result', 'server_tool_use', 'text', 'text_editor_code_execution_tool_result', 'thinking', 'tool_addition', 'tool_reference', 'tool_removal', 'tool_result', 'tool_search_tool_result', 'tool_use', 'web_fetch_tool_result', 'web_search_tool_result'",
      },
    ],
  },
  {
    name: 'R9: a server tool result with no server_tool_use at all (B16)',
    messages: [user(text('Search')), assistant(text('Searching.'), { type: 'web_search_tool_result' })],
    errors: [
      {
        rule: 'R9',
        path: 'messages.1.content.1',
        message:
          'messages.1.content.1: unexpected `tool_use_id` found in `web_search_tool_result` blocks: undefined. Each `web_search_tool_result` block must have a corresponding `server_tool_use` block before it.',
      },
    ],
  },
  {
    name: 'R9: an mcp_tool_result answers an mcp_tool_use, not a server_tool_use',
    messages: [user(text('Go')), assistant(serverToolUse('srvtoolu_m'), { type: 'mcp_tool_result', tool_use_id: 'srvtoolu_m', content: [] })],
    errors: [
      {
        rule: 'R9',
        path: 'messages.1.content.1',
        message:
          'messages.1.content.1: unexpected `tool_use_id` found in `mcp_tool_result` blocks: srvtoolu_m. Each `mcp_tool_result` block must have a corresponding `mcp_tool_use` block before it.',
      },
    ],
  },
  {
    name: 'R9: a server tool result before its use, and one in a user message',
    messages: [user(text('Search')), assistant(searchResult('srvtoolu_a'), serverToolUse('srvtoolu_a')), user(searchResult('srvtoolu_a'))],
    errors: [
      {
        rule: 'R9',
        path: 'messages.1.content.0',
        message:
          'messages.1.content.0: unexpected `tool_use_id` found in `web_search_tool_result` blocks: srvtoolu_a. Each `web_search_tool_result` block must have a corresponding `server_tool_use` block before it.',
      },
      {
        rule: 'R9',
        path: 'messages.1.content.1',
        message:
          'messages.1.content.1: `server_tool_use` ids were found without a result block after them in the same message: srvtoolu_a. Each `server_tool_use` block must be followed by its result block.',
      },
      {
        rule: 'R9',
        path: 'messages.2.content.0',
        message:
          'messages.2.content.0: unexpected `tool_use_id` found in `web_search_tool_result` blocks: srvtoolu_a. Each `web_search_tool_result` block must have a corresponding `server_tool_use` block before it.',
      },
    ],
  },
  {
    name: 'R9: a server_tool_use without its result, the conversation sent on after it',
    messages: [user(text('Search')), assistant(serverToolUse('srvtoolu_a'), text('Searching.')), user(text('Well?'))],
    errors: [
      {
        rule: 'R9',
        path: 'messages.1.content.0',
        message:
          'messages.1.content.0: `server_tool_use` ids were found without a result block after them in the same message: srvtoolu_a. Each `server_tool_use` block must be followed by its result block.',
      },
    ],
  },
  {
    name: 'R8: image, redacted_thinking and server_tool_use blocks without the fields they need',
    messages: [
      user(text('Look'), { type: 'image' }, { type: 'image', source: { type: 'base64', data: 'AA' } }, { type: 'image', source: { type: 'x' } }),
      assistant({ type: 'redacted_thinking' }, { type: 'server_tool_use', id: 1, name: 'web_search', input: 'q' }, searchResult('1'), text('Hm.')),
    ],
    errors: [
      { rule: 'R8', path: 'messages.0.content.1.image.source', message: 'messages.0.content.1.image.source: Field required' },
      { rule: 'R8', path: 'messages.0.content.2.image.source.base64.media_type', message: 'messages.0.content.2.image.source.base64.media_type: Field required' },
      {
        rule: 'R8',
        path: 'messages.0.content.3.image.source',
        message: "messages.0.content.3.image.source: Input tag 'x' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'",
      },
      { rule: 'R8', path: 'messages.1.content.0.redacted_thinking.data', message: 'messages.1.content.0.redacted_thinking.data: Field required' },
      { rule: 'R8', path: 'messages.1.content.1.server_tool_use.id', message: 'messages.1.content.1.server_tool_use.id: Input should be a valid string' },
      { rule: 'R8', path: 'messages.1.content.1.server_tool_use.input', message: 'messages.1.content.1.server_tool_use.input: Input should be a valid dictionary' },
      {
        rule: 'R9',
        path: 'messages.1.content.2',
        message:
          'messages.1.content.2: unexpected `tool_use_id` found in `web_search_tool_result` blocks: 1. Each `web_search_tool_result` block must have a corresponding `server_tool_use` block before it.',
      },
    ],
  },
  {
    name: 'R10: an empty assistant message that is not the last',
    messages: [user(text('Hi')), assistant(), user(text('Hello?'))],
    errors: [
      { rule: 'R10', path: 'messages.1', message: 'messages.1: all messages must have non-empty content except for the optional final assistant message' },
    ],
  },
  {
    name: 'R10: an empty user string',
    messages: [{ role: 'user', content: '' }],
    errors: [
      { rule: 'R10', path: 'messages.0', message: 'messages.0: all messages must have non-empty content except for the optional final assistant message' },
    ],
  },
  {
    name: 'R11: empty and whitespace-only text blocks',
    messages: [user(text('Hi')), assistant(text(''), text(' \n\t')), user({ type: 'text', text: '   ' })],
    errors: [
      { rule: 'R11', path: 'messages.1.content.0', message: 'messages: text content blocks must be non-empty' },
      { rule: 'R11', path: 'messages.1.content.1', message: 'messages: text content blocks must contain non-whitespace text' },
      { rule: 'R11', path: 'messages.2.content.0', message: 'messages: text content blocks must contain non-whitespace text' },
    ],
  },
  {
    name: 'R11: an empty text block beside another block of a user message is sent, and refused (B18)',
    messages: [user(image(), text('')), assistant(text('A PNG.')), user(toolResult('toolu_x'), text(' '))],
    errors: [
      { rule: 'R11', path: 'messages.0.content.1', message: 'messages: text content blocks must be non-empty' },
      { rule: 'R11', path: 'messages.2.content.1', message: 'messages: text content blocks must contain non-whitespace text' },
      {
        rule: 'R6',
        path: 'messages.2.content.0',
        message: `messages.2.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: toolu_x. ${NO_USE}`,
      },
    ],
  },
  {
    name: 'R12: a lone high surrogate (an emoji cut in half)',
    messages: [{ role: 'user', content: 'a\uD800b' }],
    errors: [
      { rule: 'R12', path: 'messages.0.content', message: 'The request body is not valid JSON: no low surrogate in string: line 1 column 69 (char 68)' },
    ],
  },
  {
    name: 'R12: a lone low surrogate',
    messages: [{ role: 'user', content: 'a\uDC00b' }],
    errors: [
      { rule: 'R12', path: 'messages.0.content', message: 'The request body is not valid JSON: invalid high surrogate in string: line 1 column 63 (char 62)' },
    ],
  },
  {
    name: 'R12: a high surrogate followed by another escape',
    messages: [{ role: 'user', content: 'x\uD83D\uD83Dy' }],
    errors: [
      { rule: 'R12', path: 'messages.0.content', message: 'The request body is not valid JSON: invalid low surrogate in string: line 1 column 69 (char 68)' },
    ],
  },
  {
    name: 'R12: reported first, wherever it is',
    messages: [assistant(text('x')), user(toolResult('toolu_a', [text('cut \uD83D')]))],
    errors: [
      {
        rule: 'R12',
        path: 'messages.1.content.0.content.0.text',
        message: 'The request body is not valid JSON: no low surrogate in string: line 1 column 212 (char 211)',
      },
      { rule: 'R2', path: 'messages.0', message: 'messages: first message must use the "user" role' },
      {
        rule: 'R6',
        path: 'messages.1.content.0',
        message: `messages.1.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: toolu_a. ${NO_USE}`,
      },
    ],
  },
  {
    name: 'R14: text before thinking',
    messages: [user(text('Go')), assistant(text('Hmm.'), thinking('sig'), text('Done.'))],
    errors: [
      {
        rule: 'R14',
        path: 'messages.1.content.0',
        message: 'messages.1.content.0: If an assistant message contains any thinking blocks, the first block must be thinking or redacted_thinking. Found text.',
      },
    ],
  },
  {
    name: 'R14: a redacted_thinking block after text, ending the message (B17)',
    messages: [user(text('Go')), assistant(text('x'), { type: 'redacted_thinking', data: 'opaque' })],
    errors: [
      {
        rule: 'R14',
        path: 'messages.1.content.0',
        message: 'messages.1.content.0: If an assistant message contains any thinking blocks, the first block must be thinking or redacted_thinking. Found text.',
      },
      { rule: 'R14', path: 'messages.1', message: 'messages.1: The final block in an assistant message cannot be `thinking`.' },
    ],
  },
  {
    name: 'R14: consecutive assistant messages merge, so thinking in the second is not first',
    messages: [user(text('Go')), assistant(text('One.')), assistant(thinking('sig'), text('Two.'))],
    errors: [
      {
        rule: 'R14',
        path: 'messages.1.content.0',
        message: 'messages.1.content.0: If an assistant message contains any thinking blocks, the first block must be thinking or redacted_thinking. Found text.',
      },
    ],
  },
  {
    name: 'R14: thinking as the final block',
    messages: [user(text('Go')), assistant(thinking('sig'))],
    errors: [{ rule: 'R14', path: 'messages.1', message: 'messages.1: The final block in an assistant message cannot be `thinking`.' }],
  },
  {
    name: 'R14: a thinking block without a signature, and one with an empty signature',
    messages: [user(text('Go')), assistant(thinking(), text('A.')), user(text('More')), assistant(thinking(''), text('B.'))],
    errors: [
      { rule: 'R14', path: 'messages.1.content.0', message: 'messages.1.content.0: Invalid `signature` in `thinking` block' },
      { rule: 'R14', path: 'messages.3.content.0', message: 'messages.3.content.0: Invalid `signature` in `thinking` block' },
    ],
  },
  {
    name: 'R20: 101 images, some inside a tool_result',
    messages: [
      user(...Array.from({ length: 99 }, () => image())),
      assistant(toolUse('toolu_shot')),
      user(toolResult('toolu_shot', [image(), image()])),
    ],
    errors: [{ rule: 'R20', path: 'messages', message: 'Too much media: 0 document pages + 101 images > 100' }],
  },
  {
    name: 'R21: an image one byte over 5 MB inside a tool_result',
    messages: [user(text('Shot')), assistant(toolUse('toolu_shot')), user(toolResult('toolu_shot', [image(FIVE_MB + 1)]))],
    errors: [
      {
        rule: 'R21',
        path: 'messages.2.content.0.tool_result.content.0.image.source.base64',
        message: 'messages.2.content.0.tool_result.content.0.image.source.base64: image exceeds 5 MB maximum: 5242881 bytes > 5242880 bytes',
      },
    ],
  },
];

describe('validateMessagesRequest', () => {
  it.each(valid)('accepts $name', ({ messages, options }) => {
    expect(validateMessagesRequest({ model: 'claude-test', max_tokens: 1024, messages }, options)).toEqual([]);
  });

  it.each(invalid)('rejects $name', ({ messages, options, errors }) => {
    expect(validateMessagesRequest({ model: 'claude-test', messages }, options)).toEqual(errors);
  });

  it('rejects a body without a message list', () => {
    expect(validateMessagesRequest({ model: 'claude-test' })).toEqual([
      { rule: 'R1', path: 'messages', message: 'messages: Input should be a valid list' },
    ]);
  });

  it('finds a lone surrogate in an object key and counts the bytes before it', () => {
    const body = { model: 'm', messages: [user(text('hi'))], metadata: { ['k\uD800']: 1 } };
    const issues = validateMessagesRequest(body);
    const offset = JSON.stringify(body).indexOf('\\ud800') + '\\ud800'.length;
    expect(issues).toEqual([
      {
        rule: 'R12',
        path: 'metadata.k\uD800',
        message: `The request body is not valid JSON: no low surrogate in string: line 1 column ${offset + 1} (char ${offset})`,
      },
    ]);
  });
});

describe('validateMessagesRequest on lone surrogates anywhere (R12)', () => {
  const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  /** Strings of code units around the surrogate range: pairs, lone halves, and plain characters. */
  const units = fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)), maxLength: 4 });
  const json = fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, units, fc.integer(), fc.constant(null), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(units, tie('value'), { maxKeys: 3 })),
  })).value;

  it('reports each string or key holding one, at its offset in the compact serialization', () => {
    fc.assert(
      fc.property(json, (metadata) => {
        const body = { model: 'm', messages: [user(text('hi'))], metadata };
        const sent = JSON.stringify(body);
        const issues = validateMessagesRequest(body).filter((i) => i.rule === 'R12');
        let lone = 0;
        const count = (v: unknown): void => {
          if (typeof v === 'string') lone += LONE.test(v) ? 1 : 0;
          else if (Array.isArray(v)) v.forEach(count);
          else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) (lone += LONE.test(k) ? 1 : 0), count(x);
        };
        count(metadata);
        expect(issues).toHaveLength(lone);
        for (const issue of issues) {
          const char = Number(/\(char (\d+)\)$/.exec(issue.message)![1]);
          // A lone low surrogate is reported at its own escape, a lone high one just after its escape.
          if (issue.message.includes('invalid high surrogate')) expect(sent.slice(char, char + 6)).toMatch(/^\\ud[c-f][0-9a-f]{2}$/);
          else expect(sent.slice(char - 6, char)).toMatch(/^\\ud[89ab][0-9a-f]{2}$/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('walks a body nested 10,000 levels deep without overflowing the stack', () => {
    const depth = 10_000;
    const sent = `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"metadata":${'{"a":'.repeat(depth)}"x\\ud800"${'}'.repeat(depth)}}`;
    const issues = validateMessagesRequest(JSON.parse(sent));
    const char = sent.indexOf('\\ud800') + '\\ud800'.length;
    expect(issues).toEqual([
      { rule: 'R12', path: `metadata${'.a'.repeat(depth)}`, message: `The request body is not valid JSON: no low surrogate in string: line 1 column ${char + 1} (char ${char})` },
    ]);
  });
});

describe('apiErrorBody', () => {
  it('wraps the first issue as the API 400 body', () => {
    const [issue] = validateMessagesRequest({ messages: [user(text('Go')), assistant(toolUse('toolu_a')), user(text('next'))] });
    expect(issue).toBeDefined();
    expect(JSON.stringify(apiErrorBody(issue as MessagesApiIssue, 'req_123'))).toBe(
      `{"type":"error","error":{"type":"invalid_request_error","message":"messages.1: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: toolu_a. ${NO_RESULT}"},"request_id":"req_123"}`,
    );
  });
});

describe('betasOf', () => {
  it('splits comma-separated and repeated anthropic-beta headers', () => {
    expect(betasOf('claude-code-20250219, per-turn-control-2026-07-01')).toEqual(['claude-code-20250219', 'per-turn-control-2026-07-01']);
    expect(betasOf(['a,b', 'c'])).toEqual(['a', 'b', 'c']);
    expect(betasOf(undefined)).toEqual([]);
  });
});
