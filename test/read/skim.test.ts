// skimEntry must stand in for JSON.parse wherever it answers: the facts and the shape problem of
// what it keeps are those of the fully parsed line, and it answers null for every line JSON.parse
// rejects. Checked on every line of the corpus and the fixtures, and on damaged copies of them.

import { isUtf8 } from 'node:buffer';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryFacts, StringPool } from '../../src/read/facts.js';
import { shapeProblem } from '../../src/read/schema.js';
import { holdsLoneSurrogate, scanSession } from '../../src/read/session-reader.js';
import { skimEntry } from '../../src/read/skim.js';
import { corpusFiles } from '../helpers/corpus.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures');

function jsonlUnder(dir: string): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true, recursive: true })) if (d.isFile() && d.name.endsWith('.jsonl')) out.push(join(d.parentPath, d.name));
  return out.sort();
}

const FILES = [...corpusFiles().map((f) => f.path), ...jsonlUnder(FIXTURES)];

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let from = 0;
  for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, from)) {
    lines.push(buf.subarray(from, nl));
    from = nl + 1;
  }
  if (from < buf.length) lines.push(buf.subarray(from));
  return lines;
}


type Verdict = 'skimmed' | 'declined' | 'rejected';

/**
 * Checks skimEntry on one line's bytes against JSON.parse; returns what happened, or a description
 * of the disagreement.
 */
function check(bytes: Buffer): Verdict | string {
  const skimmed = skimEntry(bytes);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return skimmed === null ? 'rejected' : 'skimmed a line JSON.parse rejects';
  }
  if (skimmed === null) return 'declined';
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'skimmed a line that is not an object';
  if (holdsLoneSurrogate(parsed)) return 'skimmed a line with a lone surrogate';
  const full = parsed as Record<string, unknown>;
  const want = { facts: entryFacts(full, 0, 1, 0, new StringPool()), shape: shapeProblem(full) };
  const got = { facts: entryFacts(skimmed, 0, 1, 0, new StringPool()), shape: shapeProblem(skimmed) };
  try {
    expect(got).toStrictEqual(want);
  } catch (error) {
    return `differs: ${(error as Error).message.slice(0, 2000)}`;
  }
  return 'skimmed';
}

describe('skimEntry on real lines', () => {
  it('agrees with JSON.parse on every line of the corpus and the fixtures', () => {
    const counts: Record<Verdict, number> = { skimmed: 0, declined: 0, rejected: 0 };
    const failures: string[] = [];
    for (const path of FILES) {
      splitLines(readFileSync(path)).forEach((line, i) => {
        if (!isUtf8(line) || line.includes(0)) return; // such lines never reach skimEntry
        const verdict = check(line);
        if (verdict in counts) counts[verdict as Verdict]++;
        else failures.push(`${path}:${i + 1}: ${verdict}`);
      });
    }
    expect(failures).toEqual([]);
    expect(FILES.length).toBeGreaterThan(200);
    // It must decline little, or it saves nothing.
    expect(counts.skimmed).toBeGreaterThan(10_000);
    expect(counts.declined).toBeLessThan(counts.skimmed / 100);
  });
});

// ---------------------------------------------------------------------------------------------
// Damaged lines

/** A spread of real lines: every distinct entry type and block type, short and long. */
function sampleLines(): Buffer[] {
  const byKind = new Map<string, Buffer[]>();
  for (const path of FILES) {
    for (const line of splitLines(readFileSync(path))) {
      if (line.length === 0 || line.length > 200_000 || !isUtf8(line)) continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
      } catch {
        continue;
      }
      const content = (value.message as { content?: unknown } | undefined)?.content;
      const blocks = Array.isArray(content) ? content.map((b) => (b as { type?: unknown })?.type).join(',') : typeof content;
      const kind = `${String(value.type)}/${blocks}/${line.length > 4000 ? 'long' : 'short'}`;
      const list = byKind.get(kind) ?? [];
      if (list.length < 3) list.push(Buffer.from(line));
      byKind.set(kind, list);
    }
  }
  return [...byKind.values()].flat();
}

const SAMPLES = sampleLines();
const BYTES = [0x00, 0x01, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1f, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x2d, 0x2e, 0x2b, 0x30, 0x31, 0x65, 0x45, 0x75, 0x74, 0x66, 0x6e, 0x61, 0x7f];
const INSERTS = ['\\q', '\\u12', '\\uZZZZ', '\\u00e9', '\\ud83d', '\\uDE00', '\\"', '\\\\', '"', '\\', '{', '}', '[', ']', ',', ':', ' ', '\t', '\r', '\n', '\u0001', '01', '-', '1e', '.5', 'tru', 'nul', 'NaN', '"__proto__":{"type":"x"},', '"type":"user",', '"message":[],', 'é', '\u2028'];

/** How many damaged lines each test saw skimmed and rejected: both must be many, or the test proves little. */
let tally: Record<string, number> = {};

/** Runs check on bytes that are valid UTF-8 (the caller's precondition); records disagreements. */
function checkDamaged(bytes: Buffer, failures: string[], label: string) {
  if (!isUtf8(bytes)) return;
  const verdict = check(bytes);
  tally[verdict] = (tally[verdict] ?? 0) + 1;
  if (verdict !== 'skimmed' && verdict !== 'declined' && verdict !== 'rejected') failures.push(`${label}: ${verdict}: ${bytes.toString('utf8').slice(0, 300)}`);
}

const at = (n: number) => fc.integer({ min: 0, max: n });

describe('skimEntry on damaged lines', () => {
  it('is null wherever JSON.parse throws, and right elsewhere: cuts, changed, inserted and deleted bytes', () => {
    const failures: string[] = [];
    tally = {};
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SAMPLES.length - 1 }), fc.integer({ min: 0, max: 4 }), at(1e9), fc.constantFrom(...BYTES), fc.constantFrom(...INSERTS), (which, how, where, byte, insert) => {
        const line = SAMPLES[which] as Buffer;
        // Half the positions fall in the first 300 bytes, where the structure is dense.
        const k = where % 2 === 0 ? Math.floor(where / 2) % Math.min(line.length + 1, 300) : Math.floor(where / 2) % (line.length + 1);
        let damaged: Buffer;
        if (how === 0) damaged = line.subarray(0, k);
        else if (how === 1) {
          damaged = Buffer.from(line);
          if (k < damaged.length) damaged[k] = byte;
        } else if (how === 2) damaged = Buffer.concat([line.subarray(0, k), Buffer.from(insert), line.subarray(k)]);
        else if (how === 3) damaged = Buffer.concat([line.subarray(0, k), line.subarray(k + 1 + (where % 7))]);
        else damaged = Buffer.concat([line.subarray(0, k), Buffer.from([byte]), line.subarray(k)]);
        checkDamaged(damaged, failures, `sample ${which} how ${how} at ${k}`);
      }),
      { seed: 20260211, numRuns: 20_000 },
    );
    expect(failures).toEqual([]);
    expect(tally.skimmed).toBeGreaterThan(4000);
    expect(tally.rejected).toBeGreaterThan(4000);
  });

  it('is null for glued lines and trailing junk, and agrees with JSON.parse on trailing space', () => {
    const failures: string[] = [];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SAMPLES.length - 1 }), fc.integer({ min: 0, max: SAMPLES.length - 1 }), fc.constantFrom('', ' ', '\t', '\r', '  \r', 'x', '{}', ',', '\u00a0', '\ufeff'), (a, b, glue) => {
        const first = SAMPLES[a] as Buffer;
        checkDamaged(Buffer.concat([first, Buffer.from(glue), SAMPLES[b] as Buffer]), failures, `glued ${a}+${b}`);
        checkDamaged(Buffer.concat([first, Buffer.from(glue)]), failures, `tail ${a}`);
        checkDamaged(Buffer.concat([Buffer.from(glue), first]), failures, `head ${a}`);
      }),
      { seed: 7, numRuns: 600 },
    );
    expect(failures).toEqual([]);
  });

  it('agrees with JSON.parse when the fields it reads hold any JSON value', () => {
    // Paths into an entry, each set to an arbitrary value: wrong types, blank and long strings, keys like __proto__.
    const paths = [
      ['type'],
      ['uuid'],
      ['parentUuid'],
      ['timestamp'],
      ['isSidechain'],
      ['isMeta'],
      ['subtype'],
      ['leafUuid'],
      ['messageId'],
      ['summary'],
      ['message'],
      ['message', 'role'],
      ['message', 'id'],
      ['message', 'stop_reason'],
      ['message', 'content'],
      ['message', 'content', 0],
      ['message', 'content', 0, 'type'],
      ['message', 'content', 0, 'text'],
      ['message', 'content', 0, 'thinking'],
      ['message', 'content', 0, 'signature'],
      ['message', 'content', 0, 'input'],
      ['message', 'content', 0, 'id'],
      ['message', 'content', 0, 'is_error'],
      ['message', 'content', 0, 'content'],
      ['message', 'content', 0, 'content', 0],
      ['message', 'content', 0, 'content', 0, 'text'],
      ['attachment'],
      ['attachment', 'type'],
      ['snapshot'],
      ['snapshot', 'trackedFileBackups'],
      ['toolUseResult'],
      ['__proto__'],
      ['message', '__proto__'],
    ] as const;
    const blank = fc.array(fc.constantFrom(' ', '\n', '\t', '\u00a0', '\u2028', '\u3000', '\ufeff'), { maxLength: 5000 }).map((a) => a.join(''));
    const text = fc.oneof(
      fc.string({ maxLength: 50 }),
      fc.string({ unit: 'binary', maxLength: 50 }),
      blank,
      fc.tuple(blank, fc.string({ unit: 'grapheme', maxLength: 3 }), fc.string({ maxLength: 6000 })).map((t) => t.join('')),
      fc.constantFrom(' '.repeat(3000) + 'x', '\n'.repeat(800) + '[Tool call interrupted', '\u00a0'.repeat(700) + '.', '\u0001'.repeat(1000) + 'y'),
      fc.constantFrom('[Request interrupted by user]', '[Tool call interrupted', 'connection_lost', 'text', 'thinking', 'tool_use', 'tool_result', 'user', 'assistant'),
      fc.tuple(fc.string({ unit: 'grapheme', maxLength: 2000 }), fc.constantFrom('\\', '"', '\u0001', '\u00e9', '😀', '\u2028')).map(([s, c]) => (s + c).repeat(3)),
    );
    const value = fc.oneof({ maxDepth: 3 }, text, fc.jsonValue({ maxDepth: 3 }), fc.constant({}), fc.constant([]), fc.constant([{ type: 'text', text: 'x' }]), fc.constant({ type: 'text' }));
    const failures: string[] = [];
    tally = {};
    fc.assert(
      fc.property(fc.integer({ min: 0, max: SAMPLES.length - 1 }), fc.constantFrom(...paths), value, fc.boolean(), (which, path, v, spaced) => {
        const entry = JSON.parse((SAMPLES[which] as Buffer).toString('utf8')) as Record<string, unknown>;
        let target: Record<string | number, unknown> = entry;
        for (const key of path.slice(0, -1)) {
          const next = target[key];
          if (typeof next !== 'object' || next === null) return;
          target = next as Record<string | number, unknown>;
        }
        Object.defineProperty(target, path[path.length - 1] as string | number, { value: v, enumerable: true, configurable: true, writable: true });
        const line = JSON.stringify(entry, null, spaced ? 1 : undefined).replace(/\n/g, ' ');
        checkDamaged(Buffer.from(line), failures, `sample ${which} ${path.join('.')}`);
      }),
      { seed: 42, numRuns: 5000 },
    );
    expect(failures).toEqual([]);
    expect(tally.skimmed).toBeGreaterThan(2500);
  });

  it('handles repeated keys, escaped keys, deep nesting and numbers as JSON.parse does', () => {
    const cases = [
      '{"type":"user","type":"assistant","uuid":"u","message":{"role":"assistant","content":[]}}',
      '{"type":"assistant","uuid":"u","message":{"role":"assistant","content":"x"},"message":{"role":"assistant","content":[]}}',
      '{"t\\u0079pe":"user","uuid":"u","message":{"role":"user","con\\u0074ent":"hi"}}',
      '{"__proto__":{"type":"user"},"uuid":"u"}',
      '{"\\u005f_proto__":{"type":"user"},"type":"system","uuid":"u"}',
      `{"type":"progress","uuid":"u","data":${'['.repeat(500)}${']'.repeat(500)}}`,
      `{"type":"progress","uuid":"u","data":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      `{"type":"progress","uuid":"u","data":${'{"a":'.repeat(600)}1${'}'.repeat(600)}}`,
      `{"type":"progress","uuid":"u","data":${'['.repeat(5000)}${']'.repeat(4999)}}`,
      `{"type":"progress","uuid":"u","data":${'['.repeat(600)}{"a":1,2]${']'.repeat(600)}}`,
      '{"type":"system","uuid":"u","n":[0,-0,1.5e3,-2E-7,1e+2,123456789012345678901234567890]}',
      '{"type":"system","uuid":"u","isMeta":-0}',
      '{"type":"system","uuid":"u","n":01}',
      '{"type":"system","uuid":"u","n":1.}',
      '{"type":"system","uuid":"u","n":.5}',
      '{"type":"system","uuid":"u","n":1e}',
      '{"type":"system","uuid":"u","n":+1}',
      '{"type":"system","uuid":"u","n":-}',
      '{"type":"system","uuid":"u","n":Infinity}',
      '{"type":"system","uuid":"u","n":[1,]}',
      '{"type":"system","uuid":"u",}',
      '{"type":"system","uuid":"u","x":{"a" 1}}',
      '{"type":"system","uuid":"u","x":truefalse}',
      '{"type":"system","uuid":"u","x":"\\u00"}',
      '{"type":"system","uuid":"u","x":"a\tb"}',
      ' \t{"type":"system","uuid":"u"} \r',
      '{"type":"system",\f"uuid":"u"}',
      '{"type":"system",\u00a0"uuid":"u"}',
      '\ufeff{"type":"system","uuid":"u"}',
      '{"type":"system","uuid":"u"}{"type":"system","uuid":"v"}',
      '["type","system"]',
      '"type"',
      '',
      '   ',
      '{"type":"user","uuid":"u","message":{"role":"user","content":"\\ud83d\\ude00 hi"}}',
      '{"type":"user","uuid":"u","message":{"role":"user","content":"lone \\ud83d"}}',
      '{"type":"user","uuid":"u","message":{"role":"user","content":"mentions \\\\ud83d"}}',
    ];
    const failures: string[] = [];
    for (const c of cases) checkDamaged(Buffer.from(c), failures, c.slice(0, 60));
    expect(failures).toEqual([]);
    const skims = (text: string | undefined) => skimEntry(Buffer.from(text as string)) !== null;
    expect(skims(cases[0])).toBe(true); // repeated keys
    expect(skims(cases.find((c) => c.includes('['.repeat(500))))).toBe(true); // nested 500 deep
    expect(skims(cases.find((c) => c.includes('lone \\ud83d')))).toBe(false);
    expect(skims(cases.find((c) => c.includes('mentions')))).toBe(true);
  });

  it('keeps a long string as a prefix that reads the same', () => {
    for (const body of ['x'.repeat(10_000), ' '.repeat(5000) + 'x' + ' '.repeat(5000), ' \\n'.repeat(5000), 'é'.repeat(3000) + '\\"'.repeat(3000), '\\u0041'.repeat(2000)]) {
      const line = `{"type":"user","uuid":"u","message":{"role":"user","content":"${body}"}}`;
      expect(check(Buffer.from(line))).toBe('skimmed');
      const kept = (skimEntry(Buffer.from(line))?.message as { content: string }).content;
      const full = (JSON.parse(line) as { message: { content: string } }).message.content;
      expect(kept.length).toBeGreaterThan(600);
      expect(full.startsWith(kept)).toBe(true);
    }
  });
});

describe('scanSession with and without the skim', () => {
  const damagedFile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccrescue-skim-'));
    const path = join(dir, 'damaged.jsonl');
    const lines = SAMPLES.slice(0, 40).map((l) => l.toString('utf8'));
    if (lines.length < 40) throw new Error('too few sample lines');
    const parts = [
      lines[0],
      '',
      `${lines[1]}${lines[2]}`,
      (lines[3] as string).slice(0, 50),
      '\0\0\0',
      (lines[4] as string).replace('"', '"\0'),
      Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'),
      '{"type":"user","uuid":"u","message":{"role":"user","content":"lone \\ud83d"}}',
      '{"type":"user","uuid":"v","message":{"role":"user","content":"pair \\ud83d\\ude00"}}',
      '[1,2]',
      `${lines[5]}\r`,
      ...lines.slice(6),
      (lines[7] as string).slice(0, 100),
    ];
    // Part 6 is raw bytes (invalid UTF-8); the rest is text.
    writeFileSync(path, Buffer.concat(parts.map((p, i) => Buffer.concat([i === 6 ? Buffer.from(p as string, 'latin1') : Buffer.from(p as string), Buffer.from(i < parts.length - 1 ? '\n' : '')]))));
    return path;
  };

  const files = () => [...FILES, damagedFile()];

  it.each(files().map((p) => [p.split('/').slice(-3).join('/'), p]))('%s', async (_name, path) => {
    const fast = await scanSession(path);
    const full = await scanSession(path, { skim: false });
    expect(fast).toStrictEqual(full);
  });
});