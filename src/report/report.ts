import { arch, release, type as osType } from 'node:os';
import { recover } from '../recover.js';
import type { EntryFacts } from '../read/facts.js';
import { textOf, type EntryLoader } from '../index/load.js';
import { clientActivity } from '../index/version.js';
import type { Redactor } from './redact.js';
import { CCRESCUE_VERSION } from '../version.js';

/** One event of the timeline around the failure. */
export interface TimelineEvent {
  line: number;
  time: string | null;
  /** Entry type, with the system subtype: `assistant`, `system/api_error`, `damaged line`. */
  kind: string;
  /** What happened, redacted. */
  what: string;
  /** On the branch Claude Code resumes from. */
  on_branch: boolean;
}

export interface ApiErrorSeen {
  line: number;
  time: string | null;
  /** `system/api_error` (a retry the client logged) or `assistant` (the error the user saw). */
  kind: string;
  status: number | null;
  detail: string;
}

/** What `report --format json` prints; the Markdown renders the same document. */
export interface BugReport {
  schema: 'ccrescue.report/1';
  generated_by: string;
  redaction: { mode: 'default' | 'strict'; replaced: Record<string, number> };
  platform: { os: string; release: string; arch: string; node: string };
  session: {
    id: string | null;
    file: string;
    client_versions: string[];
    size: number;
    lines: number;
    first_activity: string | null;
    last_activity: string | null;
    live: boolean;
  };
  counts: {
    entries: Record<string, number>;
    messages: { user: number; assistant: number };
    tool_calls: number;
    tool_calls_without_result: number;
    damaged_lines: number;
    interrupts: number;
    compactions: number;
    api_errors: number;
  };
  healthy: boolean;
  disconnect_phase: string;
  findings: { code: string; severity: string; line: number; message: string }[];
  api_errors: ApiErrorSeen[];
  timeline: { from_line: number; omitted_before: number; events: TimelineEvent[] };
  recover_would: {
    repairs: { action: string; line: number; detail: string }[];
    interrupted_calls: { tool: string; line: number; target: string | null; status: string; file_state: string | null; resume_strategy: string }[];
    untracked_files: string[];
    lost_and_found: number;
  };
}

export interface ReportOptions {
  file: string;
  claudeDir: string | null;
  projectDir?: string;
  redactor: Redactor;
}

const TIMELINE_BEFORE = 12;
const TIMELINE_MAX = 60;
const PREVIEW = 100;
const MAX_API_ERRORS = 100;

const iso = (t: number) => (Number.isNaN(t) ? null : new Date(t).toISOString());
const oneLine = (s: string, n = PREVIEW) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n)}…` : flat;
};

/** Builds the bug report of a session: everything `recover --dry-run` knows, redacted, plus the timeline and API errors. */
export async function buildReport(o: ReportOptions): Promise<BugReport> {
  const r = await recover({ file: o.file, claudeDir: o.claudeDir, projectDir: o.projectDir, dryRun: true, force: true });
  const { analysis, snapshot } = r;
  const { index, scan, loader } = analysis;
  const red = o.redactor;
  try {
    // A Map: an entry's type is the transcript's text, and may be __proto__ or constructor.
    const entriesByType = new Map<string, number>();
    for (const e of index.entries) {
      const key = red.secrets(e.subtype ? `${e.type}/${e.subtype}` : e.type || '(no type)');
      entriesByType.set(key, (entriesByType.get(key) ?? 0) + 1);
    }
    const activity = clientActivity(index.entries);
    const apiErrorEntries = index.entries.filter((e) => e.subtype === 'api_error' || e.isApiErrorMessage);
    const serious = analysis.findings.filter((f) => f.severity !== 'notice');
    const failureLine = serious[0]?.line ?? apiErrorEntries[0]?.line ?? scan.lineCount;

    const report: BugReport = {
      schema: 'ccrescue.report/1',
      generated_by: `ccrescue ${CCRESCUE_VERSION}`,
      redaction: { mode: red.mode, replaced: {} },
      platform: { os: osType(), release: release(), arch: arch(), node: process.version },
      session: {
        // Ids, types and versions are the transcript's own text too: a secret there is replaced like anywhere else.
        id: index.sessionId === null ? null : red.secrets(index.sessionId),
        file: red.text(o.file),
        client_versions: activity.versions.map((v) => red.secrets(v)),
        size: scan.size,
        lines: scan.lineCount,
        first_activity: iso(activity.first),
        last_activity: iso(activity.last),
        live: analysis.liveClients.length > 0 || scan.grewWhileRead,
      },
      counts: {
        // Object.fromEntries defines each key as an own property, __proto__ included.
        entries: Object.fromEntries([...entriesByType].sort(([, a], [, b]) => b - a)),
        messages: { user: index.entries.filter((e) => e.type === 'user').length, assistant: index.messageGroups.size },
        tool_calls: index.toolCalls.size,
        tool_calls_without_result: [...index.toolCalls.values()].filter((c) => c.results.length === 0).length,
        damaged_lines: scan.damage.size,
        interrupts: index.entries.filter((e) => e.interruptMarker).length,
        compactions: index.entries.filter((e) => e.subtype === 'compact_boundary').length,
        api_errors: apiErrorEntries.length,
      },
      healthy: analysis.healthy,
      disconnect_phase: snapshot.disconnect_phase,
      findings: analysis.findings.map((f) => ({ code: f.code, severity: f.severity, line: f.line, message: red.text(f.message) })),
      api_errors: apiErrorEntries.slice(0, MAX_API_ERRORS).map((e) => apiError(e, loader, red)),
      timeline: timeline(index.entries, index.branchSet, scan.damage, failureLine, loader, red),
      recover_would: {
        repairs: snapshot.repairs.map((a) => ({ action: a.action, line: a.line, detail: red.text(a.detail) })),
        interrupted_calls: snapshot.active_tool_calls.map((c) => ({
          tool: red.secrets(c.tool),
          line: c.line,
          target: c.file !== null ? red.text(c.file) : c.command !== null ? describeInput(red, { command: c.command }) : null,
          status: c.status,
          file_state: c.file_state,
          resume_strategy: c.resume_strategy,
        })),
        untracked_files: snapshot.untracked_side_effects.map((u) => red.text(u.file)),
        lost_and_found: snapshot.lost_and_found.length,
      },
    };
    report.redaction.replaced = Object.fromEntries([...red.counts].sort(([a], [b]) => a.localeCompare(b)));
    return report;
  } finally {
    loader.close();
  }
}

/** A short, redacted description of a tool input: its command, path or pattern. */
function describeInput(red: Redactor, input: Record<string, unknown>): string {
  const redacted = red.entry({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'tool_use', id: 'x', name: 'x', input }] } }) as { message: { content: { input: Record<string, unknown> }[] } };
  const safe = redacted.message.content[0]!.input;
  for (const key of ['command', 'file_path', 'notebook_path', 'pattern', 'path', 'url', 'query', 'description']) {
    if (typeof safe[key] === 'string') return oneLine(safe[key] as string);
  }
  return oneLine(JSON.stringify(safe));
}

function apiError(e: EntryFacts, loader: EntryLoader, red: Redactor): ApiErrorSeen {
  const raw = loader.load(e);
  const entry = (raw ? red.entry(raw) : {}) as Record<string, unknown>;
  const error = entry.error as Record<string, unknown> | undefined;
  const status = typeof error?.status === 'number' ? error.status : typeof entry.status === 'number' ? entry.status : null;
  let detail: string;
  if (e.type === 'assistant') detail = oneLine(textOf(entry), 200);
  else {
    const retry = typeof entry.retryAttempt === 'number' ? `retry ${entry.retryAttempt}${typeof entry.maxRetries === 'number' ? ` of ${entry.maxRetries}` : ''}` : '';
    const message = typeof entry.content === 'string' ? entry.content : typeof error?.message === 'string' ? error.message : JSON.stringify(error?.error ?? error ?? '');
    detail = [retry, oneLine(message, 200)].filter(Boolean).join(': ');
  }
  return { line: e.line, time: iso(e.time), kind: e.type === 'assistant' ? 'assistant' : 'system/api_error', status: status ?? statusIn(detail), detail };
}

const statusIn = (text: string): number | null => {
  const m = /\b(?:API Error|status)[:\s]+(\d{3})\b/i.exec(text);
  return m ? Number(m[1]) : null;
};

const NOISE = new Set(['progress', 'file-history-snapshot', 'queue-operation', 'attachment']);

/** The entries around the failure, in file order: some before the first serious finding, and everything after it. */
function timeline(
  entries: EntryFacts[],
  branch: Set<EntryFacts>,
  damage: Map<number, { kinds: string[] }>,
  failureLine: number,
  loader: EntryLoader,
  red: Redactor,
): BugReport['timeline'] {
  const relevant = entries.filter((e) => !NOISE.has(e.type));
  let start = relevant.findIndex((e) => e.line >= failureLine);
  if (start === -1) start = relevant.length;
  start = Math.max(0, Math.min(start - TIMELINE_BEFORE, relevant.length - TIMELINE_MAX));
  const picked = relevant.slice(start, start + TIMELINE_MAX);
  const events: TimelineEvent[] = picked.map((e) => ({ line: e.line, time: iso(e.time), kind: red.secrets(e.subtype ? `${e.type}/${e.subtype}` : e.type), what: describe(e, loader, red), on_branch: branch.has(e) }));
  const fromLine = picked[0]?.line ?? failureLine;
  for (const [line, d] of damage) {
    if (line >= fromLine && !events.some((ev) => ev.line === line)) events.push({ line, time: null, kind: 'damaged line', what: d.kinds.join(', '), on_branch: false });
  }
  events.sort((a, b) => a.line - b.line);
  return { from_line: fromLine, omitted_before: start, events };
}

function describe(e: EntryFacts, loader: EntryLoader, red: Redactor): string {
  const raw = loader.load(e);
  if (!raw) return '(entry no longer readable)';
  const entry = red.entry(raw) as Record<string, unknown>;
  const message = entry.message as { content?: unknown; stop_reason?: unknown } | undefined;
  const parts: string[] = [];
  if (e.type === 'user' || e.type === 'assistant') {
    const content = message?.content;
    const blocks: Record<string, unknown>[] = typeof content === 'string' ? [{ type: 'text', text: content }] : Array.isArray(content) ? content : [];
    for (const b of blocks) {
      switch (b.type) {
        case 'text':
          parts.push(`${e.interruptMarker ? '' : e.type === 'user' ? 'prompt: ' : 'text: '}"${oneLine(String(b.text ?? ''))}"`);
          break;
        case 'thinking':
          parts.push(`thinking (${String(b.thinking ?? '').length} chars)`);
          break;
        case 'tool_use':
          parts.push(`tool_use ${red.secrets(String(b.name))} ${red.secrets(String(b.id))}: ${describeInput(red, (b.input as Record<string, unknown>) ?? {})}`);
          break;
        case 'tool_result': {
          const c = b.content;
          const text = typeof c === 'string' ? c : Array.isArray(c) ? c.map((x: { text?: unknown }) => (typeof x?.text === 'string' ? x.text : '')).join(' ') : '';
          parts.push(`tool_result ${red.secrets(String(b.tool_use_id))}${b.is_error === true ? ' (error)' : ''}: "${oneLine(text, 80)}"`);
          break;
        }
        default:
          parts.push(red.secrets(String(b.type)));
      }
    }
    if (e.type === 'assistant' && typeof message?.stop_reason === 'string') parts.push(`stop_reason ${red.secrets(message.stop_reason)}`);
    if (e.isApiErrorMessage) parts.unshift('API error shown to the user');
    if (e.isSidechain) parts.unshift('(subagent)');
  } else if (e.type === 'system') {
    if (typeof entry.content === 'string') parts.push(oneLine(entry.content));
    if (typeof entry.retryAttempt === 'number') parts.push(`retry ${entry.retryAttempt}${typeof entry.maxRetries === 'number' ? ` of ${entry.maxRetries}` : ''}`);
  } else if (e.type === 'summary' || e.type === 'last-prompt') {
    parts.push(`leaf ${e.leafUuid === undefined ? '(none)' : red.secrets(e.leafUuid)}`);
  }
  return parts.join('; ') || red.secrets(e.type);
}
