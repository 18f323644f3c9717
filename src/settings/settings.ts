import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';

/**
 * `network_resilience` in ccrescue's settings file. Every key is optional; the defaults are the
 * ones documented in the README.
 */
/** The range and default of each duration key, shared with the flags that override them. */
export const STREAM_TIMEOUT_MS = { min: 1000, max: 3_600_000, default: 30_000 } as const;
export const MAX_WAIT_MS = { min: 0, max: 86_400_000, default: 300_000 } as const;

export const NetworkResilience = z.strictObject({
  /** Wait for the API before resuming (`resume`); cut silent streams and hold requests (`guard`). */
  enabled: z.boolean().default(true),
  /** A streaming response silent this long is cut by `guard`. */
  stream_timeout_ms: z.int().min(STREAM_TIMEOUT_MS.min).max(STREAM_TIMEOUT_MS.max).default(STREAM_TIMEOUT_MS.default),
  /** How long `guard` holds a request while the API is unreachable before passing the upstream's error on. */
  max_wait_ms: z.int().min(MAX_WAIT_MS.min).max(MAX_WAIT_MS.max).default(MAX_WAIT_MS.default),
  /** `resume` starts the client once the API answers; false: it prints the command instead. */
  auto_resume: z.boolean().default(true),
  /** An interrupted read-only call (Read, Grep …) is run again by default. */
  auto_retry_readonly_tools: z.boolean().default(true),
  /** An interrupted file change that is not on disk (Edit, Write …) is made again by default. */
  auto_retry_mutations: z.boolean().default(false),
});

export const Settings = z.strictObject({
  $schema: z.string().optional(),
  network_resilience: NetworkResilience.prefault({}),
});

export type Settings = z.infer<typeof Settings>;
export type ResilienceSettings = Settings['network_resilience'];

export const DEFAULT_SETTINGS: Settings = Settings.parse({});

/** Where the settings live: `$CCRESCUE_SETTINGS`, else `$XDG_CONFIG_HOME/ccrescue/settings.json`, else `~/.config/ccrescue/settings.json`. */
export function settingsPath(env: NodeJS.ProcessEnv = process.env): { path: string; named: boolean } {
  if (env.CCRESCUE_SETTINGS) return { path: resolve(env.CCRESCUE_SETTINGS), named: true };
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return { path: join(base, 'ccrescue', 'settings.json'), named: false };
}

/**
 * Reads the settings file. A missing file gives the defaults, unless it was named explicitly
 * (`--settings`, `$CCRESCUE_SETTINGS`); anything invalid is an InputError naming the key.
 */
export function loadSettings(option?: string, env: NodeJS.ProcessEnv = process.env): { settings: Settings; file: string | null } {
  const { path, named } = option ? { path: resolve(option), named: true } : settingsPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !named) return { settings: DEFAULT_SETTINGS, file: null };
    throw new InputError(`${path}: cannot read the settings file (${code ?? (err as Error).message})`);
  }
  return { settings: parseSettings(text, path), file: path };
}

/** Parses settings text; `file` names it in errors. */
export function parseSettings(text: string, file: string): Settings {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    throw new InputError(`${file}:${jsonErrorLine(body, (err as Error).message)}: not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  const parsed = Settings.safeParse(raw);
  if (parsed.success) return parsed.data;
  // Every problem on the one line, so that fixing one does not only reveal the next.
  throw new InputError(`${file}: ${parsed.error.issues.map((issue) => describeIssue(issue, raw)).join('; ')}`);
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = key ? `${key}.` : '';
    return `${issue.keys.map((k) => `${where}${k}`).join(', ')}: unknown key${issue.keys.length > 1 ? 's' : ''} (known: ${knownKeys(issue.path).join(', ')})`;
  }
  const value = valueAt(raw, issue.path);
  const got = value === undefined ? '' : `, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`;
  return `${key || '(top level)'}: ${expectation(issue)}${got}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'expected an integer' : `expected ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`;
    case 'too_small':
      return `expected at least ${String(issue.minimum)}`;
    case 'too_big':
      return `expected at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

function knownKeys(path: PropertyKey[]): string[] {
  const shape = path.length === 0 ? Settings.shape : NetworkResilience.shape;
  return Object.keys(shape);
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  return v;
}

/** The 1-based line of a JSON.parse error, from the position its message gives. */
function jsonErrorLine(text: string, message: string): number {
  const line = /\(line (\d+) column \d+\)/.exec(message);
  if (line) return Number(line[1]);
  const at = /at position (\d+)/.exec(message);
  const pos = at ? Number(at[1]) : text.length;
  return text.slice(0, pos).split('\n').length;
}

/** The flags that override settings; undefined leaves the file's value. */
export interface SettingsFlags {
  wait?: boolean;
  autoResume?: boolean;
  retryReadonly?: boolean;
  retryMutations?: boolean;
  streamTimeoutMs?: number;
  maxWaitMs?: number;
}

/** The settings in force: the file's, with each given flag on top. */
export function withFlags(settings: Settings, flags: SettingsFlags): ResilienceSettings {
  const n = { ...settings.network_resilience };
  if (flags.wait !== undefined) n.enabled = flags.wait;
  if (flags.autoResume !== undefined) n.auto_resume = flags.autoResume;
  if (flags.retryReadonly !== undefined) n.auto_retry_readonly_tools = flags.retryReadonly;
  if (flags.retryMutations !== undefined) n.auto_retry_mutations = flags.retryMutations;
  if (flags.streamTimeoutMs !== undefined) n.stream_timeout_ms = flags.streamTimeoutMs;
  if (flags.maxWaitMs !== undefined) n.max_wait_ms = flags.maxWaitMs;
  return n;
}
