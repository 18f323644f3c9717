import type { Command } from 'commander';
import { recover, type RecoverOptions, type RecoverResult } from '../recover.js';
import { sessionArgument } from './session-arg.js';
import { findingsTable, useColor } from './output.js';
import { chooseForCalls, confirmWrite, pickSession, terminalIO } from './interactive.js';
import { resolveClaudeDir, locateSession } from '../locate/claude-dir.js';
import { loadSettings, withFlags, type ResilienceSettings } from '../settings/settings.js';

export interface RecoverFlags {
  dryRun?: boolean;
  out?: string;
  inPlace?: boolean;
  projectDir?: string;
  force?: boolean;
  claudeDir?: string;
  json?: boolean;
  interactive?: boolean;
  settings?: string;
  retryReadonly?: boolean;
  retryMutations?: boolean;
}

/** Options shared by `recover` and `resume`: how the session is recovered. */
export function recoveryOptions(cmd: Command): Command {
  return cmd
    .option('-i, --interactive', 'choose per interrupted call what the resumed session should do (with no session: pick one)')
    .option('--project-dir <dir>', "where the session's files are on disk (default: the session's cwd)")
    .option('--force', 'proceed even when the session looks live')
    .option('--settings <file>', 'ccrescue settings file (default: $CCRESCUE_SETTINGS, else ~/.config/ccrescue/settings.json)')
    .option('--retry-readonly', 'interrupted read-only calls are run again (default; settings: auto_retry_readonly_tools)')
    .option('--no-retry-readonly', 'interrupted read-only calls are left to the model')
    .option('--retry-mutations', 'interrupted file changes not on disk are made again (settings: auto_retry_mutations)')
    .option('--no-retry-mutations', 'interrupted file changes are left to the model, which checks the disk (default)')
    .option('--claude-dir <dir>', 'Claude Code config dir (default: $CLAUDE_CONFIG_DIR, else ~/.claude)')
    .option('--json', 'print one JSON document on stdout');
}

export function registerRecover(program: Command): void {
  recoveryOptions(
    program
      .command('recover')
      .description('find what a crash left in a session and write a repaired copy, a recovery snapshot and a continuation prompt')
      .argument('[session]', 'a .jsonl path, a session id or unique prefix (default: the newest session of the current directory)')
      .option('--dry-run', 'analyse and print the plan; write nothing')
      .option('--out <file>', 'write the repaired session to this path (session ids kept)')
      .option('--in-place', 'replace the original, after writing <file>.bak-<UTC timestamp>'),
  ).action(async (session: string | undefined, flags: RecoverFlags) => {
    const settings = withFlags(loadSettings(flags.settings).settings, flags);
    const result = await runRecovery(session, flags, settings);
    if (result === null) return;
    if (flags.json) process.stdout.write(JSON.stringify(toJson(result), null, 2) + '\n');
    else process.stdout.write(await render(result));
  });
}

/**
 * Locates the session (with `-i` and none named: the user picks one) and recovers it, asking per
 * interrupted call with `-i`. Null when `-i` found no session to recover.
 */
export async function runRecovery(session: string | undefined, flags: RecoverFlags, settings: ResilienceSettings): Promise<RecoverResult | null> {
  const io = flags.interactive ? terminalIO(Boolean(flags.json)) : null;
  let file: string;
  let claudeDir: string;
  if (io && session === undefined) {
    claudeDir = resolveClaudeDir(flags.claudeDir);
    const picked = await pickSession(claudeDir, io);
    if (picked === null) {
      process.stderr.write(`no crashed or damaged session under ${claudeDir}; nothing to recover\n`);
      if (flags.json) process.stdout.write(JSON.stringify({ status: 'none', file: null, written: null, snapshot: null }, null, 2) + '\n');
      return null;
    }
    file = locateSession(picked, claudeDir, process.cwd());
  } else {
    ({ claudeDir, file } = sessionArgument(session, flags.claudeDir));
  }
  const opts: RecoverOptions = { file, claudeDir, projectDir: flags.projectDir, dryRun: flags.dryRun, out: flags.out, inPlace: flags.inPlace, force: flags.force, settings };
  if (io) {
    opts.decide = (analysis) => chooseForCalls(analysis, io);
    opts.confirm = (preview) => confirmWrite(preview, io);
  }
  return recover(opts);
}

export function toJson(r: RecoverResult) {
  return { status: r.status, file: r.file, written: r.written, snapshot: r.snapshot };
}

export async function render(r: RecoverResult): Promise<string> {
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
    for (const c of s.active_tool_calls) out.push(`  line ${c.line}  ${c.tool} ${c.command ?? c.file ?? ''}  -> ${c.file_state ?? c.status}, ${c.resume_strategy}${choiceWords(c)}`);
  }
  out.push(`repairs (${s.repairs.length}):`);
  for (const a of s.repairs) out.push(`  ${a.line > 0 ? `line ${a.line}` : 'end'}  ${a.action}: ${a.detail}`);
  if (s.lost_and_found.length > 0) out.push(`kept in the snapshot, not in the session: ${s.lost_and_found.map((l) => `line ${l.line} (${l.reason})`).join(', ')}`);
  if (r.declined) out.push('not written: you chose not to write the repaired session');
  else if (r.status === 'planned') out.push('dry run: nothing written');
  if (r.written.backup) out.push(`backup: ${r.written.backup}`);
  if (r.written.session) out.push(`repaired session: ${r.written.session}`);
  if (r.written.snapshot) out.push(`recovery snapshot: ${r.written.snapshot}`);
  out.push('', 'continuation prompt:', s.continuation_prompt ?? '');
  if (s.resume_command) out.push('', r.status === 'repaired' ? 'resume with:' : 'after writing, resume with:', s.resume_command);
  return out.join('\n') + '\n';
}

function choiceWords(c: RecoverResult['snapshot']['active_tool_calls'][number]): string {
  if (c.choice === undefined) return '';
  const what = c.choice === 'retry' ? 'run again' : c.choice === 'skip' ? 'not run again' : 'model decides';
  return ` -> ${what} (${c.chosen_by === 'user' ? 'your choice' : 'settings'})`;
}
