// A guard snapshot worker: analyses one live session as `recover --dry-run` does and writes its
// recovery snapshot, off the proxy's thread so that streams keep flowing meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { takeSnapshot, type SnapshotJob } from './snapshot.js';

void takeSnapshot(workerData as SnapshotJob).then((outcome) => parentPort!.postMessage(outcome));
