import { open } from 'node:fs/promises';

/** One physical line of a session file, exactly as stored (without its `\n`). */
export interface RawLine {
  /** 1-based line number. */
  lineNo: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /**
   * The line's bytes. A view into the reader's buffer: valid until the next line is read, so a
   * consumer that keeps the bytes must copy them.
   */
  bytes: Buffer;
  /** False only for a last line that the writer never finished with a newline. */
  endsWithNewline: boolean;
  /** False when the chunk holding the line has no NUL byte, so the line need not be searched. */
  mayHoldNul: boolean;
  /** False when the chunk holding the line has no `\ud`/`\uD` escape, so no lone surrogate can be in it. */
  mayHoldEscape: boolean;
}

const NEWLINE = 0x0a;
const SURROGATE_ESCAPES = [Buffer.from('\\ud'), Buffer.from('\\uD')];

/**
 * Streams a file as physical lines with bounded memory: one reused read buffer plus the pieces
 * of a line that spans reads, whatever the file size.
 */
export async function* readLines(path: string, bufferSize = 1 << 20): AsyncGenerator<RawLine> {
  const handle = await open(path, 'r');
  // A small file gets a small buffer: scanning thousands of them must not churn a megabyte each.
  const size = await handle.stat().then(
    (st) => st.size,
    async (err: unknown) => {
      await handle.close();
      throw err;
    },
  );
  const buffer = Buffer.allocUnsafe(Math.min(bufferSize, Math.max(1 << 16, size + 1)));
  let lineNo = 0;
  let lineStart = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingNul = false;
  let pendingEscape = false;
  let position = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      const chunkNul = chunk.includes(0);
      const chunkEscape = SURROGATE_ESCAPES.some((needle) => chunk.includes(needle));
      let from = 0;
      for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
        const piece = chunk.subarray(from, nl);
        const spans = pendingBytes > 0;
        const bytes = spans ? Buffer.concat([...pending, piece], pendingBytes + piece.length) : piece;
        yield { lineNo: ++lineNo, offset: lineStart, bytes, endsWithNewline: true, mayHoldNul: chunkNul || pendingNul, mayHoldEscape: chunkEscape || pendingEscape };
        if (spans) {
          pending = [];
          pendingBytes = 0;
          pendingNul = pendingEscape = false;
        }
        from = nl + 1;
        lineStart = position + from;
      }
      if (from < chunk.length) {
        // The buffer is reused by the next read: keep a copy of the unfinished line.
        pending.push(Buffer.from(chunk.subarray(from)));
        pendingBytes += chunk.length - from;
        pendingNul ||= chunkNul;
        pendingEscape = true; // an escape may straddle two reads
      }
      position += bytesRead;
    }
    if (pendingBytes > 0) {
      yield { lineNo: ++lineNo, offset: lineStart, bytes: Buffer.concat(pending, pendingBytes), endsWithNewline: false, mayHoldNul: pendingNul, mayHoldEscape: true };
    }
  } finally {
    await handle.close();
  }
}
