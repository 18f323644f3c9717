import { analyzeSession } from '../analyze.js';
import { clientActivity } from '../index/version.js';
import type { ClientRecord } from '../inspect/clients.js';
import type { Severity } from '../rules/types.js';
import { ForeignFormatError } from '../errors.js';
import type { FoundFile } from './discover.js';

/** The findings of one code in one file. */
export interface CodeCount {
  code: string;
  severity: Severity;
  count: number;
  /** The first lines it was found on (at most LINES_KEPT). */
  lines: number[];
}

/** One row of `scan`: what one transcript holds. The `--json` shape; documented in the README. */
export interface ScanRow {
  file: string;
  kind: FoundFile['kind'];
  /** `damaged`: an error or warning was found; `healthy`: nothing, or notices only. */
  status: 'healthy' | 'damaged' | 'empty' | 'foreign' | 'unreadable';
  /** The session's working directory as the client recorded it. */
  project: string | null;
  session_id: string | null;
  /** Every client version the file records, in order of first appearance. */
  client_versions: string[];
  size: number;
  lines: number;
  /** The newest entry timestamp, else the file's modification time (ISO 8601). */
  last_activity: string;
  /** A running Claude Code process owns the session. */
  live: boolean;
  findings: CodeCount[];
  /** Why a file is `foreign` or `unreadable`. */
  reason: string | null;
}

export interface ScanContext {
  claudeDir: string | null;
  clientRecords: ClientRecord[];
}

const LINES_KEPT = 20;
const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, notice: 2 };

/** The row of a file before it is read: what the directory listing says. */
export function listedRow(f: FoundFile): ScanRow {
  return {
    file: f.path,
    kind: f.kind,
    status: 'healthy',
    project: null,
    session_id: null,
    client_versions: [],
    size: f.size,
    lines: 0,
    last_activity: new Date(f.mtimeMs).toISOString(),
    live: false,
    findings: [],
    reason: null,
  };
}

/** Analyses one transcript the way `recover` does, with the file forensics limited to interrupted calls. Never throws. */
export async function scanFile(f: FoundFile, ctx: ScanContext): Promise<ScanRow> {
  const row = listedRow(f);
  if (f.size === 0) return { ...row, status: 'empty' };
  let analysis;
  try {
    analysis = await analyzeSession(f.path, { claudeDir: ctx.claudeDir, forensics: 'interrupted', todos: false, clientRecords: ctx.clientRecords });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ...row, status: err instanceof ForeignFormatError ? 'foreign' : 'unreadable', reason: message.split('\n')[0]! };
  }
  try {
    const { index, scan } = analysis;
    row.size = scan.size;
    row.lines = scan.lineCount;
    row.project = index.cwd;
    row.session_id = index.sessionId;
    const activity = clientActivity(index.entries);
    row.client_versions = activity.versions;
    if (!Number.isNaN(activity.last)) row.last_activity = new Date(activity.last).toISOString();
    row.live = analysis.liveClients.length > 0 || scan.grewWhileRead;
    const byCode = new Map<string, CodeCount>();
    for (const finding of analysis.findings) {
      let c = byCode.get(finding.code);
      if (!c) byCode.set(finding.code, (c = { code: finding.code, severity: finding.severity, count: 0, lines: [] }));
      c.count++;
      if (SEVERITY_RANK[finding.severity] < SEVERITY_RANK[c.severity]) c.severity = finding.severity;
      if (c.lines.length < LINES_KEPT) c.lines.push(finding.line);
    }
    row.findings = [...byCode.values()].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.code.localeCompare(b.code));
    row.status = analysis.healthy ? 'healthy' : 'damaged';
    return row;
  } finally {
    analysis.loader.close();
  }
}
