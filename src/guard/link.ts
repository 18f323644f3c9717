import { EventEmitter } from 'node:events';
import { failureReason, waitForApi, type CheckEvent, type CheckResult } from '../resume/health.js';

export interface LinkEvents {
  /** A request could not reach the upstream; checks begin. */
  down: [reason: string];
  check: [event: CheckEvent];
  /** The upstream answered enough checks in a row; `attempts` checks were made over `downMs`. */
  up: [attempts: number, downMs: number];
}

/**
 * Whether the upstream can be reached. It is taken as up until a request fails to reach it; it is
 * then down, and checked (1 s, 2 s, 4 s … up to 30 s apart) until it answers twice in a row.
 * Requests that find it down wait on `whenUp` instead of failing.
 */
export class UpstreamLink extends EventEmitter<LinkEvents> {
  private downSince: number | null = null;
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  /** Why the upstream was last found unreachable, by a request or a check. */
  lastFailure: string | null = null;

  constructor(private readonly check: () => Promise<CheckResult>) {
    super();
  }

  get isDown(): boolean {
    return this.downSince !== null;
  }

  /** A request could not reach the upstream: from now on requests wait until the checks pass. */
  markDown(reason: string): void {
    this.lastFailure = reason;
    if (this.downSince !== null || this.stopped) return;
    this.downSince = Date.now();
    this.emit('down', reason);
    void this.watch();
  }

  private async watch(): Promise<void> {
    const result = await waitForApi({
      check: async () => {
        if (this.stopped) return { ok: true, status: null, reason: null, ms: 0 };
        // A check that throws has failed: it must not end the checks, or the link stays down for good.
        return this.check().catch((err: unknown) => ({ ok: false, status: null, reason: failureReason(err), ms: 0 }));
      },
      sleep: (ms) => this.sleep(ms),
      onCheck: (e) => {
        if (this.stopped) return;
        if (!e.result.ok) this.lastFailure = e.result.reason;
        this.emit('check', e);
      },
    }).catch(() => null);
    if (this.stopped || result === null) return;
    const downMs = Date.now() - (this.downSince ?? Date.now());
    this.downSince = null;
    this.emit('up', result.attempts, downMs);
    for (const resume of [...this.waiters]) resume();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stopped) return reject(new Error('stopped'));
      this.wake = () => reject(new Error('stopped'));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.wake = null;
        resolve();
      }, ms);
    });
  }

  /** Resolves true once the upstream is up (at once when it is), false when `ms` pass first or `signal` aborts. */
  whenUp(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.downSince === null) return Promise.resolve(true);
    if (this.stopped || ms <= 0 || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (up: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(onUp);
        signal?.removeEventListener('abort', onAbort);
        resolve(up);
      };
      const onUp = (): void => done(true);
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.waiters.add(onUp);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Ends the checks; waiting requests are released as not up. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    for (const resume of [...this.waiters]) resume();
  }
}
