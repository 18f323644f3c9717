// Checks a Messages API request body against the rules of format-and-failures.md §9 and reports
// each violation with the wording the real API uses (§8, §15), so a repaired transcript can be
// proven acceptable before any client sends it.

export type MessagesApiRule =
  | 'R1'
  | 'R2'
  | 'R4'
  | 'R5'
  | 'R6'
  | 'R7'
  | 'R8'
  | 'R9'
  | 'R10'
  | 'R11'
  | 'R12'
  | 'R14'
  | 'R20'
  | 'R21';

export interface MessagesApiIssue {
  rule: MessagesApiRule;
  /** Where in the request body, as the API writes it: `messages.3.content.0`. Indices are request positions. */
  path: string;
  /** The text the real API answers with. */
  message: string;
}

export interface MessagesApiOptions {
  /** The `anthropic-beta` values sent with the request; a `per-turn-control-*` beta admits `role: "system"` messages. */
  betas?: readonly string[];
  /** Enforce R5 (tool_result blocks first in their message), which the API documents but is not proven to reject. */
  strictOrder?: boolean;
}

export interface ApiErrorBody {
  type: 'error';
  error: { type: 'invalid_request_error'; message: string };
  request_id: string;
}

/** The 400 body the API sends for the first issue. */
export function apiErrorBody(issue: MessagesApiIssue, requestId: string): ApiErrorBody {
  return { type: 'error', error: { type: 'invalid_request_error', message: issue.message }, request_id: requestId };
}

/** Splits `anthropic-beta` header values (comma-separated, possibly repeated) into single betas. */
export function betasOf(header: string | readonly string[] | undefined): string[] {
  const values = typeof header === 'string' ? [header] : (header ?? []);
  return values.flatMap((value) => value.split(',')).map((beta) => beta.trim()).filter((beta) => beta !== '');
}

const MAX_IMAGES = 100;
const MAX_IMAGE_BASE64_BYTES = 5_242_880;
/** The block types the API takes in a tool_result's content (R8). */
export const TOOL_RESULT_CONTENT_TAGS: readonly string[] = ['document', 'image', 'search_result', 'text', 'tool_reference'];

/**
 * The content block types the API takes in a message: those format-and-failures.md names (§2.2,
 * the R8 list of §9.2, the server tools' `*_tool_result` blocks of R9), and the others the pinned
 * 2.1.328 client (test/clients) knows as request content: more server tools' results, the MCP
 * connector's blocks, `compaction`, `fallback` (a model fallback, sent back as it came),
 * `connector_text`, `mid_conv_system` and the `tool_addition` / `tool_removal` of per-turn
 * control. The real list grows with the betas a request names; any other type is refused (R8).
 */
export const MESSAGE_CONTENT_TAGS: readonly string[] = [
  'advisor_tool_result',
  'bash_code_execution_tool_result',
  'code_execution_tool_result',
  'compaction',
  'connector_text',
  'container_upload',
  'document',
  'fallback',
  'image',
  'mcp_tool_listing',
  'mcp_tool_result',
  'mcp_tool_use',
  'mid_conv_system',
  'redacted_thinking',
  'search_result',
  'server_tool_use',
  'text',
  'text_editor_code_execution_tool_result',
  'thinking',
  'tool_addition',
  'tool_reference',
  'tool_removal',
  'tool_result',
  'tool_search_tool_result',
  'tool_use',
  'web_fetch_tool_result',
  'web_search_tool_result',
];
const MESSAGE_CONTENT_TAG_SET: ReadonlySet<string> = new Set(MESSAGE_CONTENT_TAGS);

/** Whether the API knows a content block of this type. */
export const knownContentTag = (type: unknown): boolean => typeof type === 'string' && MESSAGE_CONTENT_TAG_SET.has(type);

/** Whether a block of this type is a server tool's result, which must follow its use in the same assistant message (R9). */
export const serverToolResultTag = (type: unknown): boolean => knownContentTag(type) && type !== 'tool_result' && (type as string).endsWith('_tool_result');

/** The block a server tool result answers: an `mcp_tool_use` for an `mcp_tool_result`, else a `server_tool_use`. */
export const serverToolUseTagOf = (resultType: string): string => (resultType === 'mcp_tool_result' ? 'mcp_tool_use' : 'server_tool_use');

/** The pydantic-style refusal of a block whose discriminator is missing or unknown, or null when the tag is one of `tags`. */
function tagIssue(tag: unknown, tags: readonly string[], path: string): MessagesApiIssue | null {
  if (typeof tag !== 'string') return { rule: 'R8', path, message: `${path}: Unable to extract tag using discriminator 'type'` };
  if (tags.includes(tag)) return null;
  const expected = tags.map((t) => `'${t}'`).join(', ');
  return { rule: 'R8', path, message: `${path}: Input tag '${tag}' found using 'type' does not match any of the expected tags: ${expected}` };
}

type Block = Record<string, unknown>;

interface LocatedBlock {
  block: Block;
  path: string;
  message: number;
}

/** One API turn: consecutive same-role messages, merged the way the API merges them (R1). */
interface Turn {
  role: 'user' | 'assistant';
  firstMessage: number;
  blocks: LocatedBlock[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateMessagesRequest(body: unknown, options: MessagesApiOptions = {}): MessagesApiIssue[] {
  // The API parses the body before it validates anything, so encoding problems come first.
  const issues = loneSurrogateIssues(body);
  const messages = isRecord(body) ? body.messages : undefined;
  if (!Array.isArray(messages)) {
    return [...issues, { rule: 'R1', path: 'messages', message: 'messages: Input should be a valid list' }];
  }
  const systemAllowed = (options.betas ?? []).some((beta) => beta.startsWith('per-turn-control-'));
  const turns: Turn[] = [];
  messages.forEach((message: unknown, index) => {
    const role = isRecord(message) ? message.role : undefined;
    const blocks = isRecord(message) ? blocksOf(message, index) : [];
    issues.push(...messageIssues(role, blocks, index, index === messages.length - 1, systemAllowed));
    appendToTurns(turns, role, blocks, index);
  });
  issues.push(...firstTurnIssues(turns, messages.length));
  issues.push(...duplicateToolUseIssues(turns));
  issues.push(...pairingIssues(turns, options.strictOrder ?? false));
  for (const turn of turns) {
    issues.push(...serverToolIssues(turn, turn === turns.at(-1)));
    if (turn.role === 'assistant') issues.push(...thinkingIssues(turn));
  }
  issues.push(...imageIssues(turns));
  return issues;
}

function blocksOf(message: Record<string, unknown>, index: number): LocatedBlock[] {
  const { content } = message;
  if (typeof content === 'string') {
    return content === '' ? [] : [{ block: { type: 'text', text: content }, path: `messages.${index}.content`, message: index }];
  }
  if (!Array.isArray(content)) return [];
  return content.map((block: unknown, j) => ({
    block: isRecord(block) ? block : {},
    path: `messages.${index}.content.${j}`,
    message: index,
  }));
}

function messageIssues(role: unknown, blocks: LocatedBlock[], index: number, isLast: boolean, systemAllowed: boolean): MessagesApiIssue[] {
  const issues: MessagesApiIssue[] = [];
  if (role === 'system' && !systemAllowed) {
    issues.push({
      rule: 'R1',
      path: `messages.${index}`,
      message:
        'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
    });
  } else if (role !== 'user' && role !== 'assistant' && role !== 'system') {
    issues.push({ rule: 'R1', path: `messages.${index}.role`, message: `messages.${index}.role: Input should be 'user' or 'assistant'` });
  }
  if (blocks.length === 0 && !(isLast && role === 'assistant')) {
    issues.push({
      rule: 'R10',
      path: `messages.${index}`,
      message: `messages.${index}: all messages must have non-empty content except for the optional final assistant message`,
    });
  }
  for (const { block, path } of blocks) issues.push(...blockShapeIssues(block, path));
  return issues;
}

function blockShapeIssues(block: Block, path: string): MessagesApiIssue[] {
  const unknownTag = tagIssue(block.type, MESSAGE_CONTENT_TAGS, path);
  if (unknownTag) return [unknownTag];
  if (block.type === 'text') {
    const text = typeof block.text === 'string' ? block.text : '';
    if (text === '') return [{ rule: 'R11', path, message: 'messages: text content blocks must be non-empty' }];
    if (text.trim() === '') return [{ rule: 'R11', path, message: 'messages: text content blocks must contain non-whitespace text' }];
    return [];
  }
  if (block.type === 'tool_use' && !isRecord(block.input)) {
    return [{ rule: 'R8', path: `${path}.tool_use.input`, message: `${path}.tool_use.input: Input should be a valid dictionary` }];
  }
  if (block.type === 'server_tool_use') {
    return [...stringField(block, 'id', `${path}.server_tool_use`), ...stringField(block, 'name', `${path}.server_tool_use`), ...(isRecord(block.input) ? [] : [fieldIssue(block, 'input', `${path}.server_tool_use`, 'Input should be a valid dictionary')])];
  }
  if (block.type === 'redacted_thinking') return stringField(block, 'data', `${path}.redacted_thinking`);
  if (block.type === 'image') return imageSourceIssues(block.source, `${path}.image.source`);
  if (block.type === 'tool_result') return toolResultContentIssues(block.content, `${path}.tool_result.content`);
  return [];
}

/** The pydantic-style refusal of a field that is missing or not of its type. */
function fieldIssue(block: Block, field: string, at: string, wrongType: string): MessagesApiIssue {
  const path = `${at}.${field}`;
  return { rule: 'R8', path, message: `${path}: ${Object.hasOwn(block, field) ? wrongType : 'Field required'}` };
}

function stringField(block: Block, field: string, at: string): MessagesApiIssue[] {
  return typeof block[field] === 'string' ? [] : [fieldIssue(block, field, at, 'Input should be a valid string')];
}

/** An image's source: `base64` (media_type, data), `url` (url) or `file` (file_id). */
function imageSourceIssues(source: unknown, path: string): MessagesApiIssue[] {
  if (!isRecord(source)) return [{ rule: 'R8', path, message: `${path}: ${source === undefined ? 'Field required' : 'Input should be a valid dictionary'}` }];
  const fields: Record<string, readonly string[]> = { base64: ['media_type', 'data'], url: ['url'], file: ['file_id'] };
  const tag = tagIssue(source.type, Object.keys(fields), path);
  if (tag) return [tag];
  return fields[source.type as string]!.flatMap((field) => stringField(source, field, `${path}.${source.type as string}`));
}

function toolResultContentIssues(content: unknown, path: string): MessagesApiIssue[] {
  if (content === undefined || typeof content === 'string') return [];
  if (!Array.isArray(content)) return [{ rule: 'R8', path, message: `${path}: Input should be a valid list` }];
  return content.flatMap((part: unknown, k): MessagesApiIssue[] => {
    const issue = tagIssue(isRecord(part) ? part.type : undefined, TOOL_RESULT_CONTENT_TAGS, `${path}.${k}`);
    return issue ? [issue] : [];
  });
}

// System messages are transparent for pairing; reporting them is messageIssues' job (R1).
function appendToTurns(turns: Turn[], role: unknown, blocks: LocatedBlock[], index: number): void {
  if (role !== 'user' && role !== 'assistant') return;
  const last = turns.at(-1);
  if (last?.role === role) last.blocks.push(...blocks);
  else turns.push({ role, firstMessage: index, blocks });
}

function firstTurnIssues(turns: Turn[], messageCount: number): MessagesApiIssue[] {
  const first = turns[0];
  if (first === undefined) {
    return messageCount === 0 ? [{ rule: 'R2', path: 'messages', message: 'messages: at least one message is required' }] : [];
  }
  if (first.role !== 'user') {
    return [{ rule: 'R2', path: `messages.${first.firstMessage}`, message: 'messages: first message must use the "user" role' }];
  }
  return [];
}

function toolUsesOf(turn: Turn | undefined): LocatedBlock[] {
  if (turn?.role !== 'assistant') return [];
  return turn.blocks.filter(({ block }) => block.type === 'tool_use');
}

function duplicateToolUseIssues(turns: Turn[]): MessagesApiIssue[] {
  const seen = new Set<unknown>();
  const issues: MessagesApiIssue[] = [];
  for (const { block, path } of turns.flatMap(toolUsesOf)) {
    if (seen.has(block.id)) issues.push({ rule: 'R7', path, message: `${path}: \`tool_use\` ids must be unique` });
    seen.add(block.id);
  }
  return issues;
}

function pairingIssues(turns: Turn[], strictOrder: boolean): MessagesApiIssue[] {
  const issues: MessagesApiIssue[] = [];
  turns.forEach((turn, t) => {
    const next = turns[t + 1];
    const uses = toolUsesOf(turn);
    const results = next?.role === 'user' ? next.blocks.filter(({ block }) => block.type === 'tool_result') : [];
    const answered = new Set(results.map(({ block }) => block.tool_use_id));
    const unanswered = uses.filter(({ block }) => !answered.has(block.id));
    const firstUnanswered = unanswered[0];
    if (firstUnanswered !== undefined) {
      const at = `messages.${firstUnanswered.message}`;
      issues.push({
        rule: 'R4',
        path: at,
        message: `${at}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.map(({ block }) => String(block.id)).join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
      });
    }
    if (strictOrder && uses.length > 0 && next?.role === 'user' && resultsAfterOtherContent(next)) {
      const at = `messages.${next.firstMessage}`;
      issues.push({
        rule: 'R5',
        path: at,
        message: `${at}: Did not find ${uses.length} tool_result block(s) at the beginning of this message. Messages following tool_use blocks must begin with a matching number of tool_result blocks.`,
      });
    }
    if (turn.role === 'user') issues.push(...unexpectedResultIssues(turn, t === 0, toolUsesOf(turns[t - 1])));
  });
  return issues;
}

function resultsAfterOtherContent(turn: Turn): boolean {
  const firstOther = turn.blocks.findIndex(({ block }) => block.type !== 'tool_result');
  return firstOther !== -1 && turn.blocks.slice(firstOther).some(({ block }) => block.type === 'tool_result');
}

function unexpectedResultIssues(turn: Turn, isFirstTurn: boolean, previousUses: LocatedBlock[]): MessagesApiIssue[] {
  const known = new Set(previousUses.map(({ block }) => block.id));
  return turn.blocks.flatMap(({ block, path }, b): MessagesApiIssue[] => {
    if (block.type !== 'tool_result' || known.has(block.tool_use_id)) return [];
    return [
      {
        // A conversation that opens with a tool_result breaks R2; the API words it as an orphan result.
        rule: isFirstTurn && b === 0 ? 'R2' : 'R6',
        path,
        message: `${path}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(block.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      },
    ];
  });
}

function serverToolIssues(turn: Turn, final: boolean): MessagesApiIssue[] {
  const used = new Map<unknown, string>();
  const unanswered = new Map<unknown, LocatedBlock>();
  const issues: MessagesApiIssue[] = [];
  for (const located of turn.blocks) {
    const { block, path } = located;
    const type = String(block.type);
    if ((type === 'server_tool_use' || type === 'mcp_tool_use') && turn.role === 'assistant') {
      used.set(block.id, type);
      unanswered.set(block.id, located);
    }
    const use = serverToolUseTagOf(type);
    if (type === 'tool_result' || !type.endsWith('_tool_result')) continue;
    if (used.get(block.tool_use_id) === use) {
      unanswered.delete(block.tool_use_id);
      continue;
    }
    issues.push({
      rule: 'R9',
      path,
      message: `${path}: unexpected \`tool_use_id\` found in \`${type}\` blocks: ${String(block.tool_use_id)}. Each \`${type}\` block must have a corresponding \`${use}\` block before it.`,
    });
  }
  // A server tool's use is answered in its own message, by its result after it (R9): a conversation
  // sent on from a use without one is refused; a final assistant message may stop after it (pause_turn).
  // (The wording is ours: no captured error text names it.)
  for (const { block, path } of final ? [] : unanswered.values()) {
    issues.push({
      rule: 'R9',
      path,
      message: `${path}: \`${String(block.type)}\` ids were found without a result block after them in the same message: ${String(block.id)}. Each \`${String(block.type)}\` block must be followed by its result block.`,
    });
  }
  return issues;
}

function isThinking(block: Block): boolean {
  return block.type === 'thinking' || block.type === 'redacted_thinking';
}

function thinkingIssues(turn: Turn): MessagesApiIssue[] {
  const issues: MessagesApiIssue[] = [];
  const first = turn.blocks[0];
  const last = turn.blocks.at(-1);
  if (first === undefined || last === undefined || !turn.blocks.some(({ block }) => isThinking(block))) return issues;
  if (!isThinking(first.block)) {
    issues.push({
      rule: 'R14',
      path: first.path,
      message: `${first.path}: If an assistant message contains any thinking blocks, the first block must be thinking or redacted_thinking. Found ${String(first.block.type)}.`,
    });
  }
  if (isThinking(last.block)) {
    const at = `messages.${last.message}`;
    issues.push({ rule: 'R14', path: at, message: `${at}: The final block in an assistant message cannot be \`thinking\`.` });
  }
  for (const { block, path } of turn.blocks) {
    if (block.type === 'thinking' && (typeof block.signature !== 'string' || block.signature === '')) {
      issues.push({ rule: 'R14', path, message: `${path}: Invalid \`signature\` in \`thinking\` block` });
    }
  }
  return issues;
}

interface LocatedImage {
  source: unknown;
  path: string;
}

function imagesOf(turns: Turn[]): LocatedImage[] {
  return turns.flatMap((turn) =>
    turn.blocks.flatMap(({ block, path }): LocatedImage[] => {
      if (block.type === 'image') return [{ source: block.source, path }];
      if (block.type !== 'tool_result' || !Array.isArray(block.content)) return [];
      return block.content.flatMap((part: unknown, k): LocatedImage[] =>
        isRecord(part) && part.type === 'image' ? [{ source: part.source, path: `${path}.tool_result.content.${k}` }] : [],
      );
    }),
  );
}

function imageIssues(turns: Turn[]): MessagesApiIssue[] {
  const images = imagesOf(turns);
  const issues: MessagesApiIssue[] = [];
  if (images.length > MAX_IMAGES) {
    issues.push({ rule: 'R20', path: 'messages', message: `Too much media: 0 document pages + ${images.length} images > ${MAX_IMAGES}` });
  }
  for (const { source, path } of images) {
    const data = isRecord(source) && source.type === 'base64' && typeof source.data === 'string' ? source.data : '';
    if (data.length <= MAX_IMAGE_BASE64_BYTES) continue;
    const at = `${path}.image.source.base64`;
    issues.push({
      rule: 'R21',
      path: at,
      message: `${at}: image exceeds 5 MB maximum: ${data.length} bytes > ${MAX_IMAGE_BASE64_BYTES} bytes`,
    });
  }
  return issues;
}

// R12. JSON.stringify writes a lone surrogate as a `\uXXXX` escape that the API's strict parser rejects;
// the reported column is the offset in the compact serialization, which is what a JS client sends.
function loneSurrogateIssues(body: unknown): MessagesApiIssue[] {
  const issues: MessagesApiIssue[] = [];
  serializedLength(body, issues);
  return issues;
}

type Frame = { items: unknown[]; i: number; path: string } | { entries: [string, unknown][]; i: number; path: string };

/**
 * Length of `JSON.stringify(value)`, walked in the same order so each string's offset in the body
 * is known. An explicit stack instead of recursion: a body may nest 10,000 levels deep.
 */
function serializedLength(value: unknown, issues: MessagesApiIssue[]): number {
  let offset = 0;
  const stack: Frame[] = [];
  const open = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      checkString(v, path, offset, issues);
      offset += JSON.stringify(v).length;
    } else if (Array.isArray(v)) {
      offset += 1;
      stack.push({ items: v, i: 0, path });
    } else if (isRecord(v)) {
      offset += 1;
      stack.push({ entries: Object.entries(v).filter(([, item]) => isSerializable(item)), i: 0, path });
    } else offset += JSON.stringify(v ?? null).length;
  };
  open(value, '');
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const count = 'items' in top ? top.items.length : top.entries.length;
    if (top.i === count) {
      offset += 1;
      stack.pop();
      continue;
    }
    if (top.i > 0) offset += 1;
    if ('items' in top) {
      const i = top.i++;
      const item = top.items[i];
      if (isSerializable(item)) open(item, join(top.path, String(i)));
      else offset += 'null'.length;
    } else {
      const [key, item] = top.entries[top.i++]!;
      const path = join(top.path, key);
      checkString(key, path, offset, issues);
      offset += JSON.stringify(key).length + 1;
      open(item, path);
    }
  }
  return offset;
}

function isSerializable(value: unknown): boolean {
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol';
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function checkString(text: string, path: string, offset: number, issues: MessagesApiIssue[]): void {
  const escaped = JSON.stringify(text);
  const at = (i: number): number => offset + JSON.stringify(text.slice(0, i)).length - 1;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (isHigh(unit) && isLow(next)) {
      i++;
      continue;
    }
    if (!isHigh(unit) && !isLow(unit)) continue;
    // Mirrors a strict parser: a lone low surrogate fails at its own escape, a lone high one where its pair should start.
    const char = isLow(unit) ? at(i) : at(i + 1);
    const reason = isLow(unit)
      ? 'invalid high surrogate in string'
      : escaped.startsWith('\\u', at(i + 1) - offset)
        ? 'invalid low surrogate in string'
        : 'no low surrogate in string';
    issues.push({
      rule: 'R12',
      path,
      message: `The request body is not valid JSON: ${reason}: line 1 column ${char + 1} (char ${char})`,
    });
    return;
  }
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
