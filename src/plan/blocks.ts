// The content blocks a repair leaves out or rewrites: blocks of the wrong shape, which the API
// refuses, and thinking blocks holding an unpaired surrogate, whose signature cannot survive the
// surrogate's replacement. The plan decides with these functions and the writer applies them, so
// both see the same blocks.

import { blockOk, shapeProblem } from '../read/schema.js';
import { holdsLoneSurrogate } from '../read/session-reader.js';
import { jsonText } from '../write/json-text.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a repair does to one block of a message's content. */
export interface BlockRepair {
  /** Position in message.content. */
  at: number;
  /** `drop`: left out; `rewrite`: a tool_result keeps its id, its content becomes JSON text and a non-boolean is_error goes. */
  how: 'drop' | 'rewrite';
  /** What the block is, for the repair's detail: its type where it is one the shape check knows, else `untyped`. */
  what: string;
  /** Why: `shape` (the wrong shape) or `surrogate` (a thinking block holding an unpaired surrogate). */
  why: 'shape' | 'surrogate';
}

const KNOWN = new Set(['text', 'thinking', 'tool_use', 'tool_result']);
const what = (b: unknown) => (isObject(b) && typeof b.type === 'string' && KNOWN.has(b.type) ? b.type : 'untyped');

/** The content array of a user or assistant entry, or null. */
export function contentOf(entry: Json | null): unknown[] | null {
  if (entry?.type !== 'user' && entry?.type !== 'assistant') return null;
  const content = isObject(entry.message) ? entry.message.content : undefined;
  return Array.isArray(content) ? content : null;
}

/**
 * The repairs of a message's content: blocks of the wrong shape are left out, except a tool_result
 * that names its call, which keeps answering it; with `surrogates`, so are thinking blocks holding
 * an unpaired surrogate.
 */
export function blockRepairs(content: unknown[], o: { shape: boolean; surrogates: boolean }): BlockRepair[] {
  const repairs: BlockRepair[] = [];
  content.forEach((b, at) => {
    if (o.shape && !blockOk(b)) {
      const rewrite = isObject(b) && b.type === 'tool_result' && typeof b.tool_use_id === 'string';
      repairs.push({ at, how: rewrite ? 'rewrite' : 'drop', what: what(b), why: 'shape' });
    } else if (o.surrogates && isObject(b) && b.type === 'thinking' && holdsLoneSurrogate(b)) {
      repairs.push({ at, how: 'drop', what: 'thinking', why: 'surrogate' });
    }
  });
  return repairs;
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

/** Whether a tool_result's content has a shape the API takes. */
const resultContentOk = (c: unknown) => typeof c === 'string' || (Array.isArray(c) && c.every((p) => isObject(p) && typeof p.type === 'string'));

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
