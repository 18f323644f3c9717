import type { Command } from 'commander';
import { recover, type RecoverResult } from '../recover.js';
import { sessionArgument } from './session-arg.js';
import { findingsTable, useColor } from './output.js';

interface RecoverFlags {
  dryRun?: boolean;
  out?: string;
  inPlace?: boolean;
  projectDir?: string;
  force?: boolean;
  claudeDir?: string;
  json?: boolean;
}

export function registerRecover(program: Command): void {
  program
    .command('recover')
    .description('find what a crash left in a session and write a repaired copy, a recovery snapshot and a continuation prompt')
    .argument('[session]', 'a .jsonl path, a session id or unique prefix (default: the newest session of the current directory)')
    .option('--dry-run', 'analyse and print the plan; write nothing')
    .option('--out <file>', 'write the repaired session to this path (session ids kept)')
    .option('--in-place', 'replace the original, after writing <file>.bak-<UTC timestamp>')
    .option('--project-dir <dir>', "where the session's files are on disk (default: the session's cwd)")
    .option('--force', 'proceed even when the session looks live')
    .option('--claude-dir <dir>', 'Claude Code config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (session: string | undefined, flags: RecoverFlags) => {
      const { claudeDir, file } = sessionArgument(session, flags.claudeDir);
      const result = await recover({ file, claudeDir, projectDir: flags.projectDir, dryRun: flags.dryRun, out: flags.out, inPlace: flags.inPlace, force: flags.force });
      if (flags.json) process.stdout.write(JSON.stringify(toJson(result), null, 2) + '\n');
      else process.stdout.write(await render(result));
    });
}

function toJson(r: RecoverResult) {
  return { status: r.status, file: r.file, written: r.written, snapshot: r.snapshot };
}

async function render(r: RecoverResult): Promise<string> {
  const color = useColor(process.stdout);
  const s = r.snapshot;
  const out: string[] = [];
  const counts = `${r.analysis.scan.lineCount} lines, ${s.client_version ? `Claude Code ${s.client_version}` : 'unknown client version'}`;
  out.push(`${r.file} (${counts})`);
  if (s.findings.length > 0) out.push(await findingsTable(s.findings, color));
  if (r.status === 'healthy') {
    out.push(`healthy: nothing to recover${r.written.session ? `; copy written to ${r.written.session}` : ''}`);
    return out.join('\n') + '\n';
  }
  out.push(`disconnect phase: ${s.disconnect_phase}`);
  if (s.active_tool_calls.length > 0) {
    out.push('interrupted tool calls:');
    for (const c of s.active_tool_calls) out.push(`  line ${c.line}  ${c.tool} ${c.command ?? c.file ?? ''}  -> ${c.file_state ?? c.status}, ${c.resume_strategy}`);
  }
  out.push(`repairs (${s.repairs.length}):`);
  for (const a of s.repairs) out.push(`  ${a.line > 0 ? `line ${a.line}` : 'end'}  ${a.action}: ${a.detail}`);
  if (s.lost_and_found.length > 0) out.push(`kept in the snapshot, not in the session: ${s.lost_and_found.map((l) => `line ${l.line} (${l.reason})`).join(', ')}`);
  if (r.status === 'planned') out.push('dry run: nothing written');
  if (r.written.backup) out.push(`backup: ${r.written.backup}`);
  if (r.written.session) out.push(`repaired session: ${r.written.session}`);
  if (r.written.snapshot) out.push(`recovery snapshot: ${r.written.snapshot}`);
  out.push('', 'continuation prompt:', s.continuation_prompt ?? '');
  if (s.resume_command) out.push('', r.status === 'repaired' ? 'resume with:' : 'after writing, resume with:', s.resume_command);
  return out.join('\n') + '\n';
}
