import { link, lstat, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pidRuns } from '../inspect/clients.js';

const FLUSH_BYTES = 1 << 20;

/** Our temp files: `.<target name>.<pid>-<8 hex digits>.tmp`. */
const TEMP_NAME = /^\..+\.(\d+)-[0-9a-f]{8}\.tmp$/;

/** A temp file untouched this long, of a pid that no longer runs, was left by a killed run. */
const STALE_MS = 10 * 60_000;

export interface AtomicFileOptions {
  /**
   * Never replace a file already under the target's name: commit fails with EEXIST instead. The
   * check and the naming are one step (a hard link), so two writers racing for one name cannot both win.
   */
  exclusive?: boolean;
}

/**
 * A file written whole or not at all: bytes go to a temp file beside the target (buffered, a
 * megabyte at a time), which is fsynced and renamed over the target on commit, and removed on
 * abort. The target is never seen half-written. `prepare` puts every byte on disk without naming
 * the target yet, so that several files can be made durable first and named last.
 */
export class AtomicFile {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private prepared = false;
  private committed = false;
  /** Bytes written so far. */
  bytes = 0;

  private constructor(
    readonly target: string,
    /** The temp file beside the target that holds the bytes until commit. */
    readonly temp: string,
    private readonly handle: FileHandle,
    private readonly exclusive: boolean,
  ) {}

  static async create(target: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    return new AtomicFile(target, temp, await open(temp, 'wx', 0o600), options.exclusive ?? false);
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
    // A write may take only part of the chunk (a disk filling up does that before it fails with
    // ENOSPC): the rest is written until it is all on disk or the write fails.
    for (let at = 0; at < chunk.length; ) {
      const { bytesWritten } = await this.handle.write(chunk, at, chunk.length - at);
      if (bytesWritten <= 0) throw new Error(`${this.temp}: the write stopped at byte ${at} of ${chunk.length}`);
      at += bytesWritten;
    }
  }

  /** Writes what is queued, fsyncs and closes the temp file: every byte is on disk, none under the target's name yet. */
  async prepare(): Promise<void> {
    if (this.prepared) return;
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    this.prepared = true;
  }

  /** Prepares the file if need be and puts it under the target's name in one step. */
  async commit(): Promise<void> {
    await this.prepare();
    if (!this.exclusive) {
      await rename(this.temp, this.target);
    } else {
      try {
        await link(this.temp, this.target);
      } catch (err) {
        // A file system without hard links (some network and FAT mounts): check, then rename. Only
        // there can a writer that names the target between the two steps be replaced.
        if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        if (await lstat(this.target).then(() => true, () => false)) throw Object.assign(new Error(`EEXIST: file already exists, rename '${this.temp}' -> '${this.target}'`), { code: 'EEXIST' });
        await rename(this.temp, this.target);
      }
      // The target holds the bytes now; a temp name left by a failed unlink holds the same bytes.
      await unlink(this.temp).catch(() => undefined);
    }
    this.committed = true;
  }

  /** Removes the temp file; once committed, does nothing (the target stays). */
  async abort(): Promise<void> {
    if (this.committed) return;
    if (!this.prepared) await this.handle.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
  }

  /** Writes the whole text atomically. */
  static async writeText(target: string, text: string, options: AtomicFileOptions = {}): Promise<void> {
    const file = await AtomicFile.create(target, options);
    try {
      await file.write(text);
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
  }

  /**
   * Removes from a folder the temp files that a killed writer left: named as ours, of a pid that
   * no longer runs, unchanged for ten minutes (a writer in another pid namespace looks dead but
   * keeps its file changing). Best effort: returns the names removed, never throws.
   */
  static async removeStale(dir: string, now = Date.now()): Promise<string[]> {
    const removed: string[] = [];
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const pid = Number(TEMP_NAME.exec(name)?.[1] ?? NaN);
      if (!Number.isSafeInteger(pid) || pid <= 0 || pidRuns(pid)) continue;
      const path = join(dir, name);
      const info = await stat(path).catch(() => null);
      if (info === null || !info.isFile() || now - info.mtimeMs < STALE_MS) continue;
      if (await unlink(path).then(() => true, () => false)) removed.push(name);
    }
    return removed;
  }
}

