import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { recover } from '../recover.js';
import { AtomicFile } from '../write/atomic-file.js';
import { encodeCwd, isPlainSessionId, projectFolders } from '../locate/claude-dir.js';
import { systemReason } from '../errors.js';
import { compiledWorker } from '../worker-file.js';

export interface SnapshotJob {
  file: string;
  claudeDir: string;
  target: string;
}

/** What a snapshot of a live session came to. */
export interface SnapshotOutcome {
  sessionId: string;
  /** The session file, when one was found. */
  file: string | null;
  /** The snapshot written, or null. */
  snapshot: string | null;
  phase: string | null;
  /** Tool calls the transcript shows without a result. */
  pendingCalls: number;
  /** Why no snapshot was written. */
  error: string | null;
}

/**
 * How long a snapshot taken at an outage waits for the session file to appear: a new session's first
 * request can reach the guard, and find the upstream unreachable, before the client has written its file.
 */
export const SESSION_FILE_WAIT_MS = 5_000;
const SESSION_FILE_POLL_MS = 100;

/** The snapshot of a live session lives beside it, named after it: `<id>.recovery.json`. */
export function liveSnapshotPath(sessionFile: string): string {
  return sessionFile.replace(/\.jsonl$/, '') + '.recovery.json';
}

/** Analyses the session as `recover --dry-run` does (a live client is expected: forced) and writes its snapshot atomically. */
export async function takeSnapshot(job: SnapshotJob): Promise<Omit<SnapshotOutcome, 'sessionId'>> {
  try {
    const result = await recover({ file: job.file, claudeDir: job.claudeDir, dryRun: true, force: true });
    await AtomicFile.writeText(job.target, JSON.stringify(result.snapshot, null, 2) + '\n');
    return { file: job.file, snapshot: job.target, phase: result.snapshot.disconnect_phase, pendingCalls: result.snapshot.active_tool_calls.length, error: null };
  } catch (err) {
    return { file: job.file, snapshot: null, phase: null, pendingCalls: 0, error: systemReason(err).split('\n')[0]! };
  }
}

/** The session file of `id` under the Claude dir: the folder of `cwd` first, then every project folder. */
export function findSessionFile(claudeDir: string, id: string, cwd?: string): string | null {
  if (!isPlainSessionId(id)) return null;
  const name = `${id}.jsonl`;
  const folders = cwd === undefined ? projectFolders(claudeDir) : [join(claudeDir, 'projects', encodeCwd(cwd)), ...projectFolders(claudeDir)];
  return folders.map((folder) => join(folder, name)).find((path) => existsSync(path)) ?? null;
}

/**
 * Takes the snapshots of live sessions, one worker thread per snapshot. Requests for a session
 * whose snapshot is being taken are folded into one more run after it, so the last snapshot
 * always reflects the session as it was at the last disconnect.
 */
export class SnapshotKeeper {
  private readonly running = new Map<string, Promise<SnapshotOutcome>>();
  private readonly queued = new Map<string, Promise<SnapshotOutcome>>();

  constructor(
    private readonly claudeDir: string,
    private readonly cwd?: string,
  ) {}

  /** `waitForFileMs`: while the session has no file yet, look again every 100 ms for this long. */
  take(sessionId: string, waitForFileMs = 0): Promise<SnapshotOutcome> {
    const queued = this.queued.get(sessionId);
    if (queued) return queued;
    const running = this.running.get(sessionId);
    if (running) {
      const next = running.then(() => {
        this.queued.delete(sessionId);
        return this.start(sessionId, waitForFileMs);
      });
      this.queued.set(sessionId, next);
      return next;
    }
    return this.start(sessionId, waitForFileMs);
  }

  private start(sessionId: string, waitForFileMs: number): Promise<SnapshotOutcome> {
    const run = this.run(sessionId, waitForFileMs).finally(() => {
      if (this.running.get(sessionId) === run) this.running.delete(sessionId);
    });
    this.running.set(sessionId, run);
    return run;
  }

  private async run(sessionId: string, waitForFileMs: number): Promise<SnapshotOutcome> {
    let file = findSessionFile(this.claudeDir, sessionId, this.cwd);
    for (const until = Date.now() + waitForFileMs; file === null && isPlainSessionId(sessionId) && Date.now() < until; ) {
      await sleep(SESSION_FILE_POLL_MS);
      file = findSessionFile(this.claudeDir, sessionId, this.cwd);
    }
    if (file === null) return { sessionId, file: null, snapshot: null, phase: null, pendingCalls: 0, error: `no session file for ${sessionId} under ${join(this.claudeDir, 'projects')} yet` };
    const job: SnapshotJob = { file, claudeDir: this.claudeDir, target: liveSnapshotPath(file) };
    const outcome = await new Promise<Omit<SnapshotOutcome, 'sessionId'>>((resolve) => {
      let worker: Worker;
      try {
        worker = new Worker(compiledWorker(import.meta.url, './snapshot-worker.js', 'guard'), { workerData: job });
      } catch (err) {
        resolve({ file, snapshot: null, phase: null, pendingCalls: 0, error: (err as Error).message });
        return;
      }
      let answered = false;
      worker.once('message', (m: Omit<SnapshotOutcome, 'sessionId'>) => {
        answered = true;
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', (err) => resolve({ file, snapshot: null, phase: null, pendingCalls: 0, error: err.message.split('\n')[0]! }));
      worker.once('exit', (code) => {
        if (!answered) resolve({ file, snapshot: null, phase: null, pendingCalls: 0, error: `the snapshot worker stopped (exit ${code})` });
      });
    });
    return { sessionId, ...outcome };
  }

  /** Resolves once every snapshot under way is written. */
  async settled(): Promise<void> {
    while (this.running.size > 0 || this.queued.size > 0) await Promise.allSettled([...this.running.values(), ...this.queued.values()]);
  }
}
