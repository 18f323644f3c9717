import { Agent, EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CCRESCUE_VERSION } from '../version.js';
import { InputError } from '../errors.js';

export const DEFAULT_API_URL = 'https://api.anthropic.com';
/** Backoff after failed checks: 1 s, 2 s, 4 s … capped at 30 s. */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 30_000;
/** Connectivity counts as back after this many successful checks in a row. */
export const SUCCESSES_NEEDED = 2;
/** A check that gets no answer in this time has failed. */
export const CHECK_TIMEOUT_MS = 5000;

/**
 * The API the client will talk to: `$ANTHROPIC_BASE_URL`, else the `env` block of Claude Code's
 * settings (the project's `.claude/settings.local.json`, then `.claude/settings.json`, then
 * `<claude-dir>/settings.json`), else the default endpoint.
 */
export function apiBaseUrl(env: NodeJS.ProcessEnv = process.env, where: { claudeDir?: string; projectDir?: string } = {}): { url: string; from: string } {
  const raw = env.ANTHROPIC_BASE_URL?.trim();
  if (raw) return { url: raw, from: '$ANTHROPIC_BASE_URL' };
  const files = [
    ...(where.projectDir ? [join(where.projectDir, '.claude', 'settings.local.json'), join(where.projectDir, '.claude', 'settings.json')] : []),
    ...(where.claudeDir ? [join(where.claudeDir, 'settings.json')] : []),
  ];
  for (const file of files) {
    const value = settingsEnv(file)?.ANTHROPIC_BASE_URL;
    if (typeof value === 'string' && value.trim()) return { url: value.trim(), from: file };
  }
  return { url: DEFAULT_API_URL, from: DEFAULT_SOURCE };
}

/** The Claude Code settings file an `apiBaseUrl` answer came from, or null (the environment or the default). */
export function settingsFileOf(api: { from: string }): string | null {
  return api.from === '$ANTHROPIC_BASE_URL' || api.from === DEFAULT_SOURCE ? null : api.from;
}

const DEFAULT_SOURCE = 'the default endpoint';

function settingsEnv(file: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { env?: unknown };
    return parsed.env !== null && typeof parsed.env === 'object' ? (parsed.env as Record<string, unknown>) : null;
  } catch {
    return null; // absent or unreadable: Claude Code would not use it either
  }
}

/** The URL checked: the models list, which answers (401 without a key) wherever the Messages API does. */
export function healthUrl(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new InputError(`${base}: not a URL to check the API at`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`${base}: the API URL must be http or https`);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/models`;
  return url;
}

export interface CheckResult {
  ok: boolean;
  /** The HTTP status, when the server answered. */
  status: number | null;
  /** Why the check failed, in a few words. */
  reason: string | null;
  ms: number;
}

/** The delay before the next check after `failures` failed checks in a row (the first failure waits 1 s). */
export function backoffDelay(failures: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
}

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
let sharedAgent: Dispatcher | undefined;

/** Honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY, as the client does; a direct connection when none is set. */
export function apiDispatcher(): Dispatcher {
  if (sharedAgent) return sharedAgent;
  if (!PROXY_VARS.some((v) => process.env[v])) return (sharedAgent = new Agent());
  // undici marks EnvHttpProxyAgent experimental with a process warning; it would be the only line of noise.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
    if (code !== 'UNDICI-EHPA') (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return (sharedAgent = new EnvHttpProxyAgent());
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * One health check: a GET without credentials. Any answer below 500 means the API is reachable
 * (no key is sent, so 401 is the usual answer); 5xx, a refused or reset connection, a failed
 * lookup or no answer within the timeout mean it is not.
 */
export async function checkOnce(url: URL, timeoutMs: number = CHECK_TIMEOUT_MS, dispatcher: Dispatcher = apiDispatcher()): Promise<CheckResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  try {
    const res = await request(url, { method: 'GET', dispatcher, signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': `ccrescue/${CCRESCUE_VERSION}`, 'anthropic-version': '2023-06-01' } });
    await res.body.dump();
    const ok = res.statusCode < 500;
    return { ok, status: res.statusCode, reason: ok ? null : `HTTP ${res.statusCode}`, ms: ms() };
  } catch (err) {
    return { ok: false, status: null, reason: failureReason(err), ms: ms() };
  }
}

export function failureReason(err: unknown): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'name lookup failed';
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return 'network unreachable';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out';
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
  return (code ?? e.message ?? String(err)).split('\n')[0]!;
}

/** What the wait reports, one event per check. */
export interface CheckEvent {
  attempt: number;
  result: CheckResult;
  /** Successful checks in a row, this one included. */
  streak: number;
  /** The delay before the next check; null once connectivity is back. */
  nextInMs: number | null;
}

export interface WaitOptions {
  check: () => Promise<CheckResult>;
  /** Waits `ms`; rejects when the wait is stopped. */
  sleep: (ms: number) => Promise<void>;
  onCheck?: (e: CheckEvent) => void;
  successesNeeded?: number;
}

/**
 * Checks until the API answers `successesNeeded` times in a row. After a failure the next check
 * waits 1 s, 2 s, 4 s … up to 30 s; after a success it waits 1 s, and a failure then starts the
 * backoff again, so a flapping link is not taken for a working one.
 */
export async function waitForApi(o: WaitOptions): Promise<{ attempts: number }> {
  const needed = o.successesNeeded ?? SUCCESSES_NEEDED;
  let failures = 0;
  let streak = 0;
  for (let attempt = 1; ; attempt++) {
    const result = await o.check();
    if (result.ok) {
      streak++;
      failures = 0;
    } else {
      streak = 0;
      failures++;
    }
    const done = streak >= needed;
    const nextInMs = done ? null : result.ok ? BACKOFF_BASE_MS : backoffDelay(failures);
    o.onCheck?.({ attempt, result, streak, nextInMs });
    if (nextInMs === null) return { attempts: attempt };
    await o.sleep(nextInMs);
  }
}
