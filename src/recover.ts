import { randomUUID } from 'node:crypto';
import { cp, readFile, rename, rm, stat, unlink, lstat } from 'node:fs/promises';
import { createReadStream, existsSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { analyzeSession, type Analysis } from './analyze.js';
import { planRepairs, type RepairPlan } from './plan/plan.js';
import { actionLine } from './plan/actions.js';
import { prepareSession } from './write/session-writer.js';
import { AtomicFile } from './write/atomic-file.js';
import { continuationPrompt, shellQuote, type DisconnectPhase } from './write/prompt.js';
import { RecoverySnapshot } from './write/snapshot.js';
import { Cancelled, InputError, LiveSessionError, RecoveryFailed, systemReason } from './errors.js';
import { applyChoices, type CallChoice, type ChoiceSettings } from './plan/choices.js';
import { isPlainSessionId } from './locate/claude-dir.js';
import { pidRuns } from './inspect/clients.js';
import { DEFAULT_SETTINGS } from './settings/settings.js';

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

export type { ChoiceSettings };

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
  // Two runs replacing one session would each copy a file the other is replacing: one at a time.
  const unlock = opts.inPlace && !opts.dryRun && existsSync(file) ? await lockSession(file) : null;
  try {
    return await recoverSession(file, opts);
  } finally {
    await unlock?.();
  }
}

async function recoverSession(file: string, opts: RecoverOptions): Promise<RecoverResult> {
  // The file as it is before it is read: replaced by another writer later, it is not written over.
  const identity = await stat(file).catch(() => null);
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
    if (willWrite && !declined) {
      await checkUnchanged(file, identity, analysis.scan.size, opts.force, 'since it was read');
      await AtomicFile.removeStale(dirname(target));
      const backupPath = `${file}.bak-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
      // Every file is written and fsynced under a temp name first, and only then named (the
      // session, then its snapshot): a failure (a full disk, a read-only folder) leaves the
      // original as it was and nothing under the final names; `undo` takes back what was named.
      const staged: AtomicFile[] = [];
      const undo: (() => Promise<unknown>)[] = [];
      let step: 'backup' | 'session' | 'snapshot' | 'state' = 'session';
      try {
        if (mode === 'in-place') {
          step = 'backup';
          written.backup = await backup(file, backupPath, analysis.scan.size);
          undo.push(() => unlink(backupPath));
        }
        step = 'session';
        const { file: session } = await prepareSession({
          source: file,
          target,
          actions: plan.actions,
          sourceBytes: analysis.scan.size,
          exclusive: mode === 'out', // two runs with one --out: the second fails, never replaces
          ...(mode === 'new-session' ? { sessionId: { from: oldId, to: newId } } : {}),
        });
        staged.push(session);
        let snapshotFile: AtomicFile | null = null;
        if (!analysis.healthy) {
          step = 'snapshot';
          snapshotFile = await AtomicFile.create(snapshotPath);
          staged.push(snapshotFile);
          await snapshotFile.write(JSON.stringify(snapshot, null, 2) + '\n');
          await snapshotFile.prepare();
        }
        // What was copied is what was analysed only if the file is still the one that was read.
        await checkUnchanged(file, identity, analysis.scan.size, opts.force, 'while it was being repaired');
        step = 'session';
        await session.commit();
        written.session = target;
        if (mode === 'in-place') undo.splice(0, undo.length, () => rename(backupPath, file)); // the backup is the original
        else undo.push(() => unlink(target));
        if (snapshotFile) {
          step = 'snapshot';
          await snapshotFile.commit();
          written.snapshot = snapshotPath;
          undo.push(() => unlink(snapshotPath));
        }
        if (mode === 'new-session' && opts.claudeDir) {
          step = 'state';
          await copySessionState(opts.claudeDir, oldId, newId, undo);
        }
      } catch (err) {
        await Promise.all(staged.map((f) => f.abort()));
        const undone = await Promise.all(undo.reverse().map((f) => f().then(() => true, () => false)));
        if (err instanceof InputError || err instanceof LiveSessionError || err instanceof RecoveryFailed || err instanceof Cancelled) throw err;
        // The contract's answer to a lost race for --out: the name is taken.
        if (step === 'session' && mode === 'out' && (err as NodeJS.ErrnoException).code === 'EEXIST') throw new InputError(`${target}: already exists; choose another --out`);
        const what = { backup: [backupPath, 'write the backup'], session: [target, 'write the repaired session'], snapshot: [snapshotPath, 'write the recovery snapshot'], state: [opts.claudeDir, `copy the session's checkpoints and tasks to ${newId}`] }[step];
        const left = undone.every(Boolean)
          ? mode === 'in-place' && written.session !== null ? 'the original is back in place' : 'the original is untouched'
          : mode === 'in-place' && written.session !== null
            ? `the session holds the repaired copy; the original is in ${backupPath}`
            : `the original is untouched; remove what was left: ${[written.backup, written.session, written.snapshot].filter(Boolean).join(', ')}`;
        throw new RecoveryFailed(`${what[0]}: could not ${what[1]}: ${systemReason(err)}; ${left}`);
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

/**
 * Copies the original byte for byte to `target` and checks the copy is complete (fsynced, at least
 * every byte analysed, as many bytes on disk as were read) before it takes its name; an existing
 * backup is never replaced.
 */
async function backup(file: string, target: string, analysedBytes: number): Promise<string> {
  const copy = await AtomicFile.create(target, { exclusive: true });
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) await copy.write(chunk as Buffer);
    await copy.prepare();
    const onDisk = (await stat(copy.temp)).size;
    if (copy.bytes < analysedBytes || onDisk !== copy.bytes) {
      throw new RecoveryFailed(`${target}: backup is incomplete (${onDisk} of ${Math.max(copy.bytes, analysedBytes)} bytes); the original is untouched`);
    }
    await copy.commit();
  } catch (err) {
    await copy.abort();
    throw err;
  }
  return target;
}

/**
 * Refuses to write once the session is not the file that was analysed: replaced (another program
 * renamed a file over it: what was read may mix both files, so even --force does not write), or
 * grown (a live client; --force writes the bytes that were analysed).
 */
async function checkUnchanged(file: string, identity: Stats | null, analysedBytes: number, force: boolean | undefined, when: string): Promise<void> {
  const now = await stat(file);
  if (identity !== null && (now.ino !== identity.ino || now.dev !== identity.dev)) {
    throw new LiveSessionError(`${file}: the session was replaced ${when} (another program wrote it); nothing was written`);
  }
  if (!force && now.size !== analysedBytes) {
    throw new LiveSessionError(`${file}: the session changed ${when} (a client is writing it); nothing was written (use --force to recover anyway)`);
  }
}

/**
 * Takes `<session>.ccrescue-lock` (holding our pid) for an in-place run; returns its release. A
 * lock whose pid no longer runs was left by a killed run and is taken over. Two runs that find
 * the same stale lock at once could both take it (a killed run and two new ones within a
 * millisecond); checkUnchanged still keeps each one's output whole.
 */
async function lockSession(file: string): Promise<() => Promise<void>> {
  const lock = `${file}.ccrescue-lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      // Written whole, then named: a lock is never seen without its pid.
      await AtomicFile.writeText(lock, `${process.pid}\n`, { exclusive: true });
      return () => unlink(lock).catch(() => undefined);
    } catch (err) {
      // A folder where no lock can be made (read-only): the write fails there too, with its own
      // message, unless there is nothing to write (a healthy or a live session).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return async () => undefined;
      const pid = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
      if (attempt > 0 || (pid > 0 && pidRuns(pid))) {
        throw new LiveSessionError(`${file}: another ccrescue${pid > 0 ? ` (pid ${pid})` : ''} is replacing this session in place; wait for it to end, or remove ${lock} if no such run exists`);
      }
      await unlink(lock).catch(() => undefined);
    }
  }
}

/** The new session keeps its checkpoints and tasks: Claude Code looks them up by session id. Each copy made is added to `undo`. */
async function copySessionState(claudeDir: string, oldId: string, newId: string, undo: (() => Promise<unknown>)[]): Promise<void> {
  // The old id is the transcript's own: `../../x` would copy a folder from outside the Claude dir.
  if (!isPlainSessionId(oldId)) return;
  for (const kind of ['file-history', 'tasks']) {
    const from = join(claudeDir, kind, oldId);
    const to = join(claudeDir, kind, newId);
    // A folder that is a symlink (it may lead out of the Claude dir) is not copied.
    if (existsSync(from) && !existsSync(to) && (await lstat(from)).isDirectory()) {
      undo.push(() => rm(to, { recursive: true, force: true }));
      await cp(from, to, { recursive: true, verbatimSymlinks: true });
    }
  }
}
