import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
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

/** The compiled worker; tests that run the TypeScript sources use the build beside them. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return fileURLToPath(new URL('./worker.js', import.meta.url));
  const built = fileURLToPath(new URL('../../dist/scan/worker.js', import.meta.url));
  if (!existsSync(built)) throw new Error(`${built}: the scan worker is not built; run npm run build`);
  return built;
}

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
    for (const i of queue) done(i, await scanFile(files[i]!, ctx));
    return rows;
  }
  const script = workerFile();
  await new Promise<void>((resolveAll, rejectAll) => {
    let running = 0;
    const start = () => {
      const worker = new Worker(script, { workerData: ctx });
      let current: number | null = null;
      running++;
      const next = () => {
        current = queue.shift() ?? null;
        if (current === null) {
          void worker.terminate();
          return;
        }
        worker.postMessage({ id: current, file: files[current] });
      };
      worker.on('message', (m: { id: number; row: ScanRow }) => {
        done(m.id, m.row);
        next();
      });
      // A file that kills its worker (out of memory, a bug) is reported as unreadable; a new worker takes over.
      worker.on('error', (err) => {
        if (current !== null) done(current, failedRow(files[current]!, err));
        current = null;
      });
      worker.on('exit', () => {
        running--;
        if (current !== null) {
          done(current, failedRow(files[current]!, new Error('the scan worker stopped')));
          current = null;
        }
        if (queue.length > 0) start();
        else if (running === 0) resolveAll();
      });
      worker.on('online', next);
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
