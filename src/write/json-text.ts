// JSON of any depth. A line may nest 10,000 levels deep: JSON.parse reads it, but JSON.stringify and
// every recursive walk overflow the stack. These walk with an explicit stack instead.

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const skipped = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** JSON.stringify(value), for the values JSON.parse and object literals make, at any depth. */
export function jsonText(value: unknown): string {
  const out: string[] = [];
  const stack: ({ items: unknown[]; i: number } | { entries: [string, unknown][]; i: number })[] = [];
  const open = (v: unknown) => {
    if (Array.isArray(v)) {
      out.push('[');
      stack.push({ items: v, i: 0 });
    } else if (isObject(v)) {
      out.push('{');
      stack.push({ entries: Object.entries(v).filter(([, x]) => !skipped(x)), i: 0 });
    } else if (typeof v === 'number') out.push(Number.isFinite(v) ? JSON.stringify(v) : 'null');
    else out.push(JSON.stringify(v ?? null));
  };
  open(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const items = 'items' in top ? top.items : top.entries;
    if (top.i === items.length) {
      out.push('items' in top ? ']' : '}');
      stack.pop();
      continue;
    }
    if (top.i > 0) out.push(',');
    if ('items' in top) {
      const v = top.items[top.i++];
      open(skipped(v) ? null : v);
    } else {
      const [k, v] = top.entries[top.i++]!;
      out.push(JSON.stringify(k), ':');
      open(v);
    }
  }
  return out.join('');
}

/** A copy of a JSON value with every string and key passed through `text`; objects `keep` accepts are shared as they are. */
export function mapStrings(value: unknown, text: (s: string) => string, keep: (o: Json) => boolean): unknown {
  const work: { from: unknown; to: Json | unknown[]; key: string | number }[] = [];
  const copy = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) {
      const a: unknown[] = new Array(v.length);
      v.forEach((x, i) => work.push({ from: x, to: a, key: i }));
      return a;
    }
    if (!isObject(v) || keep(v)) return v;
    const o: Json = {};
    for (const [k, x] of Object.entries(v)) {
      const key = text(k);
      Object.defineProperty(o, key, { value: undefined, enumerable: true, writable: true, configurable: true });
      work.push({ from: x, to: o, key });
    }
    return o;
  };
  const result = copy(value);
  while (work.length > 0) {
    const { from, to, key } = work.pop()!;
    Object.defineProperty(to, key, { value: copy(from), enumerable: true, writable: true, configurable: true });
  }
  return result;
}
