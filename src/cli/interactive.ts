import type { WriteStream } from 'node:tty';
import { basename, dirname } from 'node:path';
import { confirm, select } from '@inquirer/prompts';
import type { Analysis } from '../analyze.js';
import type { ActiveToolCall } from '../inspect/active-calls.js';
import { isMutationTool } from '../inspect/tool-kinds.js';
import type { CallChoice } from '../plan/choices.js';
import type { RecoverPreview } from '../recover.js';
import { readClientRecords } from '../inspect/clients.js';
import { discoverFiles } from '../scan/discover.js';
import { scanFiles } from '../scan/scan.js';
import type { ScanRow } from '../scan/scan-file.js';
import { standingRepair } from '../scan/repair.js';
import { earlierRepairs } from '../locate/recoveries.js';
import { Cancelled, InputError } from '../errors.js';

/** The terminal the prompts use. */
export interface PromptIO {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/**
 * The terminal for `-i`: stdin, and stdout (stderr when stdout carries `--json`). Both must be
 * terminals; otherwise `-i` is refused before anything is read.
 */
export function terminalIO(json: boolean): PromptIO {
  const output = json ? process.stderr : process.stdout;
  if (!process.stdin.isTTY || !(output as WriteStream).isTTY) {
    throw new InputError(`-i needs a terminal: ${!process.stdin.isTTY ? 'stdin' : json ? 'stderr' : 'stdout'} is not one; run without -i (the retry settings then choose for each call)`);
  }
  return { input: process.stdin, output };
}

/** Runs one prompt; Ctrl+C (or a closed terminal) becomes Cancelled, so nothing is written. */
async function ask<T>(prompt: (ctx: PromptIO & { clearPromptOnDone: boolean }) => Promise<T>, io: PromptIO): Promise<T> {
  try {
    return await prompt({ ...io, clearPromptOnDone: false });
  } catch (err) {
    const name = (err as Error | undefined)?.name;
    if (name === 'ExitPromptError' || name === 'AbortPromptError') throw new Cancelled('cancelled: nothing was written');
    throw err;
  }
}

const say = (io: PromptIO, text: string): void => void io.output.write(`${text}\n`);

/**
 * The crashed or damaged main sessions under the Claude dir, newest first, for the user to pick
 * one; null when there is none. Sessions whose repair still stands are left out.
 */
export async function pickSession(claudeDir: string, io: PromptIO): Promise<string | null> {
  const files = discoverFiles([], claudeDir).filter((f) => f.kind === 'session');
  say(io, `Checking ${files.length} session${files.length === 1 ? '' : 's'} under ${claudeDir} …`);
  const rows = await scanFiles(files, { claudeDir, clientRecords: readClientRecords(claudeDir) });
  const earlier = earlierRepairs(new Set(rows.map((r) => dirname(r.file))));
  const damaged = rows.filter((r) => r.status === 'damaged' && !standingRepair(r, earlier)).sort((a, b) => b.last_activity.localeCompare(a.last_activity));
  if (damaged.length === 0) return null;
  return ask(
    (ctx) =>
      select<string>(
        {
          message: `${damaged.length} session${damaged.length === 1 ? ' needs' : 's need'} recovery. Which one?`,
          choices: damaged.map((r) => ({ name: sessionLabel(r), value: r.file, description: sessionDetail(r) })),
          pageSize: 12,
        },
        ctx,
      ),
    io,
  );
}

function sessionLabel(r: ScanRow): string {
  const when = r.last_activity.slice(0, 16).replace('T', ' ');
  const id = (r.session_id ?? basename(r.file, '.jsonl')).slice(0, 8);
  const codes = r.findings.filter((f) => f.severity !== 'notice').map((f) => f.code);
  return `${when}  ${id}  ${r.project ?? dirname(r.file)}  ${codes.slice(0, 3).join(', ')}${codes.length > 3 ? ' …' : ''}${r.live ? '  (live)' : ''}`;
}

function sessionDetail(r: ScanRow): string {
  const versions = r.client_versions.length > 0 ? `Claude Code ${r.client_versions.join(', ')}` : 'unknown client version';
  const found = r.findings.map((f) => `${f.code} ×${f.count} (line ${f.lines[0]})`).join('; ');
  return `${r.file}\n${versions}, ${r.lines} lines, ${(r.size / 1024).toFixed(0)} KiB\n${found}`;
}

/** What is known of an interrupted call, as the user sees it before choosing. */
export function describeCall(c: ActiveToolCall): string[] {
  const out = [`line ${c.line}  ${c.tool}  (${c.tool_use_id})`];
  if (c.file) out.push(`  file:     ${c.file}`);
  if (c.command) out.push(`  command:  ${c.command}`);
  if (c.file_state) out.push(`  on disk:  ${c.file_state.replace('_', ' ')}${c.evidence ? ` (${c.evidence})` : ''}`);
  else if (c.evidence) out.push(`  on disk:  ${c.evidence}`);
  const running = c.running_processes;
  if (running && running.length > 0) out.push(`  running:  ${running.map((p) => `pid ${p.pid} (${p.cmdline.slice(0, 80)})`).join(', ')}`);
  else if (running) out.push('  running:  no process runs it any more');
  out.push(`  status:   ${c.status === 'interrupted_by_client' ? 'Claude Code recorded it as interrupted' : 'no result was ever recorded'}`);
  return out;
}

const MODEL_DECIDES: Record<ActiveToolCall['resume_strategy'], string> = {
  retry: 'it only reads, so the model is told it is safe to run again',
  verify: 'the model is told what is on disk and checks the file before changing it',
  ask: 'the model is told the effects are unknown and asks you before running it again',
  none: 'the model is told what is known',
};

/** The three answers for a call, worded for its kind. */
function choicesFor(c: ActiveToolCall): { name: string; value: CallChoice; description: string }[] {
  const change = isMutationTool(c.tool);
  const applied = change && c.file_state === 'applied';
  const running = (c.running_processes ?? []).length > 0;
  return [
    {
      name: change ? 'Retry: make this change again' : 'Retry: run it again',
      value: 'retry',
      description: applied ? 'The change is already on disk; the model reads the file first so it is not applied twice.' : running ? 'The model waits for the running process to end, then runs it again.' : 'The resumed model runs it again first.',
    },
    { name: "Skip: don't run it again", value: 'skip', description: 'The model is told to leave it, and whatever it did, as it is.' },
    { name: 'Let the model decide', value: 'model', description: `From what is known: ${MODEL_DECIDES[c.resume_strategy]}.` },
  ];
}

/** Asks, for each interrupted call, what the resumed session should do; the retry settings' choice is the default. */
export async function chooseForCalls(analysis: Analysis, io: PromptIO): Promise<Map<string, CallChoice>> {
  const chosen = new Map<string, CallChoice>();
  const calls = analysis.activeCalls;
  if (calls.length === 0) {
    say(io, 'No tool call was interrupted; nothing to choose.');
    return chosen;
  }
  say(io, `${calls.length} tool call${calls.length === 1 ? ' was' : 's were'} interrupted in ${analysis.file}:`);
  for (const [i, c] of calls.entries()) {
    say(io, '');
    say(io, describeCall(c).join('\n'));
    const answer = await ask((ctx) => select<CallChoice>({ message: `Call ${i + 1} of ${calls.length}: what should the resumed session do?`, choices: choicesFor(c), default: c.choice ?? 'model' }, ctx), io);
    chosen.set(c.tool_use_id, answer);
  }
  return chosen;
}

/** Shows what would be written and asks before writing it. */
export async function confirmWrite(p: RecoverPreview, io: PromptIO): Promise<boolean> {
  say(io, '');
  say(io, `${p.snapshot.repairs.length} repair${p.snapshot.repairs.length === 1 ? '' : 's'}:`);
  for (const r of p.snapshot.repairs) say(io, `  ${r.line > 0 ? `line ${r.line}` : 'end'}  ${r.action}: ${r.detail}`);
  return ask((ctx) => confirm({ message: `Write the repaired session to ${p.target}?`, default: true }, ctx), io);
}
