import { createReadStream } from 'node:fs';

/** One physical line of a session file, exactly as stored (without its `\n`). */
export interface RawLine {
  /** 1-based line number. */
  lineNo: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  bytes: Buffer;
  /** False only for a last line that the writer never finished with a newline. */
  endsWithNewline: boolean;
}

const NEWLINE = 0x0a;

/**
 * Streams a file as physical lines with bounded memory: only the current chunk and the
 * pieces of one unfinished line are held, whatever the file size.
 */
export async function* readLines(path: string, highWaterMark = 1 << 20): AsyncGenerator<RawLine> {
  let lineNo = 0;
  let lineStart = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let position = 0;
  for await (const chunk of createReadStream(path, { highWaterMark }) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
      const piece = chunk.subarray(from, nl);
      // Copy: a subarray would pin the whole 1 MiB chunk for as long as the caller keeps the line.
      const bytes = pendingBytes === 0 ? Buffer.from(piece) : Buffer.concat([...pending, piece], pendingBytes + piece.length);
      pending = [];
      pendingBytes = 0;
      yield { lineNo: ++lineNo, offset: lineStart, bytes, endsWithNewline: true };
      from = nl + 1;
      lineStart = position + from;
    }
    if (from < chunk.length) {
      pending.push(chunk.subarray(from));
      pendingBytes += chunk.length - from;
    }
    position += chunk.length;
  }
  if (pendingBytes > 0) {
    yield { lineNo: ++lineNo, offset: lineStart, bytes: Buffer.concat(pending, pendingBytes), endsWithNewline: false };
  }
}
