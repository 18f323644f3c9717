// Damage operators for the property tests of test/robustness/property.test.ts. Each operator is
// plain data (so that fast-check prints and shrinks a readable counterexample) and is applied to a
// session's bytes by applyDamage. Positions are large integers taken modulo what the file holds at
// the time the operator is applied, so a composed case stays meaningful whatever ran before it.

import fc from 'fast-check';

/** A JSON value or the instruction to delete the field. */
export const DELETE = '<delete>' as const;

/** Where a key named like an Object.prototype member is added to an entry. */
export type ProtoTarget = 'top' | 'message' | 'block' | 'input' | 'toolUseResult';

export type Damage =
  /** Truncate the file at a byte (the writer was killed mid-append, or the disk lost the tail). */
  | { op: 'cut'; at: number }
  | { op: 'delete-line'; line: number }
  /** Copy a line to another position (a replayed append). */
  | { op: 'duplicate-line'; line: number; to: number }
  | { op: 'swap-lines'; a: number; b: number }
  /** A run of NUL bytes: inserted in a line, as its own line, over existing bytes, or at the end (delayed allocation). */
  | { op: 'nul-run'; at: number; length: number; where: 'inside' | 'own-line' | 'overwrite' | 'tail' }
  /** Drop the newline after a line, gluing it to the next (a non-atomic append). */
  | { op: 'join-lines'; line: number }
  /** Bytes that are not UTF-8, inserted or written over existing bytes. */
  | { op: 'bad-utf8'; at: number; bytes: keyof typeof BAD_UTF8; replace: boolean }
  /** A JSON-escaped unpaired surrogate inserted at the start of the nth string of a line (a value or a key). */
  | { op: 'lone-surrogate'; line: number; nth: number; escape: string; where: 'value' | 'key' }
  /** A field of an entry set to a value of another type (or deleted). */
  | { op: 'wrong-type'; line: number; path: string; block: number; value: unknown }
  /** A key named like an Object.prototype member added as JSON text to an object of an entry. */
  | { op: 'proto-key'; line: number; key: string; target: ProtoTarget; block: number; value: unknown; first: boolean };

/** Byte sequences that are not UTF-8. */
export const BAD_UTF8 = {
  ff: [0xff],
  'lone-lead-c3': [0xc3],
  'overlong-slash': [0xc0, 0xaf],
  'overlong-3byte': [0xe0, 0x80, 0xaf],
  'cesu-surrogate': [0xed, 0xa0, 0x80],
  'cut-4byte': [0xf0, 0x9f, 0x98],
  'stray-continuation': [0x80, 0xbf],
  'above-max': [0xf4, 0x90, 0x80, 0x80],
} as const;

/** Fields an entry carries, as paths; `#` is a content block (picked by the operator's `block`). */
export const FIELD_PATHS = [
  'uuid',
  'parentUuid',
  'logicalParentUuid',
  'type',
  'subtype',
  'timestamp',
  'sessionId',
  'version',
  'cwd',
  'isSidechain',
  'isMeta',
  'isCompactSummary',
  'isApiErrorMessage',
  'userType',
  'leafUuid',
  'messageId',
  'snapshot',
  'snapshot.trackedFileBackups',
  'toolUseResult',
  'attachment',
  'data',
  'message',
  'message.role',
  'message.id',
  'message.model',
  'message.stop_reason',
  'message.content',
  'message.content.#',
  'message.content.#.type',
  'message.content.#.text',
  'message.content.#.thinking',
  'message.content.#.signature',
  'message.content.#.id',
  'message.content.#.name',
  'message.content.#.input',
  'message.content.#.tool_use_id',
  'message.content.#.content',
  'message.content.#.is_error',
] as const;

/** Names that are members of Object.prototype (or special to it): as keys and as string values. */
export const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'isPrototypeOf'] as const;

/** Values of the wrong type (or the right type and a hostile value) for any field. */
const scalarValues = fc.constantFrom<unknown>(DELETE, '', ' ', 'x', '\u0000', 0, -1, 42, 1.5, 1e308, -0, null, true, false, [], {}, ['x'], [null], { type: 'x' }, ...PROTO_NAMES);
const blockValues = fc.array(
  fc.record(
    {
      type: fc.constantFrom<unknown>('text', 'thinking', 'tool_use', 'tool_result', 'image', 'redacted_thinking', 'server_tool_use', 'web_search_tool_result', 'unknown', ...PROTO_NAMES, 1, null, []),
      text: fc.oneof(fc.constantFrom<unknown>('x', '', ' \n', 1, null, [], {}), fc.string({ maxLength: 8 })),
      id: fc.constantFrom<unknown>('toolu_a', 'toolu_b', '', 1, null, '__proto__', 'constructor'),
      name: fc.constantFrom<unknown>('Bash', 'Read', 'Edit', 'Write', 'Task', '', 2, null, 'constructor', '__proto__'),
      input: fc.constantFrom<unknown>({}, { command: 'ls' }, { file_path: 'a.txt', old_string: 'a', new_string: 'b' }, 'x', 1, null, [], JSON.parse('{"__proto__":{"polluted":6}}') as unknown),
      tool_use_id: fc.constantFrom<unknown>('toolu_a', 'toolu_b', '', 1, null, 'constructor'),
      content: fc.constantFrom<unknown>('ok', '', [], [{ type: 'text', text: 'r' }], [{ type: 1 }], [null], 1, null, { type: 'text' }),
      is_error: fc.constantFrom<unknown>(true, false, 'true', 1, null),
      signature: fc.constantFrom<unknown>('sig', '', 1, null),
      thinking: fc.constantFrom<unknown>('hm', '', 1, null),
    },
    { requiredKeys: ['type'] },
  ),
  { maxLength: 4 },
);
export const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: scalarValues },
  { weight: 2, arbitrary: blockValues },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);

const protoValue = fc.constantFrom<unknown>(
  { polluted: 'yes' },
  { type: 'user', polluted: 1 },
  { toString: 1, valueOf: 'x', hasOwnProperty: null },
  { prototype: { polluted: 2 } },
  { role: 'assistant', content: [] },
  JSON.parse('{"__proto__":{"polluted":3}}') as unknown,
  JSON.parse('{"constructor":{"prototype":{"polluted":5}}}') as unknown,
  'x',
  1,
  null,
  [],
  [{ polluted: 4 }],
);

const big = fc.nat({ max: 2 ** 30 });

export const cut = big.map((at): Damage => ({ op: 'cut', at }));
export const deleteLine = big.map((line): Damage => ({ op: 'delete-line', line }));
export const duplicateLine = fc.tuple(big, big).map(([line, to]): Damage => ({ op: 'duplicate-line', line, to }));
export const swapLines = fc.tuple(big, big).map(([a, b]): Damage => ({ op: 'swap-lines', a, b }));
export const glueLines = big.map((line): Damage => ({ op: 'join-lines', line }));
export const nulRun = fc
  .record({ at: big, length: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 8192 })), where: fc.constantFrom('inside', 'own-line', 'overwrite', 'tail') as fc.Arbitrary<'inside' | 'own-line' | 'overwrite' | 'tail'> })
  .map((r): Damage => ({ op: 'nul-run', ...r }));
export const badUtf8 = fc
  .record({ at: big, bytes: fc.constantFrom(...(Object.keys(BAD_UTF8) as (keyof typeof BAD_UTF8)[])), replace: fc.boolean() })
  .map((r): Damage => ({ op: 'bad-utf8', ...r }));
export const loneSurrogate = fc
  .record({
    line: big,
    nth: big,
    escape: fc.constantFrom('\\ud800', '\\uDBFF', '\\udc00', '\\uDFFF', '\\ud83d', '\\ude00x\\ud83d', '\\ud800\\ud800'),
    where: fc.constantFrom('value', 'key') as fc.Arbitrary<'value' | 'key'>,
  })
  .map((r): Damage => ({ op: 'lone-surrogate', ...r }));
export const wrongType = fc.record({ line: big, path: fc.constantFrom(...FIELD_PATHS), block: big, value: wrongValue }).map((r): Damage => ({ op: 'wrong-type', ...r }));
export const protoKey = fc
  .record({
    line: big,
    key: fc.constantFrom('__proto__', 'constructor', 'prototype', '__proto__', 'toString'),
    target: fc.constantFrom('top', 'message', 'block', 'input', 'toolUseResult') as fc.Arbitrary<ProtoTarget>,
    block: big,
    value: protoValue,
    first: fc.boolean(),
  })
  .map((r): Damage => ({ op: 'proto-key', ...r }));
/** A message's content replaced by generated blocks: known and unknown types, fields of every type. */
export const contentBlocks = fc
  .record({ line: big, path: fc.constantFrom('message.content', 'message.content.#'), value: blockValues.filter((b) => b.length > 0) })
  .map((r): Damage => ({ op: 'wrong-type', line: r.line, path: r.path, block: 0, value: r.path === 'message.content' ? r.value : r.value[0] }));

/** A string field set to the name of an Object.prototype member: the classic way into `obj[name]` lookups. */
export const protoValueName = fc
  .record({
    line: big,
    path: fc.constantFrom('type', 'subtype', 'uuid', 'parentUuid', 'sessionId', 'version', 'leafUuid', 'messageId', 'message.id', 'message.role', 'message.model', 'message.stop_reason', 'message.content.#.type', 'message.content.#.id', 'message.content.#.name', 'message.content.#.tool_use_id'),
    block: big,
    value: fc.constantFrom(...PROTO_NAMES),
  })
  .map((r): Damage => ({ op: 'wrong-type', ...r }));

export const anyDamage: fc.Arbitrary<Damage> = fc.oneof(cut, deleteLine, duplicateLine, swapLines, glueLines, nulRun, badUtf8, loneSurrogate, wrongType, contentBlocks, protoKey, protoValueName);

// ---------------------------------------------------------------------------------------------

interface Lines {
  lines: Buffer[];
  /** Whether the last line ends with a newline. */
  trailingNewline: boolean;
}

export function splitLines(buf: Buffer): Lines {
  const lines: Buffer[] = [];
  let from = 0;
  for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, from)) {
    lines.push(buf.subarray(from, nl));
    from = nl + 1;
  }
  const trailingNewline = from === buf.length;
  if (!trailingNewline) lines.push(buf.subarray(from));
  return { lines, trailingNewline };
}

export function joinLines(l: Lines): Buffer {
  const parts: Buffer[] = [];
  l.lines.forEach((line, i) => {
    parts.push(line);
    if (i < l.lines.length - 1 || l.trailingNewline) parts.push(Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseLine(line: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(line.toString('utf8'));
    return isRecord(v) ? v : null;
  } catch {
    return null;
  }
}

/** Sets an own property, whatever its name (an assignment to `__proto__` would change the prototype instead). */
function setOwn(target: Record<string, unknown> | unknown[], key: string | number, value: unknown, first = false): void {
  if (first && isRecord(target)) {
    const rest = Object.entries(target);
    for (const k of Object.keys(target)) delete target[k];
    Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
    for (const [k, v] of rest) if (k !== key) Object.defineProperty(target, k, { value: v, enumerable: true, configurable: true, writable: true });
    return;
  }
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
}

/** Resolves a field path on an entry to its container and key; null where the container is absent. */
function resolvePath(entry: Record<string, unknown>, path: string, block: number): { container: Record<string, unknown> | unknown[]; key: string | number } | null {
  const parts = path.split('.');
  let at: unknown = entry;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    if (part === '#') {
      if (!Array.isArray(at) || at.length === 0) return null;
      at = at[block % at.length];
    } else {
      if (!isRecord(at) || !Object.hasOwn(at, part)) return null;
      at = at[part];
    }
  }
  const last = parts[parts.length - 1]!;
  if (last === '#') {
    if (!Array.isArray(at) || at.length === 0) return null;
    return { container: at, key: block % at.length };
  }
  if (!isRecord(at)) return null;
  return { container: at, key: last };
}

/** The objects of an entry a proto-key operator can reach. */
function protoTargets(entry: Record<string, unknown>, target: ProtoTarget, block: number): Record<string, unknown> | null {
  const message = entry.message;
  const content = isRecord(message) ? message.content : undefined;
  const blocks = Array.isArray(content) ? content.filter(isRecord) : [];
  switch (target) {
    case 'top':
      return entry;
    case 'message':
      return isRecord(message) ? message : null;
    case 'block':
      return blocks.length > 0 ? blocks[block % blocks.length]! : null;
    case 'input': {
      const inputs = blocks.map((b) => b.input).filter(isRecord);
      return inputs.length > 0 ? inputs[block % inputs.length]! : null;
    }
    case 'toolUseResult':
      return isRecord(entry.toolUseResult) ? entry.toolUseResult : null;
  }
}

/** Finds the start offsets (just after the opening quote) of every JSON string in a line, as keys or values. */
function stringStarts(text: string, where: 'value' | 'key'): number[] {
  const starts: number[] = [];
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        // A key is a string followed by a colon.
        let j = i + 1;
        while (text[j] === ' ') j++;
        const isKey = text[j] === ':';
        if (isKey === (where === 'key')) starts.push(start);
      }
    } else if (c === '"') {
      inString = true;
      start = i + 1;
    }
  }
  return starts;
}

/** Applies one operator to a file's bytes; an operator that finds nothing to act on leaves them as they are. */
export function applyDamage(bytes: Buffer, d: Damage): Buffer {
  switch (d.op) {
    case 'cut':
      return bytes.subarray(0, d.at % (bytes.length + 1));
    case 'nul-run': {
      const nuls = Buffer.alloc(d.length, 0);
      if (d.where === 'tail') return Buffer.concat([bytes, nuls]);
      if (d.where === 'own-line') {
        const l = splitLines(bytes);
        l.lines.splice(d.at % (l.lines.length + 1), 0, nuls);
        return joinLines(l);
      }
      const at = d.at % (bytes.length + 1);
      if (d.where === 'inside') return Buffer.concat([bytes.subarray(0, at), nuls, bytes.subarray(at)]);
      const out = Buffer.from(bytes);
      out.fill(0, at, Math.min(out.length, at + d.length));
      return out;
    }
    case 'bad-utf8': {
      const bad = Buffer.from(BAD_UTF8[d.bytes]);
      const at = d.at % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), bad, bytes.subarray(d.replace ? Math.min(bytes.length, at + bad.length) : at)]);
    }
    default:
      break;
  }
  const l = splitLines(bytes);
  const n = l.lines.length;
  if (n === 0) return bytes;
  switch (d.op) {
    case 'delete-line':
      l.lines.splice(d.line % n, 1);
      // Deleting the only unterminated line leaves the file ending with the newline before it.
      if (d.line % n === n - 1 && !l.trailingNewline) l.trailingNewline = true;
      return joinLines(l);
    case 'duplicate-line': {
      const line = l.lines[d.line % n]!;
      l.lines.splice(d.to % (n + 1), 0, line);
      return joinLines(l);
    }
    case 'swap-lines': {
      const a = d.a % n;
      const b = d.b % n;
      [l.lines[a], l.lines[b]] = [l.lines[b]!, l.lines[a]!];
      return joinLines(l);
    }
    case 'join-lines': {
      if (n < 2) return bytes;
      const i = d.line % (n - 1);
      l.lines.splice(i, 2, Buffer.concat([l.lines[i]!, l.lines[i + 1]!]));
      return joinLines(l);
    }
    case 'lone-surrogate': {
      const i = d.line % n;
      const text = l.lines[i]!.toString('utf8');
      const starts = stringStarts(text, d.where);
      if (starts.length === 0) return bytes;
      const at = starts[d.nth % starts.length]!;
      l.lines[i] = Buffer.from(text.slice(0, at) + d.escape + text.slice(at));
      return joinLines(l);
    }
    case 'wrong-type': {
      // Among the lines where the field's container exists, so that the operator rarely does nothing.
      const candidates: { i: number; entry: Record<string, unknown>; at: { container: Record<string, unknown> | unknown[]; key: string | number } }[] = [];
      l.lines.forEach((line, i) => {
        const entry = parseLine(line);
        const at = entry && resolvePath(entry, d.path, d.block);
        if (entry && at) candidates.push({ i, entry, at });
      });
      if (candidates.length === 0) return bytes;
      const { i, entry, at } = candidates[d.line % candidates.length]!;
      if (d.value === DELETE) {
        if (Array.isArray(at.container)) at.container.splice(at.key as number, 1);
        else delete at.container[at.key as string];
      } else setOwn(at.container, at.key, structuredClone(d.value));
      l.lines[i] = Buffer.from(JSON.stringify(entry));
      return joinLines(l);
    }
    case 'proto-key': {
      const candidates: { i: number; entry: Record<string, unknown>; target: Record<string, unknown> }[] = [];
      l.lines.forEach((line, i) => {
        const entry = parseLine(line);
        const target = entry && protoTargets(entry, d.target, d.block);
        if (entry && target) candidates.push({ i, entry, target });
      });
      if (candidates.length === 0) return bytes;
      const { i, entry, target } = candidates[d.line % candidates.length]!;
      setOwn(target, d.key, structuredClone(d.value), d.first);
      const text = JSON.stringify(entry);
      if (!text.includes(`"${d.key}":`)) throw new Error(`proto-key: ${d.key} did not reach the JSON text`);
      l.lines[i] = Buffer.from(text);
      return joinLines(l);
    }
  }
}

export function applyAll(bytes: Buffer, damages: readonly Damage[]): Buffer {
  return damages.reduce(applyDamage, bytes);
}
