// A scan worker: analyses the files its parent sends, one at a time, and answers with their rows.
import { parentPort, workerData } from 'node:worker_threads';
import { scanFile, type ScanContext } from './scan-file.js';
import type { FoundFile } from './discover.js';

const ctx = workerData as ScanContext;
parentPort!.on('message', (job: { id: number; file: FoundFile }) => {
  void scanFile(job.file, ctx).then((row) => parentPort!.postMessage({ id: job.id, row }));
});
