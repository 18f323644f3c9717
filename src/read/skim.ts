// A reader of one session line that builds only the part of the entry the facts and the shape check
// look at (src/read/facts.ts, src/read/schema.ts), straight from the line's bytes. Everything else is
// validated as JSON but never decoded: a tool's output, a file's text, an image, progress data. Long
// strings that are looked at only for their start and blankness are kept as a prefix.
//
// It answers null whenever it cannot vouch for the line: when JSON.parse might reject it (any
// malformed byte, structure or number), when the line is not a single object, or when it holds a
// `\uD…` escape (a possible lone surrogate, which the caller checks on the fully parsed line). The
// caller then reads the line the ordinary way, so a null is never wrong, only slower.

type Json = Record<string, unknown>;

/** How much of a string is kept. */
const enum Cut {
  /** All of it. */
  Exact,
  /** Its first 600 UTF-16 units or more, and whether it is blank (a text, a typed prompt). */
  Text,
  /** Its first 31 units or more (a tool result, looked at for a marker at its start). */
  Head,
  /** Only whether it is empty (a thinking text, a signature, a summary). */
  Shape,
}

/** What is kept of a value: how much of a string; the kept fields of an object; the items of an array. */
interface Keep {
  cut: Cut;
  fields?: FieldTable;
  items?: Keep;
}

interface Field {
  name: string;
  bytes: Uint8Array;
  keep: Keep;
}

/** Kept fields of an object, found by the raw bytes of a key. */
interface FieldTable {
  byLength: (Field[] | undefined)[];
  byName: Map<string, Field>;
}

const EXACT: Keep = { cut: Cut.Exact };
const TEXT: Keep = { cut: Cut.Text };
const HEAD: Keep = { cut: Cut.Head };
const SHAPE: Keep = { cut: Cut.Shape };

function table(fields: Record<string, Keep>): FieldTable {
  const byLength: (Field[] | undefined)[] = [];
  const byName = new Map<string, Field>();
  for (const [name, keep] of Object.entries(fields)) {
    const field: Field = { name, bytes: Buffer.from(name, 'latin1'), keep };
    (byLength[name.length] ??= []).push(field);
    byName.set(name, field);
  }
  return { byLength, byName };
}

// What facts.ts and schema.ts read, level by level; a field missing here is dropped, and a change
// there must be mirrored here (test/read/skim.test.ts compares both on every corpus line). A
// container where no fields or items are listed is kept empty ({} or []): only its kind is looked at.
const PART: Keep = { cut: Cut.Head, fields: table({ type: EXACT, text: HEAD }) };
const BLOCK: Keep = {
  cut: Cut.Shape,
  fields: table({
    type: EXACT,
    id: EXACT,
    name: EXACT,
    tool_use_id: EXACT,
    is_error: EXACT,
    text: TEXT,
    thinking: SHAPE,
    signature: SHAPE,
    input: SHAPE,
    data: SHAPE,
    source: { cut: Cut.Shape, fields: table({ type: EXACT, media_type: SHAPE, data: SHAPE, url: SHAPE, file_id: SHAPE }) },
    content: { cut: Cut.Head, items: PART },
  }),
};
const MESSAGE: Keep = {
  cut: Cut.Shape,
  fields: table({ id: EXACT, model: EXACT, stop_reason: EXACT, role: EXACT, content: { cut: Cut.Text, items: BLOCK } }),
};
const ENTRY: Keep = {
  cut: Cut.Shape,
  fields: table({
    type: EXACT,
    subtype: EXACT,
    uuid: EXACT,
    parentUuid: EXACT,
    logicalParentUuid: EXACT,
    sessionId: EXACT,
    timestamp: EXACT,
    version: EXACT,
    cwd: EXACT,
    isSidechain: EXACT,
    isMeta: EXACT,
    isCompactSummary: EXACT,
    isApiErrorMessage: EXACT,
    isSnapshotUpdate: EXACT,
    leafUuid: EXACT,
    messageId: EXACT,
    summary: SHAPE,
    lastPrompt: SHAPE,
    message: MESSAGE,
    attachment: { cut: Cut.Shape, fields: table({ type: EXACT }) },
    snapshot: { cut: Cut.Shape, fields: table({ trackedFileBackups: SHAPE }) },
  }),
};

/**
 * Raw bytes kept of a Text string, first try: enough for over 600 units (what the prompt preview
 * takes) of ASCII text. When they decode to fewer, 4096 bytes are taken, which always do (a unit is
 * at most 6 bytes, a `\uXXXX` escape; the cut moves back by at most 5).
 */
const TEXT_BYTES = 768;
const TEXT_BYTES_ALWAYS = 4096;
const TEXT_UNITS = 600;
/** Raw bytes kept of a Head string: at least 31 units, where the longest marker looked for has 22. */
const HEAD_BYTES = 192;
/** Containers nested deeper than this are left to JSON.parse. */
const MAX_DEPTH = 512;
/** Short exact strings are decoded once and looked up by their bytes: most repeat from line to line. */
const CACHE_SLOTS = 1024;
const CACHE_WIDTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Bytes that may follow a backslash in a JSON string (the `u` of `\uXXXX` is handled apart). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const BLANK = /\S/;

/** Thrown (never escapes this module) when the line is not one the skim can vouch for. */
const GIVE_UP = Symbol('give up');
function giveUp(): never {
  throw GIVE_UP;
}

/**
 * High bit of each byte of x (four bytes of the line) set where the byte is < 0x20 or a quote (the
 * bytes that are < 0x21 once bit 1 is flipped), or a backslash (zero once xored with it). A spurious
 * flag can only sit just above a genuine one (a borrow), never below the lowest genuine one.
 */
function flags(x: number): number {
  const t = x ^ 0x02020202;
  const b = x ^ 0x5c5c5c5c;
  return (((t - 0x21212121) & ~t) | ((b - 0x01010101) & ~b)) & 0x80808080;
}

class Skimmer {
  private u8: Buffer = Buffer.alloc(0);
  private len = 0;
  /** The line's buffer as 32-bit words, to look for a string's next quote, backslash or control byte four bytes at a time. */
  private words: Int32Array = new Int32Array(0);
  private wordsOf: ArrayBufferLike | null = null;
  /** Byte offset of the line in its buffer. */
  private off = 0;
  /** Index of the first word that does not lie wholly inside the line. */
  private wordsEnd = 0;
  /** Whether the string last scanned holds an escape. */
  private escaped = false;
  /** The value last kept. */
  private value: unknown = undefined;
  private readonly stack = new Uint8Array(MAX_DEPTH);
  private readonly cacheBytes = new Uint8Array(CACHE_SLOTS * CACHE_WIDTH);
  private readonly cacheLength = new Int32Array(CACHE_SLOTS).fill(-1);
  private readonly cacheText: (string | undefined)[] = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);

  skim(bytes: Buffer): Json | null {
    const len = bytes.length;
    if (len > 0x3fffffff) return null;
    this.u8 = bytes;
    this.len = len;
    const ab = bytes.buffer;
    if (!LITTLE_ENDIAN || ab.byteLength > 0x7ffffffc) this.wordsEnd = 0;
    else {
      if (this.wordsOf !== ab) {
        this.words = new Int32Array(ab, 0, ab.byteLength >> 2);
        this.wordsOf = ab;
      }
      this.off = bytes.byteOffset;
      this.wordsEnd = (bytes.byteOffset + len) >> 2;
    }
    try {
      let p = this.space(0);
      if (p >= len || bytes[p] !== 0x7b) return null;
      p = this.keepObject(p, ENTRY.fields as FieldTable);
      const entry = this.value as Json;
      if (this.space(p) !== len) return null;
      return entry;
    } catch (error) {
      if (error === GIVE_UP) return null;
      // Anything else (a kept slice JSON.parse rejects) also means: let the full parse decide.
      return null;
    } finally {
      this.u8 = EMPTY;
      this.value = undefined;
      // The words view keeps its buffer alive: let go of one that held a single huge line.
      if (ab.byteLength > 1 << 22) {
        this.words = new Int32Array(0);
        this.wordsOf = null;
      }
    }
  }

  private space(p: number): number {
    const u8 = this.u8;
    const len = this.len;
    while (p < len) {
      const c = u8[p];
      if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) break;
      p++;
    }
    return p;
  }

  /** Index of the first quote, backslash or control byte at or after p (the line's length if none). */
  private special(p: number): number {
    const off = this.off;
    const end = this.wordsEnd;
    const g = off + p;
    let j = g >> 2;
    if (j < end) {
      const words = this.words;
      let x = words[j] as number;
      const k = g & 3;
      if (k !== 0) {
        // Bytes before p are replaced by a harmless one, so they cannot be reported (nor borrow).
        const keep = -1 << (k << 3);
        x = (x & keep) | (0x41414141 & ~keep);
      }
      let m = flags(x);
      while (m === 0) {
        if (++j === end) break;
        m = flags(words[j] as number);
      }
      if (m !== 0) return (j << 2) + ((31 - Math.clz32(m & -m)) >> 3) - off;
      p = (j << 2) - off;
    }
    const u8 = this.u8;
    const len = this.len;
    for (; p < len; p++) {
      const c = u8[p] as number;
      if (c === QUOTE || c === BACKSLASH || c < 0x20) return p;
    }
    return len;
  }

  /** Index of the quote closing the string whose first byte is at p; sets `escaped`. */
  private string(p: number): number {
    const u8 = this.u8;
    let escaped = false;
    for (;;) {
      const i = this.special(p);
      const c = u8[i];
      if (c === QUOTE) {
        this.escaped = escaped;
        return i;
      }
      if (c !== BACKSLASH) giveUp(); // a control byte, or the end of the line
      escaped = true;
      p = SIMPLE_ESCAPE[u8[i + 1] as number] === 1 ? i + 2 : i + this.escape(i);
    }
  }

  /** Length of the escape whose backslash is at i. */
  private escape(i: number): number {
    const u8 = this.u8;
    const e = u8[i + 1] as number;
    if (SIMPLE_ESCAPE[e] === 1) return 2;
    if (e !== 0x75) giveUp();
    const h = u8[i + 2] as number;
    // \uD800-\uDFFF may be half a surrogate pair: the caller's own check decides those lines.
    if (h === 0x64 || h === 0x44 || HEX[h] !== 1 || HEX[u8[i + 3] as number] !== 1 || HEX[u8[i + 4] as number] !== 1 || HEX[u8[i + 5] as number] !== 1) giveUp();
    return 6;
  }

  private number(p: number): number {
    const u8 = this.u8;
    let c = u8[p];
    if (c === 0x2d) c = u8[++p];
    if (c === 0x30) c = u8[++p];
    else if (c !== undefined && c >= 0x31 && c <= 0x39) {
      do c = u8[++p];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
    } else giveUp();
    if (c === 0x2e) {
      c = u8[++p];
      if (c === undefined || c < 0x30 || c > 0x39) giveUp();
      do c = u8[++p];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
    }
    if (c === 0x65 || c === 0x45) {
      c = u8[++p];
      if (c === 0x2b || c === 0x2d) c = u8[++p];
      if (c === undefined || c < 0x30 || c > 0x39) giveUp();
      do c = u8[++p];
      while (c !== undefined && c >= 0x30 && c <= 0x39);
    }
    return p;
  }

  /** End of the literal true, false or null at p. */
  private literal(p: number): number {
    const u8 = this.u8;
    const c = u8[p];
    if (c === 0x74) {
      if (u8[p + 1] === 0x72 && u8[p + 2] === 0x75 && u8[p + 3] === 0x65) return p + 4;
    } else if (c === 0x66) {
      if (u8[p + 1] === 0x61 && u8[p + 2] === 0x6c && u8[p + 3] === 0x73 && u8[p + 4] === 0x65) return p + 5;
    } else if (c === 0x6e) {
      if (u8[p + 1] === 0x75 && u8[p + 2] === 0x6c && u8[p + 3] === 0x6c) return p + 4;
    }
    return giveUp();
  }

  /** End of the string, number or literal at p (p is past any space). */
  private scalar(p: number): number {
    const c = this.u8[p];
    if (c === QUOTE) return this.string(p + 1) + 1;
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.number(p);
    return this.literal(p);
  }

  /** Checks the value at p (past any space) without keeping anything; returns its end. */
  private skip(p: number): number {
    const u8 = this.u8;
    let c = u8[p];
    if (c !== 0x7b && c !== 0x5b) return this.scalar(p);
    const stack = this.stack;
    let depth = 0;
    // Each turn: p is at a value's first byte (past space).
    for (;;) {
      c = u8[p];
      if (c === 0x7b || c === 0x5b) {
        if (depth === MAX_DEPTH) giveUp();
        const inObject = c === 0x7b;
        stack[depth++] = inObject ? 1 : 0;
        p = this.space(p + 1);
        if (u8[p] === (inObject ? 0x7d : 0x5d)) {
          p++;
          depth--;
        } else {
          if (inObject) p = this.key(p);
          continue;
        }
      } else p = this.scalar(p);
      // After a value: a comma and the next member, or the end of one or more containers.
      for (;;) {
        if (depth === 0) return p;
        p = this.space(p);
        c = u8[p];
        const inObject = stack[depth - 1] === 1;
        if (c === 0x2c) {
          p = this.space(p + 1);
          if (inObject) p = this.key(p);
          break;
        }
        if (c !== (inObject ? 0x7d : 0x5d)) giveUp();
        p++;
        depth--;
      }
    }
  }

  /** Checks `"key" :` at p and returns the start of the value that follows. */
  private key(p: number): number {
    if (this.u8[p] !== QUOTE) giveUp();
    p = this.space(this.string(p + 1) + 1);
    if (this.u8[p] !== 0x3a) giveUp();
    return this.space(p + 1);
  }

  /** The kept field named by the key bytes [from, to), if any. */
  private field(fields: FieldTable, from: number, to: number, escaped: boolean): Field | undefined {
    if (escaped) return fields.byName.get(JSON.parse(this.u8.toString('utf8', from - 1, to + 1)) as string);
    const candidates = fields.byLength[to - from];
    if (candidates === undefined) return undefined;
    const u8 = this.u8;
    next: for (const field of candidates) {
      const bytes = field.bytes;
      for (let i = 0; i < bytes.length; i++) if (u8[from + i] !== bytes[i]) continue next;
      return field;
    }
    return undefined;
  }

  /** Keeps the object at p (at its `{`) with only the given fields, into `value`; returns its end. */
  private keepObject(p: number, fields: FieldTable): number {
    const u8 = this.u8;
    const out: Json = {};
    p = this.space(p + 1);
    if (u8[p] === 0x7d) {
      this.value = out;
      return p + 1;
    }
    for (;;) {
      if (u8[p] !== QUOTE) giveUp();
      const from = p + 1;
      const to = this.string(from);
      const field = this.field(fields, from, to, this.escaped);
      p = this.space(to + 1);
      if (u8[p] !== 0x3a) giveUp();
      p = this.space(p + 1);
      if (field === undefined) p = this.skip(p);
      else {
        // Only known names are ever set, so a "__proto__" key is simply dropped, as it is unread.
        p = this.keep(p, field.keep);
        out[field.name] = this.value;
      }
      p = this.space(p);
      const c = u8[p];
      if (c === 0x2c) p = this.space(p + 1);
      else if (c === 0x7d) {
        this.value = out;
        return p + 1;
      } else giveUp();
    }
  }

  /** Keeps the array at p (at its `[`), each item as `items` says, into `value`; returns its end. */
  private keepArray(p: number, items: Keep): number {
    const u8 = this.u8;
    const out: unknown[] = [];
    p = this.space(p + 1);
    if (u8[p] === 0x5d) {
      this.value = out;
      return p + 1;
    }
    for (;;) {
      p = this.space(this.keep(p, items));
      out.push(this.value);
      const c = u8[p];
      if (c === 0x2c) p = this.space(p + 1);
      else if (c === 0x5d) {
        this.value = out;
        return p + 1;
      } else giveUp();
    }
  }

  /** Keeps the value at p (past space) as `keep` says, into `value`; returns its end. */
  private keep(p: number, keep: Keep): number {
    const u8 = this.u8;
    const c = u8[p];
    if (c === QUOTE) {
      const from = p + 1;
      const to = this.string(from);
      const escaped = this.escaped;
      const n = to - from;
      const cut = keep.cut;
      if (cut === Cut.Exact) this.value = escaped || n > CACHE_WIDTH ? this.decode(from, to, escaped) : this.cached(from, to);
      else if (cut === Cut.Shape) this.value = n === 0 ? '' : ' ';
      else if (cut === Cut.Head) this.value = n <= HEAD_BYTES ? this.decode(from, to, escaped) : this.prefix(from, escaped, HEAD_BYTES);
      else this.value = n <= TEXT_BYTES ? this.decode(from, to, escaped) : this.text(from, to, escaped);
      return to + 1;
    }
    if (c === 0x7b) {
      if (keep.fields !== undefined) return this.keepObject(p, keep.fields);
      const end = this.skip(p);
      this.value = {};
      return end;
    }
    if (c === 0x5b) {
      if (keep.items !== undefined) return this.keepArray(p, keep.items);
      const end = this.skip(p);
      this.value = [];
      return end;
    }
    const end = this.scalar(p);
    this.value = c === 0x74 ? true : c === 0x66 ? false : c === 0x6e ? null : JSON.parse(u8.toString('latin1', p, end));
    return end;
  }

  /** The string whose raw bytes are [from, to). */
  private decode(from: number, to: number, escaped: boolean): string {
    return escaped ? (JSON.parse(this.u8.toString('utf8', from - 1, to + 1)) as string) : this.u8.toString('utf8', from, to);
  }

  /** A short string without escapes, from the cache when the same bytes were decoded before. */
  private cached(from: number, to: number): string {
    const u8 = this.u8;
    const n = to - from;
    const last = n === 0 ? 0 : (u8[to - 1] as number);
    const h = (Math.imul(n, 0x9e3779b1) ^ Math.imul(last, 0x85ebca6b) ^ Math.imul(u8[to - 2] as number, 0xc2b2ae35) ^ Math.imul(u8[from + (n >> 1)] as number, 0x27d4eb2f)) >>> 22;
    const bytes = this.cacheBytes;
    const at = h * CACHE_WIDTH;
    if (this.cacheLength[h] === n) {
      // Compared from the end: ids and timestamps differ there first.
      let i = n - 1;
      while (i >= 0 && bytes[at + i] === u8[from + i]) i--;
      if (i < 0) return this.cacheText[h] as string;
    }
    const text = u8.toString('utf8', from, to);
    for (let i = 0; i < n; i++) bytes[at + i] = u8[from + i] as number;
    this.cacheLength[h] = n;
    this.cacheText[h] = text;
    return text;
  }

  /** A Text string over TEXT_BYTES bytes: a prefix of it, unless the prefix is blank and the whole may not be. */
  private text(from: number, to: number, escaped: boolean): string {
    let prefix = this.prefix(from, escaped, TEXT_BYTES);
    if (prefix.length < TEXT_UNITS) prefix = to - from <= TEXT_BYTES_ALWAYS ? this.decode(from, to, escaped) : this.prefix(from, escaped, TEXT_BYTES_ALWAYS);
    return BLANK.test(prefix) ? prefix : this.decode(from, to, escaped);
  }

  /** The start of a string longer than `bytes`: its raw bytes up to about `bytes` from `from`, decoded. */
  private prefix(from: number, escaped: boolean, bytes: number): string {
    const u8 = this.u8;
    let cut = from + bytes;
    // Not inside a UTF-8 sequence...
    while (((u8[cut] as number) & 0xc0) === 0x80) cut--;
    // ...nor inside an escape: only one starting in the 5 bytes before the cut can reach past it.
    if (escaped) {
      let last = cut - 1;
      while (last >= cut - 5 && u8[last] !== BACKSLASH) last--;
      if (last >= cut - 5) {
        let first = last;
        while (first > from && u8[first - 1] === BACKSLASH) first--;
        // In a run of backslashes, every other one (from the first) starts an escape.
        if ((last - first) % 2 === 0 && last + (u8[last + 1] === 0x75 ? 6 : 2) > cut) cut = last;
      }
      return JSON.parse(u8.toString('utf8', from - 1, cut) + '"') as string;
    }
    return u8.toString('utf8', from, cut);
  }
}

const EMPTY = Buffer.alloc(0);
const skimmer = new Skimmer();

/**
 * The entry on one line, reduced to what entryFacts and shapeProblem read, such that both give
 * what they give for JSON.parse of the line; null when the line must be parsed in full instead.
 * The bytes must be valid UTF-8 (the caller checks).
 */
export function skimEntry(bytes: Buffer): Record<string, unknown> | null {
  return skimmer.skim(bytes);
}
