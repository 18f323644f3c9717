import { closeSync, openSync, readSync } from 'node:fs';
import type { EntryFacts } from '../read/facts.js';
import type { SessionScan } from '../read/session-reader.js';

/** Reads the full entries behind facts on demand, by byte offset, so the index never holds content. */
export class EntryLoader {
  private fd: number | null = null;
  constructor(private readonly scan: SessionScan) {}

  /** The entry as parsed from its line; null if the line no longer parses (the file changed). */
  load(e: EntryFacts): Record<string, unknown> | null {
    const damage = this.scan.damage.get(e.line);
    const text = damage?.salvaged[e.part] ?? this.lineText(e.line);
    try {
      const value: unknown = JSON.parse(damage?.kinds.includes('nul') ? text.replace(/\0+/g, '') : text);
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  lineBytes(line: number): Buffer {
    const offset = this.scan.lineOffsets[line - 1];
    const length = this.scan.lineLengths[line - 1];
    if (offset === undefined || length === undefined) throw new RangeError(`line ${line} is not in ${this.scan.path}`);
    this.fd ??= openSync(this.scan.path, 'r');
    const buf = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = readSync(this.fd, buf, read, length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
    return buf.subarray(0, read);
  }

  lineText(line: number): string {
    return this.lineBytes(line).toString('utf8');
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Text of the text blocks of an entry's message content. */
export function textOf(entry: Record<string, unknown> | null): string {
  const content = (entry?.message as { content?: unknown } | undefined)?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b): b is { type: 'text'; text: string } => typeof b === 'object' && b !== null && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('\n');
}
