// Facts are extracted from the pruned entries of src/read/skim.ts: a field read here must be in its tables too
// (test/read/skim.test.ts compares both paths on every corpus line).

import { blockOk } from './schema.js';
import { TOOL_RESULT_CONTENT_TAGS } from '../validate/messages-api.js';

/** What the rules need to know of one content block; the content itself stays on disk. */
export interface BlockFacts {
  type: string;
  /** tool_use / server_tool_use / mcp_tool_use id. */
  id?: string;
  /** tool_use name. */
  name?: string;
  /** tool_result's tool_use_id. */
  toolUseId?: string;
  isError?: boolean;
  /** Text block (or string content) that is empty or whitespace only. */
  blank?: boolean;
  /** Thinking block without a signature. */
  unsigned?: boolean;
  /** Claude Code's own result for a call interrupted by a crash ("[Tool call interrupted…"). */
  clientInterrupted?: boolean;
  /** A result ccrescue wrote for a lost call. */
  connectionLost?: boolean;
  /** tool_use of the wrong shape (an id, name or input of the wrong type): the repair drops it, so it answers nothing. */
  malformed?: boolean;
  /** A block with no string type, or no object at all: a shape problem, not a type the API does not know. */
  untyped?: boolean;
  /** tool_result whose content holds a block of a type the API does not take there (a typed one: an untyped one is a shape problem). */
  unknownPart?: boolean;
}

/** A thinking or redacted_thinking block. */
export const isThinking = (b: BlockFacts): boolean => b.type === 'thinking' || b.type === 'redacted_thinking';

/** A text block that is empty or whitespace only. */
export const isBlankText = (b: BlockFacts): boolean => b.type === 'text' && b.blank === true;

/** Compact facts about one JSON entry of a session file. */
export interface EntryFacts {
  /** Position in the file's entry list. */
  index: number;
  /** 1-based physical line. */
  line: number;
  /** Index of the record within its line: more than 0 only for records glued onto one line. */
  part: number;
  type: string;
  subtype?: string;
  uuid?: string;
  parentUuid?: string | null;
  logicalParentUuid?: string;
  sessionId?: string;
  /** The entry's timestamp in epoch milliseconds; NaN when it has none. */
  time: number;
  version?: string;
  cwd?: string;
  isSidechain: boolean;
  isMeta: boolean;
  isCompactSummary: boolean;
  isApiErrorMessage: boolean;
  /** assistant: message.id, shared by every block line of one API response. */
  messageId?: string;
  model?: string;
  stopReason?: string | null;
  /** user/assistant content blocks (a string content counts as one text block). */
  blocks: BlockFacts[];
  /** user: `[Request interrupted by user…]` marker. */
  interruptMarker?: boolean;
  /** user: start of a typed prompt, for the continuation prompt. */
  promptPreview?: string;
  /** last-prompt / summary: the leaf they name. */
  leafUuid?: string;
  /** file-history-snapshot / file-history-delta: the message they belong to. */
  messageRef?: string;
  /** First schema problem, if the entry does not have the shape of its type. */
  shapeProblem?: string;
  /** Set by the index: the entry it links to (after bridging a missing parent), null for a root. */
  parent: EntryFacts | null;
  /** Set by the index: a later entry that reuses an earlier entry's uuid. */
  duplicate: boolean;
  /** Set by the index: some non-sidechain user/assistant entry names this one as its parent. */
  hasMessageChild: boolean;
}

export const INTERRUPTED_BY_CLIENT_PREFIX = '[Tool call interrupted';
export const CONNECTION_LOST_PREFIX = 'connection_lost';
const INTERRUPT_MARKER_PREFIX = '[Request interrupted by user';
const PREVIEW_CHARS = 600;

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const isBlank = (text: string): boolean => !/\S/.test(text);

/** Interns the short strings repeated on almost every line, so a large session costs one copy of each. */
export class StringPool {
  private readonly pool = new Map<string, string>();
  get(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const known = this.pool.get(value);
    if (known !== undefined) return known;
    if (this.pool.size < 100_000) this.pool.set(value, value);
    return value;
  }
}

function resultText(block: Json): string {
  const content = block.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const first = content[0] as Json | undefined;
    return str(first?.text) ?? '';
  }
  return '';
}

// Blocks that carry no id share one frozen facts object each: most lines hold exactly such a block.
const TEXT: BlockFacts = Object.freeze({ type: 'text' });
const BLANK_TEXT: BlockFacts = Object.freeze({ type: 'text', blank: true });
const THINKING: BlockFacts = Object.freeze({ type: 'thinking' });
const UNSIGNED_THINKING: BlockFacts = Object.freeze({ type: 'thinking', unsigned: true });
const UNTYPED: BlockFacts = Object.freeze({ type: 'unknown', untyped: true });
const NOT_AN_OBJECT: BlockFacts = Object.freeze({ type: 'invalid', untyped: true });
const PLAIN = new Map<string, BlockFacts>();
const plain = (type: string): BlockFacts => {
  let facts = PLAIN.get(type);
  if (!facts) {
    facts = Object.freeze({ type });
    if (PLAIN.size < 64) PLAIN.set(type, facts);
  }
  return facts;
};

function blockFacts(block: Json): BlockFacts {
  const type = str(block.type);
  if (type === undefined) return UNTYPED;
  switch (type) {
    case 'text':
      return typeof block.text === 'string' && !isBlank(block.text) ? TEXT : BLANK_TEXT;
    case 'thinking':
      return typeof block.signature === 'string' && block.signature !== '' ? THINKING : UNSIGNED_THINKING;
    case 'tool_use':
      return blockOk(block) ? { type, id: str(block.id), name: str(block.name) } : { type, id: str(block.id), name: str(block.name), malformed: true };
    case 'server_tool_use':
    case 'mcp_tool_use':
      return { type, id: str(block.id), name: str(block.name) };
    case 'tool_result': {
      const text = resultText(block);
      const facts: BlockFacts = { type, toolUseId: str(block.tool_use_id), isError: block.is_error === true };
      if (text.startsWith(INTERRUPTED_BY_CLIENT_PREFIX)) facts.clientInterrupted = true;
      if (text.startsWith(CONNECTION_LOST_PREFIX)) facts.connectionLost = true;
      if (Array.isArray(block.content) && block.content.some((p) => typeof (p as Json | null)?.type === 'string' && !TOOL_RESULT_CONTENT_TAGS.includes((p as Json).type as string))) facts.unknownPart = true;
      return facts;
    }
    default:
      // A server tool's result (web_search_tool_result, advisor_tool_result…) names its server_tool_use.
      return type.endsWith('_tool_result') ? { type, toolUseId: str(block.tool_use_id) } : plain(type);
  }
}

const NO_BLOCKS: readonly BlockFacts[] = Object.freeze([]);

/** Extracts the facts of one parsed entry; never throws, whatever the entry holds. */
export function entryFacts(entry: Json, index: number, line: number, part: number, pool: StringPool): EntryFacts {
  const type = str(entry.type) ?? '';
  const timestamp = str(entry.timestamp);
  const message = (type === 'user' || type === 'assistant') && typeof entry.message === 'object' && entry.message !== null ? (entry.message as Json) : null;
  const content = message?.content;
  // Every field is set here, in one order, so all facts share one compact object shape.
  const facts: EntryFacts = {
    index,
    line,
    part,
    type,
    subtype: type === 'system' ? str(entry.subtype) : undefined,
    uuid: str(entry.uuid),
    parentUuid: entry.parentUuid === null ? null : str(entry.parentUuid),
    logicalParentUuid: type === 'system' ? str(entry.logicalParentUuid) : undefined,
    sessionId: pool.get(str(entry.sessionId)),
    time: timestamp === undefined ? Number.NaN : Date.parse(timestamp),
    version: pool.get(str(entry.version)),
    cwd: pool.get(str(entry.cwd)),
    isSidechain: entry.isSidechain === true,
    isMeta: entry.isMeta === true,
    isCompactSummary: entry.isCompactSummary === true,
    isApiErrorMessage: entry.isApiErrorMessage === true,
    messageId: type === 'assistant' ? pool.get(str(message?.id)) : undefined,
    model: type === 'assistant' ? pool.get(str(message?.model)) : undefined,
    stopReason: type === 'assistant' ? (message?.stop_reason === null ? null : str(message?.stop_reason)) : undefined,
    blocks: typeof content === 'string' ? [isBlank(content) ? BLANK_TEXT : TEXT] : Array.isArray(content) ? content.map(toBlockFacts) : (NO_BLOCKS as BlockFacts[]),
    interruptMarker: undefined,
    promptPreview: undefined,
    leafUuid: type === 'last-prompt' || type === 'summary' ? str(entry.leafUuid) : undefined,
    messageRef: type === 'file-history-snapshot' || type === 'file-history-delta' ? str(entry.messageId) : undefined,
    shapeProblem: undefined,
    parent: null,
    duplicate: false,
    hasMessageChild: false,
  };
  if (type === 'user') {
    if (typeof content === 'string') noteUserText(facts, content);
    else if (Array.isArray(content)) for (const block of content) if ((block as Json | null)?.type === 'text') noteUserText(facts, str((block as Json).text) ?? '');
  }
  return facts;
}

function toBlockFacts(block: unknown): BlockFacts {
  return typeof block === 'object' && block !== null ? blockFacts(block as Json) : NOT_AN_OBJECT;
}

function noteUserText(facts: EntryFacts, text: string): void {
  if (text.startsWith(INTERRUPT_MARKER_PREFIX)) facts.interruptMarker = true;
  // A slice would keep the whole prompt alive; copy the preview out of it.
  else if (!facts.isMeta && facts.promptPreview === undefined && !isBlank(text)) facts.promptPreview = Buffer.from(text.slice(0, PREVIEW_CHARS)).toString();
}

/** True for entries that take part in the parentUuid chain. */
export function isChainEntry(e: EntryFacts): boolean {
  return e.uuid !== undefined && (e.type === 'user' || e.type === 'assistant' || e.type === 'system' || e.type === 'attachment' || e.type === 'progress');
}

/** True for entries Claude Code turns into API messages. */
export function isMessageEntry(e: EntryFacts): boolean {
  return e.type === 'user' || e.type === 'assistant';
}
