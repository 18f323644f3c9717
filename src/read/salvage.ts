import { jsonParser, type Token } from 'stream-json/parser.js';
import Assembler from 'stream-json/assembler.js';
import { none, getManyValues, isMany } from 'stream-chain/defs.js';

/** What could be recovered from a line that JSON.parse rejects. */
export interface Salvage {
  /** Complete JSON objects found on the line, in order. */
  objects: Record<string, unknown>[];
  /** Their source text, so a split line keeps each record's exact bytes. */
  texts: string[];
  /** Text before the first complete object that is not one (a torn record glued to the next). */
  stub: string | null;
  /** Text after the last complete object that does not parse (a record cut off mid-write). */
  tail: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses text as a stream of concatenated JSON values (JSON Streaming), returning the complete
 * objects and where parsing stopped. Records glued together by a non-atomic append are exactly
 * such a stream.
 */
function parseConcatenated(text: string): { objects: Record<string, unknown>[]; texts: string[]; consumed: number } {
  const objects: Record<string, unknown>[] = [];
  const texts: string[] = [];
  let consumed = 0;
  // Each object's end is found by parsing growing prefixes at '}' boundaries: stream-json reports
  // values but not offsets, so we feed it text up to every candidate end and keep what completes.
  let start = skipSpace(text, 0);
  while (start < text.length && text[start] === '{') {
    const end = endOfObject(text, start);
    if (end === -1) break;
    const slice = text.slice(start, end);
    const value = parseWithStreamJson(slice);
    if (!isRecord(value)) break;
    objects.push(value);
    texts.push(slice);
    consumed = end;
    start = skipSpace(text, end);
  }
  return { objects, texts, consumed };
}

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r')) i++;
  return i;
}

/** Finds the end of the JSON object starting at `start` by bracket matching outside strings; -1 when it never closes. */
function endOfObject(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseWithStreamJson(text: string): unknown {
  const parse = jsonParser({ jsonStreaming: true });
  const assembler = new Assembler();
  let result: unknown = none;
  try {
    const feed = (out: unknown) => {
      if (out === none || !isMany(out)) return;
      for (const token of getManyValues(out) as Token[]) {
        const value = assembler.tapChain(token);
        if (value !== none && result === none) result = value;
      }
    };
    feed(parse(text));
    // Flush: the parser's stage signature takes the end-of-input marker in place of text.
    feed((parse as (chunk: unknown) => unknown)(none));
  } catch {
    return undefined;
  }
  return result === none ? undefined : result;
}

/**
 * Recovers what it can from an unparseable line: glued records are split, and the torn
 * stub or tail is returned so that it can be kept rather than dropped.
 */
export function salvageLine(text: string): Salvage {
  const direct = parseConcatenated(text);
  if (direct.objects.length > 0) {
    const rest = text.slice(direct.consumed).trim();
    return { objects: direct.objects, texts: direct.texts, stub: null, tail: rest === '' ? null : rest };
  }
  // A torn record followed by a complete one: look for the next record start. A '{"' inside the
  // stub's strings can also parse, so prefer the candidate that runs to the end of the line.
  let fallback: Salvage | null = null;
  for (let at = text.indexOf('{"', 1); at !== -1; at = text.indexOf('{"', at + 1)) {
    const found = parseConcatenated(text.slice(at));
    if (found.objects.length === 0) continue;
    const rest = text.slice(at + found.consumed).trim();
    const salvage = { objects: found.objects, texts: found.texts, stub: text.slice(0, at), tail: rest === '' ? null : rest };
    if (salvage.tail === null) return salvage;
    fallback ??= salvage;
  }
  return fallback ?? { objects: [], texts: [], stub: null, tail: text };
}
