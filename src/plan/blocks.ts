// The content blocks a repair leaves out or rewrites: blocks of the wrong shape, which the API
// refuses; thinking blocks holding an unpaired surrogate, whose signature cannot survive the
// surrogate's replacement; blocks of a type the API does not know; blank text blocks beside other
// content of a user message; and blocks out of place (src/plan/placement.ts). The plan decides
// with these functions and hands the writer the list it decided, so both see the same blocks.

import { blockOk, shapeProblem } from '../read/schema.js';
import { holdsLoneSurrogate } from '../read/session-reader.js';
import { jsonText } from '../write/json-text.js';
import { knownContentTag, serverToolUseTagOf, TOOL_RESULT_CONTENT_TAGS } from '../validate/messages-api.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a repair does to one block of a message's content. */
export interface BlockRepair {
  /** Position in message.content. */
  at: number;
  /** `drop`: left out; `rewrite`: a tool_result keeps its id, its content becomes JSON text and a non-boolean is_error goes. */
  how: 'drop' | 'rewrite';
  /** What the block is, for the repair's detail: its type where the API knows it, else `untyped`; for `type`, the type as JSON. */
  what: string;
  /**
   * Why: `shape` (the wrong shape), `surrogate` (a thinking block holding an unpaired surrogate),
   * `type` (a type the API does not know; a tool_result whose content holds one is rewritten),
   * `blank` (empty text beside other content of a user message), `orphan` (a server tool result
   * without its server_tool_use), `unanswered` (a server_tool_use without its result after it),
   * `misplaced` (a thinking block that does not come first, or ends its message) or `duplicate` (a
   * later tool_use with the id of an earlier call, or a result answering that later copy).
   */
  why: 'shape' | 'surrogate' | 'type' | 'blank' | 'orphan' | 'unanswered' | 'misplaced' | 'duplicate';
}

const what = (b: unknown) => (isObject(b) && typeof b.type === 'string' && knownContentTag(b.type) ? b.type : 'untyped');

/** A block type as JSON, its first 40 units only: for messages and details (a type can be any string). */
export const typeName = (type: string) => JSON.stringify(type.length > 40 ? `${type.slice(0, 40)}…` : type);

/** The content array of a user or assistant entry, or null. */
export function contentOf(entry: Json | null): unknown[] | null {
  if (entry?.type !== 'user' && entry?.type !== 'assistant') return null;
  const content = isObject(entry.message) ? entry.message.content : undefined;
  return Array.isArray(content) ? content : null;
}

/** Which content-judged repairs to make. */
export interface BlockRepairOptions {
  /** Blocks of the wrong shape (a tool_result that names its call is rewritten, not left out). */
  shape: boolean;
  /** Thinking blocks holding an unpaired surrogate. */
  surrogates: boolean;
  /** Blocks of a type the API does not know. */
  types?: boolean;
  /** Empty or whitespace-only text blocks beside other content (of a user message). */
  blank?: boolean;
}

/**
 * The repairs of a message's content, judged on the content alone: blocks of the wrong shape are
 * left out, except a tool_result that names its call, which keeps answering it; with `surrogates`,
 * so are thinking blocks holding an unpaired surrogate; with `types`, blocks of a type the API
 * does not know; with `blank`, empty text blocks beside other content. One repair per block, in
 * that order of precedence.
 */
export function blockRepairs(content: unknown[], o: BlockRepairOptions): BlockRepair[] {
  const repairs: BlockRepair[] = [];
  const besideContent = o.blank === true && content.some((b) => !blankBlock(b));
  content.forEach((b, at) => {
    if (o.shape && !blockOk(b)) {
      const rewrite = isObject(b) && b.type === 'tool_result' && typeof b.tool_use_id === 'string';
      repairs.push({ at, how: rewrite ? 'rewrite' : 'drop', what: what(b), why: 'shape' });
    } else if (o.surrogates && isObject(b) && b.type === 'thinking' && holdsLoneSurrogate(b)) {
      repairs.push({ at, how: 'drop', what: 'thinking', why: 'surrogate' });
    } else if (o.types && isObject(b) && typeof b.type === 'string' && !knownContentTag(b.type)) {
      repairs.push({ at, how: 'drop', what: typeName(b.type), why: 'type' });
    } else if (o.types && isObject(b) && b.type === 'tool_result' && !resultContentOk(b.content)) {
      // It keeps answering its call: what its content held stays, as JSON text.
      repairs.push({ at, how: 'rewrite', what: 'tool_result', why: 'type' });
    } else if (besideContent && blankBlock(b)) {
      repairs.push({ at, how: 'drop', what: 'text', why: 'blank' });
    }
  });
  return repairs;
}

/** `repairs` with `more` added where they name a block no repair of `repairs` takes, in content order. */
export function withRepairs(repairs: readonly BlockRepair[], more: readonly BlockRepair[]): BlockRepair[] {
  const taken = new Set(repairs.map((r) => r.at));
  return [...repairs, ...more.filter((r) => !taken.has(r.at))].sort((a, b) => a.at - b.at);
}

/** A drop of the block at `at` of `content`, for a reason judged beyond the content (src/plan/placement.ts). */
export function dropAt(content: unknown[], at: number, why: 'orphan' | 'unanswered' | 'misplaced' | 'duplicate'): BlockRepair {
  return { at, how: 'drop', what: what(content[at]), why };
}

/** What a repair left out or rewrote, as the snapshot names it: `thinking block out of place left out`. */
export function repairReason(r: BlockRepair): string {
  switch (r.why) {
    case 'shape':
      return r.how === 'drop' ? `${r.what} block of the wrong shape left out` : 'tool_result of the wrong shape, as it was before its content was written as text';
    case 'surrogate':
      return 'thinking block holding an unpaired surrogate left out';
    case 'type':
      return r.how === 'drop' ? `block of type ${r.what}, which the API does not know, left out` : 'tool_result holding a block of a type the API does not take there, as it was before its content was written as text';
    case 'blank':
      return 'empty text block beside other content left out';
    case 'orphan':
      return `${r.what} block without its ${serverToolUseTagOf(r.what)} before it left out`;
    case 'unanswered':
      return `${r.what} block without its result after it left out`;
    case 'misplaced':
      return `${r.what} block out of place left out`;
    case 'duplicate':
      return r.what === 'tool_use' ? 'tool_use block reusing the id of an earlier call left out' : `${r.what} block answering a tool_use that reuses the id of an earlier call left out`;
  }
}

/** The content with the repairs applied. */
export function repairedContent(content: unknown[], repairs: readonly BlockRepair[]): unknown[] {
  const byAt = new Map(repairs.map((r) => [r.at, r]));
  const out: unknown[] = [];
  content.forEach((b, at) => {
    const r = byAt.get(at);
    if (r === undefined) out.push(b);
    else if (r.how === 'rewrite') out.push(rewriteResult(b as Json));
    // A dropped block is left out.
  });
  return out;
}

/** Whether a tool_result's content has a shape the API takes, and only blocks of the types it takes there. */
const resultContentOk = (c: unknown) => c === undefined || typeof c === 'string' || (Array.isArray(c) && c.every((p) => isObject(p) && typeof p.type === 'string' && TOOL_RESULT_CONTENT_TAGS.includes(p.type)));

function rewriteResult(b: Json): Json {
  const out: Json = {};
  // Own properties defined as such: a key named __proto__ stays a key.
  const set = (k: string, v: unknown) => Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const [k, v] of Object.entries(b)) {
    if (k === 'content') set(k, resultContentOk(v) ? v : jsonText(v));
    else if (k !== 'is_error' || typeof v === 'boolean') set(k, v);
  }
  return out;
}

/** Whether the entry has the shape of its type once its content blocks are repaired. */
export function shapeRepairedByBlocks(entry: Json | null): boolean {
  const content = contentOf(entry);
  if (entry === null || content === null) return false;
  const repairs = blockRepairs(content, { shape: true, surrogates: false });
  if (repairs.length === 0) return false;
  // Spread copies every own key as it is, __proto__ included.
  return shapeProblem({ ...entry, message: { ...(entry.message as Json), content: repairedContent(content, repairs) } }) === null;
}

/** A block that carries nothing to send: a text block that is empty or whitespace only. */
export const blankBlock = (b: unknown) => isObject(b) && b.type === 'text' && !(typeof b.text === 'string' && /\S/.test(b.text));

/** A thinking block of either kind. */
export const thinkingBlock = (b: unknown) => isObject(b) && (b.type === 'thinking' || b.type === 'redacted_thinking');
