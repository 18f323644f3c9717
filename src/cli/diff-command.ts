import type { Command } from 'commander';
import { analyzeSession, type Analysis } from '../analyze.js';
import { sessionArgument } from './session-arg.js';
import type { FileForensics, UntrackedSideEffect } from '../inspect/forensics.js';
import type { FileState } from '../inspect/mutations.js';
import { useColor } from './output.js';

interface DiffFlags {
  projectDir?: string;
  claudeDir?: string;
  json?: boolean;
}

/** What `diff --json` prints: one document, documented in the README. */
export interface DiffReport {
  session_id: string | null;
  file: string;
  project_dir: string | null;
  backups_dir: string | null;
  files: FileForensics[];
  untracked_side_effects: UntrackedSideEffect[];
  processes: { tool_use_id: string; command: string; line: number; pid: number; cmdline: string }[];
  crashed_clients: { pid: number; status: string | null; version: string | null; record: string }[];
  findings: Analysis['findings'];
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('file forensics: every file the session touched, on disk against the checkpoints and the transcript, and the changes no line records')
    .argument('[session]', 'a .jsonl path, a session id or unique prefix (default: the newest session of the current directory)')
    .option('--project-dir <dir>', "where the session's files are on disk (default: the session's cwd)")
    .option('--claude-dir <dir>', 'Claude Code config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (session: string | undefined, flags: DiffFlags) => {
      const { claudeDir, file } = sessionArgument(session, flags.claudeDir);
      const analysis = await analyzeSession(file, { claudeDir, projectDir: flags.projectDir, listAllFiles: true });
      try {
        const report = diffReport(analysis);
        if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        else process.stdout.write(await renderDiff(report, useColor(process.stdout)));
      } finally {
        analysis.loader.close();
      }
    });
}

export function diffReport(a: Analysis): DiffReport {
  return {
    session_id: a.index.sessionId,
    file: a.file,
    project_dir: a.forensics.projectDir,
    backups_dir: a.forensics.backupsDir,
    files: a.forensics.files,
    untracked_side_effects: a.forensics.untracked,
    processes: a.activeCalls.flatMap((c) => (c.running_processes ?? []).map((p) => ({ tool_use_id: c.tool_use_id, command: c.command ?? '', line: c.line, pid: p.pid, cmdline: p.cmdline }))),
    crashed_clients: a.clients.filter((c) => !c.alive).map((c) => ({ pid: c.pid, status: c.status, version: c.version, record: c.file })),
    findings: a.findings.filter((f) => ['untracked-side-effect', 'path-outside-project', 'surviving-process', 'crashed-client', 'orphaned-tool-use'].includes(f.code)),
  };
}

const STATE_COLOR: Record<FileState | 'untracked', string> = { applied: '32', not_applied: '33', diverged: '31', missing: '31', unknown: '90', untracked: '35' };

export async function renderDiff(r: DiffReport, color: boolean): Promise<string> {
  const paint = (text: string, code: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const out: string[] = [`${r.file}`, `project: ${r.project_dir ?? "(unknown: the session's cwd is not on this machine, or the session is not in Claude Code's folder for it; pass --project-dir)"}`, `checkpoints: ${r.backups_dir ?? '(none)'}`];
  if (r.files.length === 0 && r.untracked_side_effects.length === 0) {
    out.push('', 'The session changed no file through Claude Code\'s file tools, and no change on disk lacks a line.');
  } else {
    const { default: Table } = await import('cli-table3');
    const table = new Table({ head: ['file', 'state', 'calls', 'evidence'], style: { head: color ? ['bold'] : [], border: color ? ['grey'] : [] }, wordWrap: true, colWidths: [28, 13, 24, 56] });
    for (const f of r.files) {
      const calls = f.calls.map((c) => `${c.tool} line ${c.line}${c.agent ? ' (agent)' : ''}${c.result === 'ok' ? '' : `, ${c.result === 'none' ? 'no result' : c.result}`}`).join('\n') || 'read only';
      table.push([f.file, paint(f.status, STATE_COLOR[f.status]), calls, f.evidence]);
    }
    for (const u of r.untracked_side_effects) {
      if (r.files.some((f) => f.file === u.file)) continue;
      table.push([u.file, paint('untracked', STATE_COLOR.untracked), u.line !== null ? `line ${u.line} (${u.source})` : u.source, u.evidence]);
    }
    out.push('', table.toString());
  }
  if (r.untracked_side_effects.length > 0) {
    out.push('', paint(`Changes no transcript line records (${r.untracked_side_effects.length}):`, '1'));
    for (const u of r.untracked_side_effects) {
      out.push('', `${u.file} [${u.source}${u.line !== null ? `, line ${u.line}` : ''}]: ${u.evidence}`);
      if (u.diff) out.push(colorDiff(u.diff, paint));
    }
  }
  const others = r.files.filter((f) => f.diff && !r.untracked_side_effects.some((u) => u.file === f.file));
  if (others.length > 0) {
    out.push('', paint('Changes by the session\'s recorded calls:', '1'));
    for (const f of others) out.push('', `${f.file} (${f.diff_kind === 'transcript-to-disk' ? 'transcript → disk' : 'before the session → disk'}):`, colorDiff(f.diff!, paint));
  }
  const refused = r.findings.filter((f) => f.code === 'path-outside-project');
  if (refused.length > 0) {
    out.push('', paint(`Not opened (${refused.length}): paths outside the project dir or the Claude dir, or through a symlink leading out:`, '1'));
    for (const f of refused) out.push(`  ${f.line > 0 ? `line ${f.line}` : 'store'}: ${f.message}`);
  }
  if (r.processes.length > 0) {
    out.push('', paint('Still running although the client died:', '1'));
    for (const p of r.processes) out.push(`  pid ${p.pid}: ${p.cmdline}  (line ${p.line}, ${p.tool_use_id})`);
  }
  if (r.crashed_clients.length > 0) {
    out.push('', ...r.crashed_clients.map((c) => `Crashed client: pid ${c.pid}${c.version ? ` (Claude Code ${c.version})` : ''}, left ${c.record} saying ${c.status ?? 'nothing'}`));
  }
  return out.join('\n') + '\n';
}

function colorDiff(diff: string, paint: (t: string, c: string) => string): string {
  return diff
    .trimEnd()
    .split('\n')
    .map((l) => (l.startsWith('+++') || l.startsWith('---') ? paint(l, '1') : l.startsWith('+') ? paint(l, '32') : l.startsWith('-') ? paint(l, '31') : l.startsWith('@@') ? paint(l, '36') : l))
    .join('\n');
}
