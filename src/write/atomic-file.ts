import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

const FLUSH_BYTES = 1 << 20;

/**
 * A file written whole or not at all: bytes go to a temp file beside the target (buffered, a
 * megabyte at a time), which is fsynced and renamed over the target on commit, and removed on
 * abort. The target is never seen half-written.
 */
export class AtomicFile {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(
    readonly target: string,
    private readonly temp: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(target: string): Promise<AtomicFile> {
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    return new AtomicFile(target, temp, await open(temp, 'wx', 0o600));
  }

  /** Queues bytes (the caller must not reuse the buffer) and writes once a megabyte is queued. */
  async write(chunk: Buffer | string): Promise<void> {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.bytes += b.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.pendingBytes = 0;
    await this.handle.write(chunk);
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    await rename(this.temp, this.target);
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
  }

  /** Writes the whole text atomically. */
  static async writeText(target: string, text: string): Promise<void> {
    const file = await AtomicFile.create(target);
    try {
      await file.write(text);
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
  }
}
