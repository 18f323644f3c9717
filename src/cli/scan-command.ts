import { homedir } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { resolveClaudeDir } from '../locate/claude-dir.js';
import { readClientRecords } from '../inspect/clients.js';
import { discoverFiles } from '../scan/discover.js';
import { scanFiles, type ScanProgress } from '../scan/scan.js';
import type { ScanRow } from '../scan/scan-file.js';
import { repairDamaged, type RepairOutcome } from '../scan/repair.js';
import { paint, useColor } from './output.js';
import { InputError } from '../errors.js';
import { loadSettings } from '../settings/settings.js';

interface ScanFlags {
  claudeDir?: string;
  json?: boolean;
  all?: boolean;
  repair?: boolean;
  jobs?: string;
  settings?: string;
}

/** What `scan --json` prints: one document, documented in the README. */
export interface ScanReport {
  schema: 'ccrescue.scan/1';
  claude_dir: string;
  paths: string[];
  totals: {
    files: number;
    sessions: number;
    subagents: number;
    bytes: number;
    healthy: number;
    damaged: number;
    empty: number;
    foreign: number;
    unreadable: number;
    live: number;
    /** Damaged files per finding code (error and warning codes only). */
    by_code: Record<string, number>;
  };
  /** Damaged and unreadable files, newest first; with --all every file. */
  sessions: (ScanRow & { repair?: RepairOutcome })[];
  repairs: RepairOutcome[] | null;
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('check every session under the Claude dir (or the folders and files given) and list the damaged ones')
    .argument('[paths...]', 'session files or folders to scan (default: every transcript under <claude-dir>/projects)')
    .option('--repair', 'write a repaired copy of every damaged session, as recover does (originals untouched)')
    .option('--all', 'list healthy, empty and foreign files too')
    .option('--settings <file>', 'ccrescue settings file for --repair (default: $CCRESCUE_SETTINGS, else ~/.config/ccrescue/settings.json)')
    .option('--jobs <n>', 'worker threads (default: one per core)')
    .option('--claude-dir <dir>', 'Claude Code config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (paths: string[], flags: ScanFlags) => {
      const claudeDir = resolveClaudeDir(flags.claudeDir);
      const settings = flags.repair ? loadSettings(flags.settings).settings.network_resilience : undefined;
      const jobs = flags.jobs === undefined ? undefined : parseJobs(flags.jobs);
      const files = discoverFiles(paths, claudeDir);
      const bar = await progressBar(files.length);
      const rows = await scanFiles(files, { claudeDir, clientRecords: readClientRecords(claudeDir), jobs, onProgress: bar?.update });
      bar?.stop();
      const repairs = flags.repair ? await repairDamaged(rows, { claudeDir, settings }) : null;
      const report = scanReport(claudeDir, paths, rows, repairs, flags.all === true);
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else process.stdout.write(await render(report, useColor(process.stdout)));
      if (rows.some((r) => r.status === 'unreadable') || repairs?.some((r) => r.status === 'failed')) process.exitCode = 1;
    });
}

function parseJobs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 256) throw new InputError(`--jobs ${value}: expected a whole number from 0 to 256`);
  return n;
}

/** A progress bar on stderr, only when stderr is a terminal (stdout stays clean for --json). */
async function progressBar(total: number): Promise<{ update: (p: ScanProgress) => void; stop: () => void } | null> {
  if (!process.stderr.isTTY || total === 0) return null;
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ stream: process.stderr, format: 'scanning {bar} {value}/{total} files  {mb}/{mbTotal} MB', hideCursor: true, clearOnComplete: true, fps: 10 }, Presets.shades_classic);
  bar.start(total, 0, { mb: '0', mbTotal: '?' });
  return {
    update: (p) => bar.update(p.files, { mb: (p.bytes / 1e6).toFixed(0), mbTotal: (p.bytesTotal / 1e6).toFixed(0) }),
    stop: () => bar.stop(),
  };
}

export function scanReport(claudeDir: string, paths: string[], rows: ScanRow[], repairs: RepairOutcome[] | null, all: boolean): ScanReport {
  const count = (s: ScanRow['status']) => rows.filter((r) => r.status === s).length;
  const byCode: Record<string, number> = {};
  for (const r of rows) for (const f of r.findings) if (f.severity !== 'notice') byCode[f.code] = (byCode[f.code] ?? 0) + 1;
  const repairOf = new Map((repairs ?? []).map((r) => [r.file, r]));
  const listed = rows
    .filter((r) => all || r.status === 'damaged' || r.status === 'unreadable')
    .sort((a, b) => b.last_activity.localeCompare(a.last_activity) || a.file.localeCompare(b.file))
    .map((r) => (repairOf.has(r.file) ? { ...r, repair: repairOf.get(r.file)! } : r));
  return {
    schema: 'ccrescue.scan/1',
    claude_dir: claudeDir,
    paths,
    totals: {
      files: rows.length,
      sessions: rows.filter((r) => r.kind === 'session').length,
      subagents: rows.filter((r) => r.kind === 'subagent').length,
      bytes: rows.reduce((n, r) => n + r.size, 0),
      healthy: count('healthy'),
      damaged: count('damaged'),
      empty: count('empty'),
      foreign: count('foreign'),
      unreadable: count('unreadable'),
      live: rows.filter((r) => r.live).length,
      by_code: Object.fromEntries(Object.entries(byCode).sort(([a], [b]) => a.localeCompare(b))),
    },
    sessions: listed,
    repairs,
  };
}

const home = homedir();
const tilde = (p: string) => (home && (p === home || p.startsWith(`${home}/`)) ? `~${p.slice(home.length)}` : p);

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ${units[u]}`;
}

async function render(report: ScanReport, color: boolean): Promise<string> {
  const out: string[] = [];
  const t = report.totals;
  if (report.sessions.length > 0) {
    const { default: Table } = await import('cli-table3');
    const table = new Table({
      head: ['project', 'session', 'client', 'size', 'findings', 'last activity', 'status'],
      style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] },
      wordWrap: true,
      colWidths: [28, 14, 10, 9, 40, 18, 16],
    });
    for (const r of report.sessions) {
      const findings = r.findings.map((f) => paint(`${f.code}${f.count > 1 ? ` ×${f.count}` : ''} (line ${f.lines[0]})`, f.severity, color)).join('\n');
      const id = r.session_id ?? basename(r.file, '.jsonl');
      table.push([
        tilde(r.project ?? basename(r.file)),
        `${id.slice(0, 8)}${r.kind === 'subagent' ? ' (agent)' : ''}`,
        r.client_versions.at(-1) ?? '',
        formatSize(r.size),
        r.status === 'unreadable' || r.status === 'foreign' ? (r.reason ?? r.status) : findings || '-',
        r.last_activity.replace('T', ' ').slice(0, 16),
        statusCell(r),
      ]);
    }
    out.push(table.toString());
  }
  out.push(
    `${t.files} files (${t.sessions} sessions, ${t.subagents} subagent transcripts, ${formatSize(t.bytes)}): ${t.damaged} damaged, ${t.healthy} healthy, ${t.empty} empty` +
      `${t.foreign ? `, ${t.foreign} not Claude Code` : ''}${t.unreadable ? `, ${t.unreadable} unreadable` : ''}${t.live ? `; ${t.live} live` : ''}`,
  );
  const codes = Object.entries(t.by_code);
  if (codes.length > 0) out.push(`damage by code: ${codes.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  if (report.repairs) {
    const n = (s: RepairOutcome['status']) => report.repairs!.filter((r) => r.status === s).length;
    out.push(`repair: ${n('repaired')} written, ${n('already-repaired')} already repaired, ${n('skipped')} skipped, ${n('failed')} failed`);
    for (const r of report.repairs) {
      if (r.status === 'repaired') out.push(`  ${tilde(r.file)} -> ${tilde(r.session ?? '')}${r.snapshot ? ` (snapshot ${basename(r.snapshot)})` : ''}`);
      else if (r.status === 'failed') out.push(`  ${tilde(r.file)}: failed: ${r.detail}`);
    }
  } else if (t.damaged > 0) {
    out.push('repair them with: ccrescue scan --repair   (or one at a time: ccrescue recover <session>)');
  }
  return out.join('\n') + '\n';
}

function statusCell(r: ScanRow & { repair?: RepairOutcome }): string {
  if (r.repair) return r.repair.status === 'repaired' || r.repair.status === 'already-repaired' ? `${r.repair.status}: ${basename(r.repair.session ?? '', '.jsonl').slice(0, 8)}` : r.repair.status;
  return r.live ? `${r.status} (live)` : r.status;
}
