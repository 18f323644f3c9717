import { isUtf8 } from 'node:buffer';
import { statSync } from 'node:fs';
import { readLineBatches } from './line-reader.js';
import { shapeProblem } from './schema.js';
import { entryFacts, StringPool, type EntryFacts } from './facts.js';
import { skimEntry } from './skim.js';

/** What was wrong with a physical line at the byte level. */
export type LineDamageKind =
  | 'torn' // does not parse and nothing could be salvaged
  | 'truncated-tail' // the last line, unfinished (no newline) and unparseable
  | 'concatenated' // several records (and perhaps a torn stub) on one line
  | 'nul' // NUL bytes in the line
  | 'nul-only' // nothing but NUL bytes / whitespace
  | 'invalid-utf8'
  | 'not-an-object' // valid JSON, but not an entry
  | 'lone-surrogate'; // an escaped UTF-16 surrogate with no partner: the API rejects the request body

export interface LineDamage {
  line: number;
  kinds: LineDamageKind[];
  /** Records recovered from the line, as exact text (one per record). */
  salvaged: string[];
  /** Text that could not be placed in any record (kept in the snapshot). */
  unplaced: string | null;
  /** Raw byte length of the line. */
  length: number;
}

export interface SessionScan {
  path: string;
  size: number;
  mtimeMs: number;
  lineCount: number;
  endsWithNewline: boolean;
  entries: EntryFacts[];
  /** Byte offset and length of each physical line (index = line - 1), to re-read an entry on demand. */
  lineOffsets: Float64Array;
  lineLengths: Float64Array;
  damage: Map<number, LineDamage>;
  blankLines: number[];
  /** Whether the file changed size while it was read (a live writer). */
  grewWhileRead: boolean;
}

const LONE_SURROGATE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;

/** Half of a surrogate pair, alone, in decoded text. */
export const LONE_SURROGATE_CHAR = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether any string (or key) of a parsed value holds half of a surrogate pair; walked without recursion, at any depth. */
export function holdsLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === 'string') {
      if (LONE_SURROGATE_CHAR.test(v)) return true;
    } else if (Array.isArray(v)) {
      for (const x of v) pending.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE_CHAR.test(k)) return true;
        pending.push(x);
      }
    }
  }
  return false;
}

function grow(a: Float64Array): Float64Array {
  const bigger = new Float64Array(a.length * 2);
  bigger.set(a);
  return bigger;
}

export interface ScanOptions {
  /**
   * Read healthy lines with skimEntry, which decodes only what the facts look at (default true).
   * Off, every line is decoded and parsed in full; the result is the same either way.
   */
  skim?: boolean;
}

/** Reads a session file once, streaming, into compact facts. Never throws on content. */
export async function scanSession(path: string, options: ScanOptions = {}): Promise<SessionScan> {
  const skim = options.skim ?? true;
  const before = statSync(path);
  const pool = new StringPool();
  const entries: EntryFacts[] = [];
  let lineOffsets: Float64Array = new Float64Array(1 << 12);
  let lineLengths: Float64Array = new Float64Array(1 << 12);
  const damage = new Map<number, LineDamage>();
  const blankLines: number[] = [];
  let lineCount = 0;
  let endsWithNewline = true;
  let bytesRead = 0;

  const addEntry = (value: Record<string, unknown>, line: number, part: number) => {
    const facts = entryFacts(value, entries.length, line, part, pool);
    const problem = shapeProblem(value);
    if (problem) facts.shapeProblem = problem;
    entries.push(facts);
  };

  for await (const batch of readLineBatches(path)) for (const raw of batch) {
    lineCount = raw.lineNo;
    endsWithNewline = raw.endsWithNewline;
    bytesRead = raw.offset + raw.bytes.length + (raw.endsWithNewline ? 1 : 0);
    if (lineCount > lineOffsets.length) {
      lineOffsets = grow(lineOffsets);
      lineLengths = grow(lineLengths);
    }
    lineOffsets[lineCount - 1] = raw.offset;
    lineLengths[lineCount - 1] = raw.bytes.length;
    const hasNul = raw.mayHoldNul && raw.bytes.includes(0);
    const utf8 = isUtf8(raw.bytes);
    if (skim && !hasNul && utf8) {
      // Null for anything it cannot vouch for, including every line that might hold a lone surrogate.
      const entry = skimEntry(raw.bytes);
      if (entry !== null) {
        addEntry(entry, raw.lineNo, 0);
        continue;
      }
    }
    const kinds: LineDamageKind[] = [];
    if (hasNul) kinds.push('nul');
    if (!utf8) kinds.push('invalid-utf8');
    let text = raw.bytes.toString('utf8');
    if (hasNul) text = text.replace(/\0+/g, '');
    if (text.trim() === '') {
      if (hasNul) damage.set(raw.lineNo, { line: raw.lineNo, kinds: ['nul-only'], salvaged: [], unplaced: null, length: raw.bytes.length });
      else blankLines.push(raw.lineNo);
      continue;
    }
    // The escape may only be mentioned ("\\ud83d" in prose): the parsed strings decide below.
    const surrogateEscape = LONE_SURROGATE.test(text);
    let parsed: unknown;
    let parses = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      parses = false;
    }
    if (parses) {
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        if (surrogateEscape && holdsLoneSurrogate(parsed)) kinds.push('lone-surrogate');
        addEntry(parsed as Record<string, unknown>, raw.lineNo, 0);
        if (kinds.length > 0) damage.set(raw.lineNo, { line: raw.lineNo, kinds, salvaged: [text], unplaced: null, length: raw.bytes.length });
      } else {
        kinds.push('not-an-object');
        damage.set(raw.lineNo, { line: raw.lineNo, kinds, salvaged: [], unplaced: text, length: raw.bytes.length });
      }
      continue;
    }
    // The salvage parser is loaded only for a damaged line; a healthy session never pays for it.
    const { salvageLine } = await import('./salvage.js');
    const salvage = salvageLine(text);
    salvage.objects.forEach((obj, part) => addEntry(obj, raw.lineNo, part));
    const unplaced = [salvage.stub, salvage.tail].filter((s): s is string => s !== null && s.trim() !== '').join('\n') || null;
    if (salvage.objects.length > 1 || (salvage.objects.length === 1 && unplaced !== null)) kinds.push('concatenated');
    else if (salvage.objects.length === 0) kinds.push(raw.endsWithNewline ? 'torn' : 'truncated-tail');
    else kinds.push('torn'); // one record with trailing junk
    if (surrogateEscape && salvage.objects.some(holdsLoneSurrogate)) kinds.push('lone-surrogate');
    damage.set(raw.lineNo, { line: raw.lineNo, kinds, salvaged: salvage.texts, unplaced, length: raw.bytes.length });
  }

  const after = statSync(path);
  return {
    path,
    size: bytesRead,
    mtimeMs: after.mtimeMs,
    lineCount,
    endsWithNewline,
    entries,
    lineOffsets: lineOffsets.subarray(0, lineCount),
    lineLengths: lineLengths.subarray(0, lineCount),
    damage,
    blankLines,
    grewWhileRead: after.size !== before.size || after.size !== bytesRead,
  };
}
