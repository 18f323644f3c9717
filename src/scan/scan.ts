import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compiledWorker } from '../worker-file.js';
import { listedRow, scanFile, type ScanContext, type ScanRow } from './scan-file.js';
import type { FoundFile } from './discover.js';

export interface ScanProgress {
  files: number;
  filesTotal: number;
  bytes: number;
  bytesTotal: number;
}

export interface ScanOptions extends ScanContext {
  /** Worker threads; 0 analyses in this thread (default: one per core, at most one per file). */
  jobs?: number;
  onProgress?: (p: ScanProgress) => void;
}

/** Files each worker takes at once: one file's awaits are spent on another's work (a little faster than one at a time on the bench tree). */
const IN_FLIGHT = 2;

/** Analyses every file, in parallel across worker threads; rows come back in the order of `files`. */
export async function scanFiles(files: FoundFile[], opts: ScanOptions): Promise<ScanRow[]> {
  const ctx: ScanContext = { claudeDir: opts.claudeDir, clientRecords: opts.clientRecords };
  const rows: ScanRow[] = new Array(files.length);
  const progress: ScanProgress = { files: 0, filesTotal: files.length, bytes: 0, bytesTotal: files.reduce((n, f) => n + f.size, 0) };
  const done = (i: number, row: ScanRow) => {
    rows[i] = row;
    progress.files++;
    progress.bytes += files[i]!.size;
    opts.onProgress?.(progress);
  };
  // The largest files first, so no worker is left with a big one at the end.
  const queue = files.map((_, i) => i).sort((a, b) => files[b]!.size - files[a]!.size);
  const jobs = Math.min(opts.jobs ?? availableParallelism(), queue.length);
  if (jobs <= 0) {
    // Still a few files at a time: one file's reads overlap another's analysis.
    const take = async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) done(i, await scanFile(files[i]!, ctx));
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, take));
    return rows;
  }
  const script = compiledWorker(import.meta.url, './worker.js', 'scan');
  // Files a crashed worker held: each is retried alone, so one bad file cannot take others with it.
  const solo: number[] = [];
  await new Promise<void>((resolveAll, rejectAll) => {
    let running = 0;
    const start = () => {
      const worker = new Worker(script, { workerData: ctx });
      const current = new Set<number>();
      let alone = false;
      running++;
      const post = (i: number) => {
        current.add(i);
        worker.postMessage({ id: i, file: files[i] });
      };
      const fill = () => {
        if (alone) return;
        if (current.size === 0 && solo.length > 0) {
          alone = true;
          post(solo.shift()!);
          return;
        }
        while (current.size < IN_FLIGHT && queue.length > 0) post(queue.shift()!);
        if (current.size === 0) void worker.terminate();
      };
      worker.on('message', (m: { id: number; row: ScanRow }) => {
        current.delete(m.id);
        alone = false;
        done(m.id, m.row);
        fill();
      });
      // A file that kills its worker (out of memory, a bug) is reported as unreadable; a new worker takes over.
      const lost = (err: Error) => {
        for (const i of current) {
          if (alone) done(i, failedRow(files[i]!, err));
          else solo.push(i);
        }
        current.clear();
      };
      worker.on('error', lost);
      worker.on('exit', () => {
        running--;
        lost(new Error('the scan worker stopped'));
        if (queue.length > 0 || solo.length > 0) start();
        else if (running === 0) resolveAll();
      });
      worker.on('online', fill);
    };
    try {
      for (let i = 0; i < jobs; i++) start();
    } catch (err) {
      rejectAll(err);
    }
  });
  return rows;
}

function failedRow(f: FoundFile, err: Error): ScanRow {
  return { ...listedRow(f), status: 'unreadable', reason: `${f.path}: could not be analysed: ${err.message.split('\n')[0]}` };
}
