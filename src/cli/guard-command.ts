import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadSettings, MAX_WAIT_MS, STREAM_TIMEOUT_MS, withFlags, type ResilienceSettings } from '../settings/settings.js';
import { apiBaseUrl, settingsFileOf } from '../resume/health.js';
import { PASSED_ON_SIGNALS, runForeground } from '../resume/launch.js';
import { Guard, type GuardEvent, type GuardStats } from '../guard/proxy.js';
import { SnapshotKeeper } from '../guard/snapshot.js';
import { resolveClaudeDir } from '../locate/claude-dir.js';
import { InputError } from '../errors.js';
import { checkLine } from './resume-command.js';

interface GuardFlags {
  port?: number;
  streamTimeoutMs?: number;
  maxWaitMs?: number;
  settings?: string;
  claudeDir?: string;
  json?: boolean;
}

/** Events kept for `--json`: a long outage's checks are many, so only the newest are kept. */
const KEPT_EVENTS = 1000;

const integer = (name: string, min: number, max: number) => (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}`);
  return n;
};

export function registerGuard(program: Command, passthrough: () => string[]): void {
  program
    .command('guard')
    .description('run a command (normally claude) through a loopback proxy that cuts silent streams and holds requests while the API is unreachable')
    .usage('[options] [-- command...]')
    .option('--port <n>', 'listen on this port (default: a free one); without a command, run the proxy alone', integer('--port', 0, 65535))
    .option('--stream-timeout-ms <ms>', `cut a streaming response silent this long (default ${STREAM_TIMEOUT_MS.default}; settings: stream_timeout_ms)`, integer('--stream-timeout-ms', STREAM_TIMEOUT_MS.min, STREAM_TIMEOUT_MS.max))
    .option('--max-wait-ms <ms>', `hold a request at most this long while the API is unreachable (default ${MAX_WAIT_MS.default}; settings: max_wait_ms)`, integer('--max-wait-ms', MAX_WAIT_MS.min, MAX_WAIT_MS.max))
    .option('--settings <file>', "ccrescue's settings file (default: $CCRESCUE_SETTINGS, else ~/.config/ccrescue/settings.json)")
    .option('--claude-dir <dir>', 'where the sessions are, for the snapshots (default: $CLAUDE_CONFIG_DIR, else ~/.claude)')
    .option('--json', 'print one JSON document at the end (the events, the counts, the exit code); the command’s stdout goes to stderr')
    .addHelpText(
      'after',
      '\nExamples:\n  ccrescue guard -- claude\n  ccrescue guard -- claude --resume <id>\n  ccrescue guard --port 8299    (then: ANTHROPIC_BASE_URL=http://127.0.0.1:8299 claude)',
    )
    .action(async (flags: GuardFlags) => {
      const command = passthrough();
      if (command.length === 0 && flags.port === undefined) throw new InputError('guard: name a command after -- (e.g. ccrescue guard -- claude), or a --port to run the proxy alone');
      if (command.length > 0 && !findExecutable(command[0]!)) throw new InputError(`${command[0]}: no such command${command[0]!.includes('/') ? '' : ' on PATH'}`);
      const settings = withFlags(loadSettings(flags.settings).settings, flags);
      const claudeDir = resolveClaudeDir(flags.claudeDir);
      const api = apiBaseUrl(process.env, { claudeDir, projectDir: process.cwd() });
      const guard = await Guard.start({
        upstream: api.url,
        port: flags.port,
        streamTimeoutMs: settings.stream_timeout_ms,
        maxWaitMs: settings.max_wait_ms,
        enabled: settings.enabled,
        snapshots: settings.enabled ? new SnapshotKeeper(claudeDir, process.cwd()) : null,
      });
      // Listening for the stop signals before the first line announces the guard: a supervisor may
      // send SIGTERM as soon as it reads it. With a command, one that comes before the command runs
      // is held and then passed on to it (killed at once, the guard would leave the command orphaned).
      const stopped = command.length === 0 ? untilStopped() : null;
      let early: NodeJS.Signals | null = null;
      const hold = (signal: NodeJS.Signals): void => void (early ??= signal);
      if (command.length > 0) for (const s of PASSED_ON_SIGNALS) process.on(s, hold);
      const events: GuardEvent[] = [];
      const err = process.stderr;
      guard.on('event', (e) => {
        events.push(e);
        if (events.length > KEPT_EVENTS) events.shift();
        err.write(`ccrescue guard: ${eventLine(e, guard.upstreamUrl, settings)}\n`);
      });
      const settingsFile = settingsFileOf(api);
      err.write(`ccrescue guard: ${guard.url} → ${guard.upstreamUrl}${settingsFile === null ? '' : ` (from ${settingsFile})`}; ${settings.enabled ? `streams silent for ${seconds(settings.stream_timeout_ms)} are cut, requests wait up to ${seconds(settings.max_wait_ms)} while the API is unreachable` : 'network_resilience.enabled is false: requests pass through, nothing is cut or held'}\n`);
      if (settingsFile !== null) {
        err.write(`ccrescue guard: warning: ${settingsFile} sets ANTHROPIC_BASE_URL for Claude Code; it may take precedence over the guard's, and then requests bypass it\n`);
      }
      let exitCode: number | null = null;
      try {
        if (command.length > 0) {
          const [bin, ...args] = command as [string, ...string[]];
          const running = runForeground(bin, args, {
            cwd: process.cwd(),
            env: { ...process.env, ANTHROPIC_BASE_URL: guard.url },
            stdoutToStderr: flags.json,
            what: 'the command',
            notFound: 'not found',
          });
          // The command is started and signals now reach it: the one held, too.
          for (const s of PASSED_ON_SIGNALS) process.off(s, hold);
          if (early) process.kill(process.pid, early);
          exitCode = await running;
          process.exitCode = exitCode;
        } else {
          await stopped;
        }
      } finally {
        await guard.close();
      }
      if (flags.json) process.stdout.write(JSON.stringify(jsonDoc(guard, settings, command, exitCode, events), null, 2) + '\n');
    });
}

/** Whether `bin` names an executable file, directly (with a slash) or through PATH, as a shell would find it. */
function findExecutable(bin: string): boolean {
  const runnable = (path: string): boolean => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  if (bin.includes('/')) return runnable(bin);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => runnable(join(dir || '.', bin)));
}

/** Runs until SIGINT, SIGTERM or SIGHUP. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, stop);
      resolve();
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
  });
}

function jsonDoc(guard: Guard, settings: ResilienceSettings, command: string[], exitCode: number | null, events: GuardEvent[]): Record<string, unknown> {
  const stats: GuardStats = guard.stats;
  return {
    listen: guard.url,
    upstream: guard.upstreamUrl,
    enabled: settings.enabled,
    stream_timeout_ms: settings.stream_timeout_ms,
    max_wait_ms: settings.max_wait_ms,
    command: command.length > 0 ? command[0] : null,
    exit_code: exitCode,
    requests: stats.requests,
    streams: stats.streams,
    streams_cut: stats.cut,
    requests_held: stats.held,
    events,
  };
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

/** One line per event. No header, key or body ever appears: only counts, times, ids and paths. */
export function eventLine(e: GuardEvent, upstream: string, settings: Pick<ResilienceSettings, 'stream_timeout_ms' | 'max_wait_ms'>): string {
  switch (e.type) {
    case 'lost': {
      const who = e.sessionId ? `session ${e.sessionId}` : 'a request';
      const blocks = `${e.blocks} complete content block${e.blocks === 1 ? '' : 's'} (${size(e.bytes)})`;
      const what =
        e.cause === 'silent'
          ? `the stream was silent for ${seconds(settings.stream_timeout_ms)}; cut it after ${blocks}, which Claude Code keeps before it asks again`
          : e.cause === 'dropped'
            ? `${e.reason} after ${blocks}, which Claude Code keeps before it asks again`
            : `${upstream} is unreachable (${e.reason}); requests wait until it answers twice in a row, each at most ${seconds(settings.max_wait_ms)}`;
      const s = e.snapshot;
      const saved = s?.snapshot
        ? `snapshot (${s.phase}, ${s.pendingCalls} call${s.pendingCalls === 1 ? '' : 's'} without a result): ${s.snapshot}`
        : `no snapshot (${s?.error ?? 'the request names no session'})`;
      const later = e.sessionId ? `; if the session dies, run: ccrescue recover ${e.sessionId}` : '';
      return `connection lost, ${who}: ${what}; ${saved}${later}`;
    }
    case 'check':
      return checkLine(e.check);
    case 'back':
      return `the API answers again, after ${e.attempts} check${e.attempts === 1 ? '' : 's'} over ${seconds(e.downMs)}; sending ${e.waiting} held request${e.waiting === 1 ? '' : 's'}`;
    case 'gave-up':
      return `a request${e.sessionId ? ` of session ${e.sessionId}` : ''} waited ${seconds(e.waitedMs)} and ${upstream} is still unreachable (${e.reason}); it gets the error`;
    case 'refused':
      return `refused a request (HTTP ${e.status}): ${e.reason}`;
  }
}
