import type { ActiveToolCall } from '../inspect/active-calls.js';
import type { PendingTodo } from '../inspect/todos.js';
import type { UntrackedSideEffect } from '../inspect/forensics.js';
import type { CallChoice } from '../plan/choices.js';
import { isReadOnlyTool } from '../inspect/tool-kinds.js';

export type DisconnectPhase = 'streaming' | 'tool_execution' | 'between_turns';

export interface PromptFacts {
  phase: DisconnectPhase;
  calls: ActiveToolCall[];
  partialText: string | null;
  lastUserRequest: string | null;
  todos: PendingTodo[];
  /** One line per other finding worth the model's attention (lost lines, API errors). */
  otherDamage: string[];
  /** Changes on disk that no transcript line records. */
  untracked: UntrackedSideEffect[];
  /** Where the full diffs are kept, when the snapshot is written. */
  snapshotPath?: string | null;
}

/** The prompt shows each untracked diff up to this many characters, and all of them up to the total. */
export const DIFF_CHARS = 2000;
export const DIFFS_TOTAL_CHARS = 6000;

const PARTIAL_CHARS = 1500;
const quote = (s: string, max: number) => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The message that tells a resumed model exactly where it stopped and what is really on disk. */
export function continuationPrompt(f: PromptFacts): string {
  const out: string[] = [];
  out.push(`[Recovered session] The previous run of this session was cut off ${phaseWords(f.phase)}. ccrescue checked the transcript and the project files; this is what is known.`);
  if (f.lastUserRequest) out.push('', `The user's last request was: "${quote(f.lastUserRequest, 600)}"`);
  if (f.calls.length > 0) {
    out.push('', 'Tool calls that never returned a result (each now has a connection_lost result):');
    f.calls.forEach((c, i) => out.push(`${i + 1}. ${describe(c)}`));
  }
  if (f.untracked.length > 0) out.push('', ...untrackedSection(f.untracked, f.snapshotPath ?? null));
  if (f.partialText) out.push('', `Your last response was cut off mid-stream after: "${quote(f.partialText, PARTIAL_CHARS)}"`);
  if (f.otherDamage.length > 0) out.push('', 'Also found in the transcript:', ...f.otherDamage.map((d) => `- ${d}`));
  if (f.todos.length > 0) out.push('', 'Still on the todo list:', ...f.todos.map((t) => `- [${t.status}] ${t.content}`));
  out.push('', 'What to do first:');
  const steps: string[] = [];
  // The user's answers at the -i prompt come first and override the per-tool advice.
  const byUser = (choice: CallChoice) => f.calls.filter((c) => c.chosen_by === 'user' && c.choice === choice);
  const userRetry = byUser('retry');
  const userSkip = byUser('skip');
  if (userRetry.length > 0) steps.push(`The user chose to run ${userRetry.length > 1 ? 'these' : 'this'} again: ${userRetry.map(short).join('; ')}.${userRetry.some(isChange) ? ' Read each file first, so that no change is applied twice.' : ''}${userRetry.some(isRunning) ? ' Wait for a command that is still running to end first.' : ''}`);
  if (userSkip.length > 0) steps.push(`The user chose not to run ${userSkip.length > 1 ? 'these' : 'this'} again: ${userSkip.map(short).join('; ')}. Do not repeat ${userSkip.length > 1 ? 'them' : 'it'}, and leave what ${userSkip.length > 1 ? 'they' : 'it'} did as it is.`);
  const rest = f.calls.filter((c) => !userRetry.includes(c) && !userSkip.includes(c));
  const readOnly = rest.filter((c) => c.resume_strategy === 'retry' && isReadOnlyTool(c.tool));
  const bookkeeping = rest.filter((c) => c.resume_strategy === 'retry' && !isReadOnlyTool(c.tool));
  const retry = readOnly.filter((c) => c.choice !== 'model');
  const optional = readOnly.filter((c) => c.choice === 'model');
  const verify = rest.filter((c) => c.resume_strategy === 'verify');
  const ask = rest.filter((c) => c.resume_strategy === 'ask');
  if (retry.length > 0) steps.push(`Run the read-only call${retry.length > 1 ? 's' : ''} again: ${retry.map(short).join('; ')}.`);
  if (optional.length > 0) steps.push(`Run the read-only call${optional.length > 1 ? 's' : ''} again only if the output is still needed: ${optional.map(short).join('; ')}.`);
  if (bookkeeping.length > 0) steps.push(`Check the task list before running again: ${bookkeeping.map(short).join('; ')}; ${bookkeeping.length > 1 ? 'they' : 'it'} may already have taken effect.`);
  const applied = verify.filter((c) => c.file_state === 'applied');
  if (applied.length > 0) steps.push(`Do not redo ${applied.length > 1 ? 'these edits' : 'this edit'}, already on disk: ${applied.map(short).join('; ')}.`);
  const remake = verify.filter((c) => c.file_state === 'not_applied' && c.choice === 'retry');
  if (remake.length > 0) steps.push(`Make ${remake.length > 1 ? 'these changes' : 'this change'} again; ${remake.length > 1 ? 'they are' : 'it is'} not on disk: ${remake.map(short).join('; ')}.`);
  const notApplied = verify.filter((c) => c.file_state === 'not_applied' && c.choice !== 'retry');
  if (notApplied.length > 0) steps.push(`Make ${notApplied.length > 1 ? 'these changes' : 'this change'} again if still wanted; ${notApplied.length > 1 ? 'they are' : 'it is'} not on disk: ${notApplied.map(short).join('; ')}.`);
  const unsure = verify.filter((c) => c.file_state !== 'applied' && c.file_state !== 'not_applied');
  if (unsure.length > 0) steps.push(`Read ${unsure.map((c) => c.file ?? 'the file').join(', ')} and check the state above before changing ${unsure.length > 1 ? 'them' : 'it'}.`);
  const running = ask.filter(isRunning);
  const idle = ask.filter((c) => !running.includes(c));
  if (running.length > 0) steps.push(`Do not start again what is still running: ${running.map((c) => `${short(c)} (${c.running_processes!.map((p) => `pid ${p.pid}`).join(', ')})`).join('; ')}; wait for it or ask the user to stop it.`);
  if (idle.length > 0) steps.push(`Ask the user before running again: ${idle.map(short).join('; ')}; its effects may already be in place.`);
  if (f.untracked.length > 0) steps.push(`Treat the changes listed under "Changes on disk" as already made: do not make them again, and read ${f.untracked.length > 1 ? 'those files' : 'that file'} before editing ${f.untracked.length > 1 ? 'them' : 'it'}.`);
  if (f.partialText) steps.push('Answer the last request again from where your response was cut off, without repeating what you already said.');
  const then = steps.length > 0 ? 'Then continue' : 'Continue';
  steps.push(f.lastUserRequest ? `${then} with the last request; do not claim work is done that the list above does not show as done.` : `${then} where the session stopped.`);
  steps.forEach((s, i) => out.push(`${i + 1}. ${s}`));
  return out.join('\n');
}

function phaseWords(phase: DisconnectPhase): string {
  switch (phase) {
    case 'tool_execution':
      return 'while tools were running';
    case 'streaming':
      return 'while your response was streaming';
    default:
      return 'between turns';
  }
}

const isChange = (c: ActiveToolCall): boolean => c.resume_strategy === 'verify';
const isRunning = (c: ActiveToolCall): boolean => (c.running_processes ?? []).length > 0;

function short(c: ActiveToolCall): string {
  if (c.command) return `${c.tool} \`${quote(c.command, 200)}\``;
  if (c.file) return `${c.tool} ${c.file}`;
  return c.tool;
}

function describe(c: ActiveToolCall): string {
  const known = facts(c);
  if (c.chosen_by !== 'user' || c.choice === undefined || c.choice === 'model') return known;
  const change = c.resume_strategy === 'verify';
  return `${known} The user chose ${c.choice === 'retry' ? (change ? 'to have it made again' : 'to run it again') : change ? 'not to have it made again' : 'not to run it again'}.`;
}

function facts(c: ActiveToolCall): string {
  const what = short(c);
  const id = ` (${c.tool_use_id})`;
  if (c.status === 'interrupted_by_client') return `${what}${id}: Claude Code recorded it only as interrupted.${c.evidence ? ` On disk: ${c.evidence}.` : ''}`;
  switch (c.resume_strategy) {
    case 'retry':
      if (!isReadOnlyTool(c.tool)) return `${what}${id}: a task-list update; it may already have taken effect.`;
      return c.choice === 'model' ? `${what}${id}: read-only.` : `${what}${id}: read-only, safe to run again.`;
    case 'verify':
      return `${what}${id}: file state ${c.file_state ?? 'unknown'} (${c.evidence ?? 'not checked'}).`;
    default: {
      const running = c.running_processes ?? [];
      if (running.length > 0) return `${what}${id}: still running as ${running.map((p) => `pid ${p.pid}`).join(', ')}; it outlived the session, so its output is lost.`;
      return `${what}${id}: was running when the session died; its outcome and side effects are unknown.`;
    }
  }
}

function untrackedSection(effects: UntrackedSideEffect[], snapshotPath: string | null): string[] {
  const out = ['Changes on disk that the transcript does not record (they happened; a tool ran while the session was dying, or something else changed the file):'];
  let budget = DIFFS_TOTAL_CHARS;
  let cut = false;
  for (const u of effects) {
    out.push(`- ${u.file}: ${u.evidence}.`);
    if (u.diff === '') continue;
    const room = Math.min(DIFF_CHARS, budget);
    if (room <= 0) {
      cut = true;
      continue;
    }
    const body = u.diff.trimEnd();
    const shown = body.length > room ? `${body.slice(0, room)}\n[… diff cut at ${room} characters]` : body;
    if (body.length > room) cut = true;
    budget -= Math.min(body.length, room);
    out.push('```diff', shown, '```');
  }
  out.push(
    `(Diffs are shown up to ${DIFF_CHARS} characters each and ${DIFFS_TOTAL_CHARS} in all${cut ? '; some were cut' : ''}.${snapshotPath ? ` The full diffs are in ${snapshotPath}.` : ''})`,
  );
  return out;
}


/** POSIX shell quoting: single quotes, with embedded single quotes closed and escaped. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
