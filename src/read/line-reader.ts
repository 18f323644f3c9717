import { closeSync, openSync, readSync } from 'node:fs';

/** One physical line of a session file, exactly as stored (without its `\n`). */
export interface RawLine {
  /** 1-based line number. */
  lineNo: number;
  /** Byte offset of the line's first byte in the file. */
  offset: number;
  /**
   * The line's bytes. A view into the reader's buffer: valid until the next line is read (or, from
   * readLineBatches, the next batch), so a consumer that keeps the bytes must copy them.
   */
  bytes: Buffer;
  /** False only for a last line that the writer never finished with a newline. */
  endsWithNewline: boolean;
  /** False when the chunk holding the line has no NUL byte, so the line need not be searched. */
  mayHoldNul: boolean;
}

const NEWLINE = 0x0a;
const BUFFER_SIZE = 1 << 20;

/**
 * Read buffers of the default size, kept once a file is read: a scan of thousands of small files
 * would otherwise allocate (and leave to the garbage collector) a megabyte a file.
 */
const idleBuffers: Buffer[] = [];
const takeBuffer = (size: number): Buffer => (size === BUFFER_SIZE ? idleBuffers.pop() : undefined) ?? Buffer.allocUnsafe(size);
const releaseBuffer = (buffer: Buffer): void => {
  if (buffer.length === BUFFER_SIZE && idleBuffers.length < 4) idleBuffers.push(buffer);
};

/**
 * Streams a file as physical lines with bounded memory: one read buffer plus the pieces of a line
 * that spans reads, whatever the file size. Reads are synchronous: from the page cache they cost
 * a copy, while an asynchronous open, read and close per file left a scan idle a third of the time.
 */
export async function* readLines(path: string, bufferSize = BUFFER_SIZE): AsyncGenerator<RawLine> {
  for await (const batch of readLineBatches(path, bufferSize)) yield* batch;
}

/**
 * readLines, a read's worth of lines at a time, which spares a fast consumer the cost of an await
 * per line. The lines of a batch are valid until the next batch is asked for.
 */
export async function* readLineBatches(path: string, bufferSize = BUFFER_SIZE): AsyncGenerator<RawLine[]> {
  const fd = openSync(path, 'r');
  const buffer = takeBuffer(bufferSize);
  let lineNo = 0;
  let lineStart = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingNul = false;
  let position = 0;
  try {
    for (;;) {
      const bytesRead = readSync(fd, buffer, 0, bufferSize, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      const chunkNul = chunk.includes(0);
      const batch: RawLine[] = [];
      let from = 0;
      for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
        const piece = chunk.subarray(from, nl);
        const spans = pendingBytes > 0;
        const bytes = spans ? Buffer.concat([...pending, piece], pendingBytes + piece.length) : piece;
        batch.push({ lineNo: ++lineNo, offset: lineStart, bytes, endsWithNewline: true, mayHoldNul: chunkNul || pendingNul });
        if (spans) {
          pending = [];
          pendingBytes = 0;
          pendingNul = false;
        }
        from = nl + 1;
        lineStart = position + from;
      }
      if (from < chunk.length) {
        // The buffer is reused by a later read: keep a copy of the unfinished line.
        pending.push(Buffer.from(chunk.subarray(from)));
        pendingBytes += chunk.length - from;
        pendingNul ||= chunkNul;
      }
      position += bytesRead;
      if (batch.length > 0) yield batch;
    }
    if (pendingBytes > 0) {
      yield [{ lineNo: ++lineNo, offset: lineStart, bytes: Buffer.concat(pending, pendingBytes), endsWithNewline: false, mayHoldNul: pendingNul }];
    }
  } finally {
    closeSync(fd);
    // The lines handed out are views into it: it is reused only once the consumer is done.
    releaseBuffer(buffer);
  }
}
