import { randomUUID } from 'node:crypto';
import { copyFile, cp, open, stat, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { analyzeSession, type Analysis } from './analyze.js';
import { planRepairs, type RepairPlan } from './plan/plan.js';
import { actionLine } from './plan/actions.js';
import { writeSession } from './write/session-writer.js';
import { AtomicFile } from './write/atomic-file.js';
import { continuationPrompt, shellQuote, type DisconnectPhase } from './write/prompt.js';
import { RecoverySnapshot } from './write/snapshot.js';
import { Cancelled, InputError, LiveSessionError, RecoveryFailed } from './errors.js';
import { applyChoices, type CallChoice } from './plan/choices.js';
import { DEFAULT_SETTINGS, type ResilienceSettings } from './settings/settings.js';

export interface RecoverOptions {
  /** The session file (already located). */
  file: string;
  claudeDir: string | null;
  projectDir?: string;
  dryRun?: boolean;
  out?: string;
  inPlace?: boolean;
  force?: boolean;
  now?: Date;
  /** The retry settings: they give each interrupted call its default choice. */
  settings?: ChoiceSettings;
  /** Asked once the session is analysed: the user's choice per interrupted call (tool_use_id → choice). Throw Cancelled to stop. */
  decide?: (analysis: Analysis) => Promise<ReadonlyMap<string, CallChoice>>;
  /** Asked before anything is written, with what would be written; false writes nothing. Throw Cancelled to stop. */
  confirm?: (preview: RecoverPreview) => Promise<boolean>;
}

/** What a recovery would write, shown before it does. */
export interface RecoverPreview {
  analysis: Analysis;
  plan: RepairPlan;
  snapshot: RecoverySnapshot;
  target: string;
}

export type ChoiceSettings = Pick<ResilienceSettings, 'auto_retry_readonly_tools' | 'auto_retry_mutations'>;

export interface RecoverResult {
  status: 'healthy' | 'repaired' | 'planned';
  file: string;
  snapshot: RecoverySnapshot;
  written: { session: string | null; snapshot: string | null; backup: string | null };
  analysis: Analysis;
  plan: RepairPlan;
  /** The user answered no when asked to write (`-i`): nothing was written. */
  declined: boolean;
}

/** Analyse a session and, unless it is healthy or this is a dry run, write its repaired copy, snapshot and prompt. */
export async function recover(opts: RecoverOptions): Promise<RecoverResult> {
  if (opts.out && opts.inPlace) throw new InputError('--out and --in-place exclude each other');
  const file = resolve(opts.file);
  if (opts.out && resolve(opts.out) === file) throw new InputError(`${opts.out}: --out names the session itself; use --in-place to replace it`);
  if (opts.out && existsSync(opts.out)) throw new InputError(`${resolve(opts.out)}: already exists; choose another --out`);
  const analysis = await analyzeSession(file, { claudeDir: opts.claudeDir, projectDir: opts.projectDir });
  try {
    if (!opts.force) {
      const live = analysis.liveClients[0];
      if (live) throw new LiveSessionError(`${file}: live session: Claude Code pid ${live.pid} owns it (${live.file}); use --force to recover anyway`);
      if (analysis.scan.grewWhileRead) throw new LiveSessionError(`${file}: the file grew while it was read; a running client is writing it (use --force to recover anyway)`);
    }
    const settings = opts.settings ?? DEFAULT_SETTINGS.network_resilience;
    analysis.activeCalls = applyChoices(analysis.activeCalls, settings);
    if (opts.decide) analysis.activeCalls = applyChoices(analysis.activeCalls, settings, await opts.decide(analysis));
    const plan = planRepairs(analysis.index, analysis.loader, analysis.findings, analysis.activeCalls);
    const oldId = analysis.index.sessionId ?? basename(file, '.jsonl');
    const writeNew = !analysis.healthy || opts.out !== undefined;
    const mode = opts.inPlace ? 'in-place' : opts.out ? 'out' : 'new-session';
    const newId = mode === 'new-session' ? randomUUID() : oldId;
    const target = mode === 'in-place' ? file : mode === 'out' ? resolve(opts.out!) : join(dirname(file), `${newId}.jsonl`);
    const snapshotPath = mode === 'out' ? target.replace(/\.jsonl$/, '') + '.recovery.json' : join(dirname(target), `${newId}.recovery.json`);
    const willWrite = writeNew && !opts.dryRun && !(mode === 'in-place' && analysis.healthy);
    const resumeId = mode === 'out' ? (basename(target, '.jsonl') === oldId ? oldId : null) : newId;
    const now = opts.now ?? new Date();
    const facts = {
      snapshotPath: willWrite && !analysis.healthy ? snapshotPath : null,
      now,
      repairedId: writeNew && !analysis.healthy ? newId : null,
      repairedFile: willWrite ? target : null,
      resumeId: analysis.healthy ? null : resumeId,
    };
    const snapshot = buildSnapshot(analysis, plan, facts);
    const written = { session: null as string | null, snapshot: null as string | null, backup: null as string | null };
    const declined = willWrite && opts.confirm !== undefined && !(await opts.confirm({ analysis, plan, snapshot, target }));
    // Answering -i takes human time: a client may have taken the session up meanwhile.
    if (willWrite && !declined && !opts.force && (await stat(file)).size !== analysis.scan.size) {
      throw new LiveSessionError(`${file}: the session changed since it was read (a client is writing it); nothing was written (use --force to recover anyway)`);
    }
    if (willWrite && !declined) {
      try {
        if (mode === 'in-place') written.backup = await backup(file, now);
        await writeSession({ source: file, target, actions: plan.actions, ...(mode === 'new-session' ? { sessionId: { from: oldId, to: newId } } : {}) });
        written.session = target;
        if (!analysis.healthy) {
          await AtomicFile.writeText(snapshotPath, JSON.stringify(snapshot, null, 2) + '\n');
          written.snapshot = snapshotPath;
        }
        if (mode === 'new-session' && opts.claudeDir) await copySessionState(opts.claudeDir, oldId, newId);
      } catch (err) {
        if (err instanceof InputError || err instanceof LiveSessionError || err instanceof Cancelled) throw err;
        throw new RecoveryFailed(`${target}: could not write the repaired session: ${(err as Error).message}`);
      }
    }
    // Declined: nothing was written, so neither the snapshot nor its prompt may point at a file.
    const final = declined ? buildSnapshot(analysis, plan, { ...facts, snapshotPath: null, repairedFile: null }) : snapshot;
    const status = analysis.healthy ? 'healthy' : written.session !== null ? 'repaired' : 'planned';
    return { status, file, snapshot: final, written, analysis, plan, declined };
  } finally {
    analysis.loader.close();
  }
}

function buildSnapshot(a: Analysis, plan: RepairPlan, o: { now: Date; repairedId: string | null; repairedFile: string | null; resumeId: string | null; snapshotPath: string | null }): RecoverySnapshot {
  const phase = disconnectPhase(a);
  const otherDamage = a.findings
    // The model needs what changed in its conversation; the process record is for the user.
    .filter((f) => f.severity !== 'notice' && !PROMPTED_ELSEWHERE.has(f.code))
    .map((f) => `line ${f.line}: ${f.message} (${f.code})`);
  const prompt = a.healthy
    ? null
    : continuationPrompt({ phase, calls: a.activeCalls, partialText: a.partialText, lastUserRequest: a.lastUserRequest, todos: a.todos, otherDamage, untracked: a.forensics.untracked, snapshotPath: o.snapshotPath });
  const checkpoints = a.index.entries.filter((e) => e.type === 'file-history-snapshot' && e.messageRef);
  const snapshot: RecoverySnapshot = {
    schema: 'ccrescue.recovery/1',
    created_at: o.now.toISOString(),
    session_id: a.index.sessionId,
    source_file: a.file,
    source_size: a.scan.size,
    repaired_session_id: o.repairedId,
    repaired_file: o.repairedFile,
    client_version: a.index.version,
    healthy: a.healthy,
    disconnect_phase: phase,
    active_tool_calls: a.activeCalls,
    partial_response_text: a.partialText,
    last_user_request: a.lastUserRequest,
    last_committed_message_index: lastCommittedMessageIndex(a),
    last_file_checkpoint: checkpoints[checkpoints.length - 1]?.messageRef ?? null,
    pending_todos: a.todos,
    untracked_side_effects: a.forensics.untracked,
    crashed_clients: a.clients.filter((c) => !c.alive).map((c) => ({ pid: c.pid, status: c.status, version: c.version, record: c.file })),
    findings: a.findings,
    repairs: plan.actions.map((x) => ({ action: x.action, line: actionLine(x), safety: x.safety, detail: x.detail })),
    lost_and_found: plan.lostAndFound,
    continuation_prompt: prompt,
    resume_command: prompt && o.resumeId ? `claude --resume ${o.resumeId} ${shellQuote(prompt)}` : null,
  };
  return RecoverySnapshot.parse(snapshot);
}

/** Findings the prompt already covers in its own sections (calls, partial text, disk changes), or that concern the user only. */
const PROMPTED_ELSEWHERE = new Set(['orphaned-tool-use', 'unfinished-turn', 'crashed-client', 'untracked-side-effect', 'surviving-process']);

function disconnectPhase(a: Analysis): DisconnectPhase {
  if (a.activeCalls.some((c) => c.status === 'pending_result')) return 'tool_execution';
  if (a.findings.some((f) => f.code === 'unfinished-turn' || f.code === 'truncated-tail')) return 'streaming';
  // A checkpoint or backup for a message never written: a tool ran while that message still streamed.
  if (a.forensics.untracked.some((u) => u.source !== 'disk')) return 'streaming';
  return 'between_turns';
}

/** Index, in the API message list the branch becomes, of the last message that was completely recorded. */
function lastCommittedMessageIndex(a: Analysis): number {
  let count = 0;
  let lastRole = '';
  let lastMessageId: string | undefined;
  for (const e of a.index.branch) {
    if ((e.type !== 'user' && e.type !== 'assistant') || e.isApiErrorMessage) continue;
    const continues = e.type === lastRole && (e.type === 'user' || e.messageId === lastMessageId || e.messageId === undefined);
    if (!continues) count++;
    lastRole = e.type;
    lastMessageId = e.messageId;
  }
  const cutOff = a.activeCalls.some((c) => c.status === 'pending_result') || a.partialText !== null;
  return Math.max(-1, count - 1 - (cutOff ? 1 : 0));
}

/** Copies the original byte for byte beside it and checks the copy is complete before anything replaces it. */
async function backup(file: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const target = `${file}.bak-${stamp}`;
  await copyFile(file, target, 1 /* COPYFILE_EXCL */);
  const handle = await open(target, 'r+');
  await handle.sync();
  await handle.close();
  const [a, b] = await Promise.all([stat(file), stat(target)]);
  if (a.size !== b.size) {
    await unlink(target).catch(() => undefined);
    throw new RecoveryFailed(`${target}: backup is incomplete (${b.size} of ${a.size} bytes); the original was not touched`);
  }
  return target;
}

/** The new session keeps its checkpoints and tasks: Claude Code looks them up by session id. */
async function copySessionState(claudeDir: string, oldId: string, newId: string): Promise<void> {
  for (const kind of ['file-history', 'tasks']) {
    const from = join(claudeDir, kind, oldId);
    const to = join(claudeDir, kind, newId);
    if (existsSync(from) && !existsSync(to)) await cp(from, to, { recursive: true, verbatimSymlinks: true });
  }
}
