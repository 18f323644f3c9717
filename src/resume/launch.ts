import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { RecoveryFailed } from '../errors.js';

/** The signals sent to ccrescue that runForeground passes on to the process it started. */
export const PASSED_ON_SIGNALS = ['SIGTERM', 'SIGHUP'] as const;

/**
 * Runs the client in the foreground on this terminal and resolves with its exit code (128 + the
 * signal's number when a signal ended it). With `stdoutToStderr`, its stdout goes to ccrescue's
 * stderr, keeping stdout for ccrescue's JSON. Ctrl+C reaches the client through the terminal, so
 * ccrescue ignores it meanwhile; a SIGTERM or SIGHUP sent to ccrescue is passed on.
 */
export function runForeground(bin: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; stdoutToStderr?: boolean; what?: string; notFound?: string }): Promise<number> {
  // After -i, this process may still be reading the terminal: every key must reach the client.
  if (process.stdin.isTTY) {
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd, env: opts.env, stdio: opts.stdoutToStderr ? ['inherit', 2, 'inherit'] : 'inherit' });
    const ignore = (): void => undefined;
    const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
    const cleanup = (): void => {
      process.off('SIGINT', ignore);
      for (const s of PASSED_ON_SIGNALS) process.off(s, forward);
    };
    process.on('SIGINT', ignore);
    for (const s of PASSED_ON_SIGNALS) process.on(s, forward);
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(new RecoveryFailed(`${bin}: cannot start ${opts.what ?? 'the client'} (${err.code === 'ENOENT' ? (opts.notFound ?? 'not found; name it with --claude-bin') : err.message})`));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}
