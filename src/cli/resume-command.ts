import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import type { WriteStream } from 'node:tty';
import { recoveryOptions, runRecovery, toJson, type RecoverFlags } from './recover-command.js';
import { loadSettings, withFlags } from '../settings/settings.js';
import { apiBaseUrl, BACKOFF_BASE_MS, BACKOFF_CAP_MS, checkOnce, healthUrl, settingsFileOf, SUCCESSES_NEEDED, waitForApi, type CheckEvent } from '../resume/health.js';
import { runForeground } from '../resume/launch.js';
import { shellQuote } from '../write/prompt.js';
import { isPlainSessionId, resolveClaudeDir } from '../locate/claude-dir.js';
import { Cancelled, InputError } from '../errors.js';
import type { RecoverResult } from '../recover.js';

interface ResumeFlags extends RecoverFlags {
  wait?: boolean;
  autoResume?: boolean;
  claudeBin?: string;
  apiUrl?: string;
}

export function registerResume(program: Command, passthrough: () => string[]): void {
  recoveryOptions(
    program
      .command('resume')
      .description('recover a session, wait until the API answers again, then resume it in Claude Code')
      .argument('[session]', 'a .jsonl path, a session id or unique prefix (default: the newest session of the current directory)')
      .usage('[options] [session] [-- claude-options...]')
      .option('--wait', 'wait until the API answers twice in a row before resuming (default; settings: network_resilience.enabled)')
      .option('--no-wait', 'resume at once, without checking the API')
      .option('--auto-resume', 'start the client once the API is back (default; settings: auto_resume)')
      .option('--no-auto-resume', 'print the resume command instead of running it')
      .option('--claude-bin <path>', 'the Claude Code executable (default: claude on PATH)')
      .option('--api-url <url>', 'the API to wait for (default: $ANTHROPIC_BASE_URL, else Claude Code settings env, else https://api.anthropic.com)'),
  )
    .addHelpText('after', '\nArguments after -- go to claude after the session and prompt, e.g. -- --model opus.')
    .action(async (session: string | undefined, flags: ResumeFlags) => {
      const settings = withFlags(loadSettings(flags.settings).settings, flags);
      // A URL that cannot be checked is bad usage: refuse it before anything is written.
      for (const given of [flags.apiUrl, process.env.ANTHROPIC_BASE_URL?.trim()]) if (given) healthUrl(given);
      const result = await runRecovery(session, flags, settings);
      if (result === null) return;
      const plan = launchPlan(result, flags, passthrough());
      if (plan === null) return;
      const err = process.stderr;
      err.write(summary(result));
      // The project's Claude Code settings are read in the project dir (--project-dir, else the session's cwd), never through `/`.
      const settingsDir = flags.projectDir ?? (plan.cwd === dirname(plan.cwd) ? undefined : plan.cwd);
      const api = flags.apiUrl ? { url: flags.apiUrl, from: '--api-url' } : apiBaseUrl(process.env, { claudeDir: resolveClaudeDir(flags.claudeDir), projectDir: settingsDir });
      const checks = settings.enabled ? await waitUntilReachable(api, plan.command) : [];
      let clientExit: number | null = null;
      if (settings.auto_resume) {
        err.write(`starting: ${plan.bin} --resume ${plan.sessionId}${plan.prompt ? ' <continuation prompt>' : ''} (in ${plan.cwd})\n`);
        clientExit = await runForeground(plan.bin, plan.args, { cwd: plan.cwd, env: plan.env, stdoutToStderr: flags.json });
        process.exitCode = clientExit;
      } else if (!flags.json) {
        process.stdout.write(`${plan.command}\n`);
      }
      if (flags.json) {
        const doc = { ...toJson(result), resume_command: plan.command, checks, started: settings.auto_resume, client_exit_code: clientExit };
        process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      }
    });
}

interface LaunchPlan {
  bin: string;
  args: string[];
  sessionId: string;
  prompt: string | null;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The same, as a command line the user can run. */
  command: string;
}

/** What to start: the repaired session with its prompt, or a healthy session as it is; null when nothing was written. */
function launchPlan(r: RecoverResult, flags: ResumeFlags, extra: string[]): LaunchPlan | null {
  const s = r.snapshot;
  if (r.status === 'planned') {
    process.stderr.write(`${r.declined ? 'nothing written' : 'dry run'}: not resuming\n`);
    return null;
  }
  const sessionId = r.status === 'healthy' ? (s.session_id ?? null) : s.repaired_session_id;
  if (!sessionId) throw new InputError(`${r.file}: the session has no id to resume`);
  // A healthy session keeps the transcript's own id: one like `--settings=…` would reach the client as an option.
  if (!isPlainSessionId(sessionId) || sessionId.startsWith('-')) throw new InputError(`${r.file}: the session id ${JSON.stringify(sessionId)} is not a plain id; not resuming it`);
  const prompt = r.status === 'healthy' ? null : s.continuation_prompt;
  const bin = flags.claudeBin ?? 'claude';
  const args = ['--resume', sessionId, ...(prompt ? [prompt] : []), ...extra];
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The client looks the session up in its config dir. The default ~/.claude is not named: with
  // CLAUDE_CONFIG_DIR set, the client reads its global config from $CLAUDE_CONFIG_DIR/.claude.json
  // instead of ~/.claude.json, and would lose its onboarding, trust and key approvals.
  const configDir = flags.claudeDir === undefined ? undefined : resolveClaudeDir(flags.claudeDir);
  const nameDir = configDir !== undefined && configDir !== join(homedir(), '.claude');
  if (nameDir) env.CLAUDE_CONFIG_DIR = configDir;
  else if (configDir !== undefined) delete env.CLAUDE_CONFIG_DIR;
  const cwd = clientCwd(r, flags.projectDir);
  // The assignment goes right before the client: `VAR=x cd dir && claude` gives VAR to cd alone.
  const command = [`cd ${shellQuote(cwd)} &&`, nameDir ? `CLAUDE_CONFIG_DIR=${shellQuote(configDir)}` : '', shellQuote(bin), ...args.map(shellQuote)].filter((x) => x !== '').join(' ');
  return { bin, args, sessionId, prompt, cwd, env, command };
}

/** Claude Code finds a session through the folder of its working directory: start it where the session ran. */
function clientCwd(r: RecoverResult, projectDir: string | undefined): string {
  const recorded = r.analysis.index.cwd;
  for (const dir of [recorded, projectDir]) if (dir && existsSync(dir) && statSync(dir).isDirectory()) return dir;
  process.stderr.write(`warning: the session's directory ${recorded ?? '(not recorded)'} does not exist; starting the client in ${process.cwd()}\n`);
  return process.cwd();
}

function summary(r: RecoverResult): string {
  const s = r.snapshot;
  if (r.status === 'healthy') return `${r.file}: healthy; resuming it as it is\n`;
  const calls = s.active_tool_calls.length;
  return `${r.file}: recovered (${s.repairs.length} repair${s.repairs.length === 1 ? '' : 's'}${calls ? `, ${calls} interrupted call${calls === 1 ? '' : 's'}` : ''})\nrepaired session: ${r.written.session}\nrecovery snapshot: ${r.written.snapshot}\n`;
}

/** Health checks with backoff until the API answers twice in a row; a countdown on stderr; Ctrl+C stops with the command to run later. */
async function waitUntilReachable(api: { url: string; from: string }, command: string): Promise<CheckEvent[]> {
  const base = api.url;
  const url = healthUrl(base);
  const err = process.stderr as WriteStream;
  const tty = Boolean(err.isTTY);
  const stop = new AbortController();
  const onInt = (): void => stop.abort();
  process.on('SIGINT', onInt);
  err.write(`waiting for the API at ${base}${settingsFileOf(api) === null ? '' : ` (from ${api.from})`} (${SUCCESS_WORDS}; Ctrl+C to stop)\n`);
  const checks: CheckEvent[] = [];
  try {
    await waitForApi({
      check: () => checkOnce(url),
      sleep: (ms) => countdown(ms, stop.signal, tty ? err : null),
      onCheck: (e) => {
        checks.push(e);
        err.write(`${checkLine(e)}\n`);
      },
    });
    return checks;
  } catch (e) {
    if (stop.signal.aborted) {
      if (tty) err.write('\n');
      err.write(`stopped waiting; the repaired session is saved. Resume it later with:\n${command}\n`);
      throw new Cancelled('stopped while waiting for the API');
    }
    throw e;
  } finally {
    process.off('SIGINT', onInt);
  }
}

const SUCCESS_WORDS = `back after ${SUCCESSES_NEEDED} successful checks in a row; backoff ${[1, 2, 4].map((n) => `${(n * BACKOFF_BASE_MS) / 1000} s`).join(', ')} … ${BACKOFF_CAP_MS / 1000} s`;

export function checkLine(e: CheckEvent): string {
  const r = e.result;
  const head = `check ${e.attempt}: ${r.ok ? `answered (HTTP ${r.status}, ${r.ms} ms), ${e.streak} in a row` : `unreachable (${r.reason})`}`;
  return e.nextInMs === null ? `${head}; the API is back` : `${head}; next check in ${e.nextInMs / 1000} s`;
}

/** Sleeps `ms`, redrawing a countdown on a terminal every second; rejects when stopped. */
function countdown(ms: number, signal: AbortSignal, tty: WriteStream | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    let timer: NodeJS.Timeout | undefined;
    const draw = (): void => {
      const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      tty?.write(`\r\u001b[Knext check in ${left} s …`);
    };
    const finish = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      tty?.write('\r\u001b[K');
    };
    const onAbort = (): void => {
      finish();
      reject(new Cancelled('stopped'));
    };
    const tick = (): void => {
      const left = end - Date.now();
      if (left <= 0) {
        finish();
        resolve();
        return;
      }
      draw();
      timer = setTimeout(tick, Math.min(1000, left));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    tick();
  });
}


