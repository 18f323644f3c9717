// A terminal for tests: spawns a command in a pseudo-terminal (node-pty), keeps everything written to it
// (ANSI escapes stripped), and lets each step wait for what is on screen before the next key is sent.
// For full-screen programs, which place text with cursor moves, it also keeps a model of the screen.
import { stripVTControlCharacters } from 'node:util';
import pty from 'node-pty';
import { Screen } from './screen.js';

/** An escape sequence cut off at the end of a chunk: kept for the next chunk. */
const PARTIAL = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*)?$/;

export class Term {
  readonly proc: pty.IPty;
  /** Everything written to the terminal, escapes stripped, `\r\n` as `\n`. Only grows. */
  text = '';
  /** Everything written to the terminal as it came, escapes included. Only grows. */
  raw = '';
  /** Where the next waitFor starts looking: every wait consumes what it matched. */
  private pos = 0;
  private carry = '';
  private listeners = new Set<() => void>();
  /** What the terminal shows now, as a full-screen program drew it. */
  readonly screen: Screen;
  exitCode: number | null = null;
  readonly exited: Promise<number>;

  constructor(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; cols?: number; rows?: number }) {
    const cols = opts.cols ?? 120;
    const rows = opts.rows ?? 40;
    this.screen = new Screen(cols, rows);
    this.proc = pty.spawn(file, args, { name: 'xterm-256color', cols, rows, cwd: opts.cwd, env: opts.env as Record<string, string> });
    this.proc.onData((d) => {
      this.raw += d;
      this.screen.write(d, () => {
        for (const l of this.listeners) l();
      });
      let chunk = this.carry + d;
      const cut = PARTIAL.exec(chunk);
      this.carry = cut ? cut[0] : '';
      if (cut) chunk = chunk.slice(0, cut.index);
      this.text += stripVTControlCharacters(chunk).replace(/\r\n/g, '\n').replace(/\r/g, '');
      for (const l of this.listeners) l();
    });
    this.exited = new Promise((resolve) => {
      this.proc.onExit(({ exitCode }) => {
        this.exitCode = exitCode;
        for (const l of this.listeners) l();
        resolve(exitCode);
      });
    });
  }

  /**
   * Waits until `what` appears after the previous match, and consumes it; the text between is
   * returned, so a caller can check what was shown before it. Fails on timeout or when the
   * process exits without having shown it.
   */
  waitFor(what: string | RegExp, timeoutMs = 10_000): Promise<string> {
    return this.until(
      () => {
        const rest = this.text.slice(this.pos);
        let at = -1;
        let len = 0;
        if (typeof what === 'string') {
          at = rest.indexOf(what);
          len = what.length;
        } else {
          const m = new RegExp(what.source, what.flags.replace('g', '')).exec(rest);
          if (m) [at, len] = [m.index, m[0].length];
        }
        if (at < 0) return null;
        this.pos += at + len;
        return rest.slice(0, at + len);
      },
      timeoutMs,
      (why) => `${why} ${String(what)}; after the last match it showed:\n${this.text.slice(this.pos).slice(-3000)}`,
    );
  }

  /**
   * Waits until the screen, as it is now (its rows joined with `\n`, trailing blanks cut), matches
   * `what`; resolves with the match. Unlike waitFor, nothing is consumed. Fails on timeout or when
   * the process exits first, with what the screen showed.
   */
  waitForScreen(what: string | RegExp, timeoutMs = 10_000): Promise<string> {
    return this.until(
      () => {
        const shown = this.screen.text();
        return (typeof what === 'string' ? (shown.includes(what) ? what : null) : new RegExp(what.source, what.flags.replace('g', '')).exec(shown)?.[0]) ?? null;
      },
      timeoutMs,
      (why) => `${why} ${String(what)} on the screen; the screen:\n${this.screen.capture()}`,
    );
  }

  /** Resolves with the first non-null `check()`, run now and after every output; rejects on exit or timeout. */
  private until(check: () => string | null, timeoutMs: number, explain: (why: string) => string): Promise<string> {
    return new Promise((resolve, reject) => {
      const first = check();
      if (first !== null) return resolve(first);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const listener = () => {
        const found = check();
        if (found !== null) {
          done();
          resolve(found);
        } else if (this.exitCode !== null) {
          done();
          reject(new Error(explain(`exited (${this.exitCode}) without showing`)));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(explain(`timed out after ${timeoutMs} ms waiting for`)));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  send(keys: string): void {
    this.proc.write(keys);
  }

  /** The exit code, once the process has ended. */
  async exit(timeoutMs = 10_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms; it showed:\n${this.text.slice(-3000)}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
