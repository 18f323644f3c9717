import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { SessionIndex, ToolCall } from '../index/session-index.js';
import type { EntryFacts } from '../read/facts.js';
import { EntryLoader } from '../index/load.js';
import { scanSession } from '../read/session-reader.js';
import { buildIndex } from '../index/session-index.js';
import { isMutationTool } from './tool-kinds.js';
import { BackupStore, backupHash, readCheckpoints, type CheckpointRecord } from './file-history.js';
import { applyEdits, containmentState, diskUnknownReason, editPairs, readDisk, resolvesInside, shownPath, type DiskState, type FileState } from './mutations.js';
import { toolInput } from './tool-input.js';
import { isPlainSessionId } from '../locate/claude-dir.js';

/** What became of one Edit/MultiEdit/Write/NotebookEdit the session made or started. */
export interface CallForensics {
  tool_use_id: string;
  tool: string;
  /** Line of the tool_use in its file (the session, or the subagent file named by `agent`). */
  line: number;
  /** Subagent transcript the call is in, relative to the session's folder; null for the session itself. */
  agent: string | null;
  file: string;
  /** What the transcript recorded as its outcome. */
  result: 'ok' | 'error' | 'none' | 'interrupted';
  status: FileState;
  evidence: string;
}

/** One file the session touched: its state on disk against the transcript and the checkpoints. */
export interface FileForensics {
  file: string;
  status: FileState;
  evidence: string;
  calls: CallForensics[];
  checkpoints: { line: number; backup: string | null; version: number | null; present: boolean }[];
  /** Unified diff: transcript → disk when they differ, else checkpoint → disk (what the session changed); null when neither is known. */
  diff: string | null;
  diff_kind: 'transcript-to-disk' | 'checkpoint-to-disk' | null;
}

/** A change on disk that no transcript line records. */
export interface UntrackedSideEffect {
  file: string;
  /** delta: a checkpoint line for a message the transcript lacks; backup: a backup no line names; disk: the disk differs from the last state the transcript knows. */
  source: 'delta' | 'backup' | 'disk';
  line: number | null;
  evidence: string;
  /** Unified diff from the backup (or the last known state, or /dev/null) to the disk. */
  diff: string;
  /** sha256 of the file on disk when this was found (null: absent or not read), so a later run knows it was reported. */
  disk_sha256: string | null;
}

/** A transcript path ccrescue refused to open. */
export interface RefusedPath {
  line: number;
  path: string;
  reason: string;
}

export interface Forensics {
  projectDir: string | null;
  backupsDir: string | null;
  files: FileForensics[];
  /** Every classified call, by tool_use id. */
  calls: Map<string, CallForensics>;
  untracked: UntrackedSideEffect[];
  refused: RefusedPath[];
  checkpoints: CheckpointRecord[];
}

export interface ForensicsOptions {
  index: SessionIndex;
  loader: EntryLoader;
  /** The session file; subagent transcripts are looked for in `<dir>/<session id>/subagents/`. */
  file: string;
  projectDir: string | null;
  claudeDir: string | null;
  /** List every call even when there is no project to compare with (the diff command); otherwise only unanswered ones are read then. */
  listAll?: boolean;
  /** `interrupted`: only calls without a real result (and the checkpoints) are judged; subagent files are left to their own scan. */
  scope?: 'all' | 'interrupted';
}

/** What one transcript event says a file holds: a full read, or a mutation call. Only references are kept; content is loaded per file. */
type Event =
  | { kind: 'read'; time: number; order: number; line: number; loader: EntryLoader; result: EntryFacts }
  | { kind: 'call'; time: number; order: number; call: CallRef };

interface CallRef {
  id: string;
  tool: string;
  line: number;
  agent: string | null;
  loader: EntryLoader;
  entry: EntryFacts;
  resultEntry: EntryFacts | null;
  result: CallForensics['result'];
}

const MAX_WALKED = 20_000;
const SKIPPED_DIRS = new Set(['.git', 'node_modules', '.hg', '.svn', '.venv', 'venv', '__pycache__', 'dist', 'build', 'target', '.next']);

/**
 * File forensics: classifies every mutation the session made or started against the disk, the
 * checkpoints and what the transcript says, and finds the changes no transcript line records.
 */
export async function fileForensics(o: ForensicsOptions): Promise<Forensics> {
  const cwd = o.index.cwd;
  const store = new BackupStore(o.claudeDir, o.index.sessionId);
  const checkpoints = readCheckpoints(o.index, o.loader);
  const refused: RefusedPath[] = [];
  const events = new Map<string, Event[]>(); // keyed by the path as the client saw it (absolute)
  const keyOf = (p: string) => (isAbsolute(p) || !cwd ? p : resolve(cwd, p));
  let order = 0;
  const add = (path: string, ev: Event) => {
    const key = keyOf(path);
    const list = events.get(key);
    if (list) list.push(ev);
    else events.set(key, [ev]);
  };

  const onlyInterrupted = o.scope === 'interrupted';
  const loaders: EntryLoader[] = [];
  const collect = (index: SessionIndex, loader: EntryLoader, agent: string | null) => {
    for (const call of index.toolCalls.values()) {
      if (!isMutationTool(call.name) && call.name !== 'Read') continue;
      if (call.name === 'Read' && (!o.projectDir || onlyInterrupted || call.results.length === 0)) continue; // with no disk to compare, what a read saw tells nothing
      // With no disk to compare, only calls without a real result need a line (their file_state); a listing wants all.
      if (((!o.projectDir && !o.listAll) || onlyInterrupted) && call.results.length > 0 && !call.results[0]!.blocks.some((b) => b.toolUseId === call.id && b.clientInterrupted)) continue;
      const input = toolInput(loader.load(call.entry), call.id);
      const path = typeof input.file_path === 'string' ? input.file_path : typeof input.notebook_path === 'string' ? input.notebook_path : null;
      if (path === null || path === '') continue;
      if (call.name === 'Read') {
        add(path, { kind: 'read', time: call.entry.time, order: order++, line: call.results[0]!.line, loader, result: call.results[0]! });
        continue;
      }
      add(path, { kind: 'call', time: call.entry.time, order: order++, call: callRef(call, loader, agent) });
    }
  };
  collect(o.index, o.loader, null);
  try {
    for (const sub of onlyInterrupted ? [] : await subagentFiles(o.file, o.index.sessionId)) {
      const scan = await scanSession(sub.path);
      const loader = new EntryLoader(scan);
      loaders.push(loader);
      collect(buildIndex(scan), loader, sub.name);
    }
    return judgeAll();
  } finally {
    for (const l of loaders) l.close();
  }

  function judgeAll(): Forensics {
  if (store.refusal && store.dir) refused.push({ line: checkpoints[0]?.line ?? 0, path: store.dir, reason: store.refusal });
  const byFile = new Map<string, CheckpointRecord[]>();
  for (const c of checkpoints) {
    if (c.backupFileName !== null && !BackupStore.isSafeName(c.backupFileName)) {
      refused.push({ line: c.line, path: c.backupFileName, reason: 'the backup name is not a plain file name; not opened' });
      continue;
    }
    const key = keyOf(c.path);
    const list = byFile.get(key);
    if (list) list.push(c);
    else byFile.set(key, [c]);
  }

  const files: FileForensics[] = [];
  const calls = new Map<string, CallForensics>();
  const untracked: UntrackedSideEffect[] = [];
  const covered = new Set<string>();
  const diskEffects = new Map<string, UntrackedSideEffect>();
  // Each file is read once: the per-file verdict, the checkpoint passes and the final hashes share it.
  const disks = new Map<string, DiskState>();
  const diskOf = (key: string) => {
    let disk = disks.get(key);
    if (!disk) disks.set(key, (disk = readDisk(o.projectDir, cwd, key)));
    return disk;
  };

  for (const [key, evs] of events) {
    evs.sort((a, b) => (Number.isNaN(a.time) || Number.isNaN(b.time) || a.time === b.time ? a.order - b.order : a.time - b.time));
    const shown = shownPath(cwd, key);
    const disk = diskOf(key);
    if (disk.kind === 'outside') {
      const first = evs[0]!;
      refused.push({ line: first.kind === 'call' ? first.call.line : first.line, path: key, reason: 'outside the project directory (or a symlink leading out of it); not read' });
    }
    const cps = byFile.get(key) ?? [];
    const report = judgeFile(shown, evs, disk, cps, store);
    if (report) {
      files.push(report.file);
      for (const c of report.file.calls) calls.set(c.tool_use_id, c);
      if (report.untracked) diskEffects.set(key, report.untracked);
    }
  }

  // Checkpoint lines for a message the transcript never recorded: a tool ran, its call is lost.
  const known = (id: string | null) => id !== null && o.index.byUuid.has(id);
  for (const c of checkpoints) {
    if (c.kind !== 'delta' || known(c.messageId)) continue;
    const key = keyOf(c.path);
    if (covered.has(key)) continue;
    const before = c.backupFileName === null ? null : store.read(c.backupFileName);
    const effect = sideEffect(shownPath(cwd, key), diskOf(key), before, {
      source: 'delta',
      line: c.line,
      why: `line ${c.line} is Claude Code's checkpoint for a change by message ${c.messageId ?? '(none)'}, which the transcript never recorded`,
      beforeLabel: c.backupFileName === null ? 'did not exist before' : `backup ${c.backupFileName}`,
    });
    if (effect) {
      untracked.push(effect);
      covered.add(key);
    }
  }

  // Backups no line names: the client backed a file up just before a tool changed it, then died.
  const named = new Set(checkpoints.map((c) => c.backupFileName).filter((n): n is string => n !== null));
  const unnamed = store.list().filter((n) => !named.has(n));
  if (unnamed.length > 0) {
    const pathsByHash = candidatePaths(o.projectDir, cwd, [...events.keys(), ...[...byFile.keys()]]);
    const firstOfHash = new Map<string, string>();
    for (const name of unnamed) {
      const hash = name.split('@v')[0]!;
      if (!firstOfHash.has(hash)) firstOfHash.set(hash, name); // the oldest version holds the content before the change
    }
    for (const [hash, name] of firstOfHash) {
      const key = pathsByHash.get(hash);
      if (key && covered.has(key)) continue;
      const before = store.read(name);
      if (!key) {
        untracked.push({
          file: `(unidentified file, backup ${name})`,
          source: 'backup',
          line: null,
          evidence: `the backup ${name} in ${store.dir} is named by no line and matches no path the transcript or the project holds; it keeps ${before === undefined ? 'unreadable content' : `${Buffer.byteLength(before)} bytes`} of a file as it was before a change`,
          diff: '',
          disk_sha256: null,
        });
        continue;
      }
      const effect = sideEffect(shownPath(cwd, key), diskOf(key), before, {
        source: 'backup',
        line: null,
        why: `Claude Code backed this file up as ${name} before changing it, and no line of the transcript records that change`,
        beforeLabel: `backup ${name}`,
      });
      if (effect) {
        untracked.push(effect);
        covered.add(key);
      }
    }
  }

  // Last, the weakest evidence: the disk differs from what the transcript last knew.
  for (const [key, effect] of diskEffects) if (!covered.has(key)) untracked.push(effect);
  for (const u of untracked) {
    const disk = u.file.startsWith('(') ? null : diskOf(keyOf(u.file));
    u.disk_sha256 = disk?.kind === 'file' ? sha256(disk.content) : null;
  }
  // A change a recovery already reported (its snapshot sits beside the session) is known now, while the disk still holds it.
  const reported = untracked.length > 0 ? reportedChanges(o.file) : new Set<string>();
  const fresh = untracked.filter((u) => !reported.has(`${u.file}\0${u.disk_sha256}`));

  for (const name of store.symlinks) {
    const line = checkpoints.find((c) => c.backupFileName === name)?.line ?? 0;
    refused.push({ line, path: join(store.dir!, name), reason: 'the backup is a symlink (it may lead out of the Claude dir); not opened' });
  }
  files.sort((a, b) => a.file.localeCompare(b.file));
  return { projectDir: o.projectDir, backupsDir: store.dir, files, calls, untracked: fresh, refused, checkpoints };
  }
}

function callRef(call: ToolCall, loader: EntryLoader, agent: string | null): CallRef {
  const base = { id: call.id, tool: call.name, line: call.entry.line, agent, loader, entry: call.entry };
  const resultEntry = call.results[0] ?? null;
  if (!resultEntry) return { ...base, resultEntry, result: 'none' };
  const block = resultEntry.blocks.find((b) => b.type === 'tool_result' && b.toolUseId === call.id);
  if (block?.clientInterrupted) return { ...base, resultEntry, result: 'interrupted' };
  return { ...base, resultEntry, result: block?.isError ? 'error' : 'ok' };
}

/** A Read result that holds the whole file (2.x `toolUseResult.file`), or null. */
function fullReadContent(result: EntryFacts, loader: EntryLoader): string | null {
  const recorded = loader.load(result)?.toolUseResult;
  const file = isObject(recorded) && isObject(recorded.file) ? (recorded.file as Record<string, unknown>) : null;
  if (!file || typeof file.content !== 'string') return null;
  if (file.startLine !== 1 || typeof file.numLines !== 'number' || file.numLines !== file.totalLines) return null;
  return file.content;
}

/**
 * What a file held at one point, kept small: null (absent), undefined (not known), or the sha256 of
 * its content with and without one trailing newline (Read results and editors differ there).
 */
type Print = string[] | null | undefined;

function printOf(text: string | null | undefined): Print {
  if (text === null || text === undefined) return text;
  return [sha256(text), text.endsWith('\n') ? sha256(text.slice(0, -1)) : sha256(`${text}\n`)];
}

/** Whether the disk (its exact hash, or null when absent) matches a print. */
function holds(print: Print, disk: string | null): boolean {
  if (print === undefined) return false;
  if (print === null || disk === null) return print === null && disk === null;
  return print.includes(disk);
}

interface Step {
  call: CallRef;
  before: Print;
  after: Print;
  /** The call's input, kept only when its result cannot be computed (the fallback compares it with the disk). */
  input: Record<string, unknown> | null;
}

function judgeFile(shown: string, evs: Event[], disk: DiskState, cps: CheckpointRecord[], store: BackupStore): { file: FileForensics; untracked: UntrackedSideEffect | null } | null {
  const unknownReason = diskUnknownReason(disk);
  const calls = evs.filter((e): e is Extract<Event, { kind: 'call' }> => e.kind === 'call').map((e) => e.call);
  if (unknownReason !== null) {
    // Nothing on disk to compare: each call is unknown, and no content needs loading.
    if (calls.length === 0) return null;
    const list = calls.map((c) => ({ tool_use_id: c.id, tool: c.tool, line: c.line, agent: c.agent, file: shown, result: c.result, status: 'unknown' as FileState, evidence: unknownReason }));
    return { file: { file: shown, status: 'unknown', evidence: unknownReason, calls: list, checkpoints: checkpointList(cps, store), diff: null, diff_kind: null }, untracked: null };
  }
  // Walk the events, keeping what the transcript says the file holds (undefined: not known).
  let known: string | null | undefined;
  let knownLine = 0;
  let knownFromRead = false;
  let firstBefore: string | null | undefined;
  const steps: Step[] = [];
  for (const ev of evs) {
    if (ev.kind === 'read') {
      const content = fullReadContent(ev.result, ev.loader);
      if (content === null) continue;
      known = content;
      knownLine = ev.line;
      knownFromRead = true;
      continue;
    }
    const c = ev.call;
    const input = toolInput(c.loader.load(c.entry), c.id);
    const recorded = c.result === 'ok' || c.result === 'error' ? c.loader.load(c.resultEntry!)?.toolUseResult : undefined;
    const recordedBefore = isObject(recorded) && (typeof recorded.originalFile === 'string' || recorded.originalFile === null) ? (recorded.originalFile as string | null) : undefined;
    let before = recordedBefore !== undefined ? recordedBefore : known;
    if (before === undefined) before = backupBefore(cps, c.line, store);
    const after = c.result === 'error' ? before : expectedAfter(c.tool, input, before);
    if (steps.length === 0) firstBefore = before;
    steps.push({ call: c, before: printOf(before), after: printOf(after), input: after === undefined ? input : null });
    if (c.result === 'ok' || c.result === 'error') {
      known = after;
      knownLine = c.line;
      knownFromRead = false;
    } else {
      known = undefined; // the outcome of an unfinished call is what the disk must tell
    }
  }
  const diskContent = disk.kind === 'file' ? disk.content : null;
  const diskHash = diskContent === null ? null : sha256(diskContent);
  if (steps.length === 0) {
    // Only reads: report a file only when the disk moved away from what the session read.
    if (known === undefined) return null;
    const effect = sideEffect(shown, disk, known, { source: 'disk', line: knownLine, why: `the file differs from its content when the session read it (line ${knownLine}); something else changed it since`, beforeLabel: 'as read' });
    return effect ? { file: { file: shown, status: 'diverged', evidence: effect.evidence, calls: [], checkpoints: checkpointList(cps, store), diff: effect.diff, diff_kind: 'transcript-to-disk' }, untracked: effect } : null;
  }

  const lastEffective = [...steps].reverse().find((s) => s.call.result !== 'error') ?? steps[steps.length - 1]!;
  const list: CallForensics[] = steps.map((s, i) => {
    const verdict = judgeCall(s, steps.slice(i + 1), diskHash, diskContent, lastEffective);
    return { tool_use_id: s.call.id, tool: s.call.tool, line: s.call.line, agent: s.call.agent, file: shown, result: s.call.result, status: verdict.status, evidence: verdict.evidence };
  });
  const last = list[steps.indexOf(lastEffective)]!;

  let diff: string | null = null;
  let diffKind: FileForensics['diff_kind'] = null;
  let untracked: UntrackedSideEffect | null = null;
  if (known !== undefined && !holds(printOf(known), diskHash === null ? null : diskHash)) {
    diff = patch(`${shown} (${knownFromRead ? 'as read' : 'as the transcript left it'})`, `${shown} (disk)`, known ?? '', diskContent ?? '');
    diffKind = 'transcript-to-disk';
    untracked = {
      file: shown,
      source: 'disk',
      line: knownLine,
      evidence: `the file ${diskContent === null ? 'no longer exists, though' : 'differs from the state'} the transcript last recorded (line ${knownLine}); something outside the recorded calls changed it since`,
      diff,
      disk_sha256: null,
    };
  } else if (firstBefore !== undefined && !holds(printOf(firstBefore), diskHash)) {
    diff = patch(firstBefore === null ? '/dev/null' : `${shown} (before the session's changes)`, diskContent === null ? '/dev/null' : `${shown} (disk)`, firstBefore ?? '', diskContent ?? '');
    diffKind = 'checkpoint-to-disk';
  }
  return { file: { file: shown, status: last.status, evidence: last.evidence, calls: list, checkpoints: checkpointList(cps, store), diff, diff_kind: diffKind }, untracked };
}

function judgeCall(s: Step, later: Step[], diskHash: string | null, disk: string | null, lastEffective: Step): { status: FileState; evidence: string } {
  const { call } = s;
  if (call.result === 'error') return { status: 'not_applied', evidence: 'Claude Code reported that this call failed, so it changed nothing' };
  const finished = call.result === 'ok';
  if (disk !== null && holds(s.after, diskHash)) return { status: 'applied', evidence: 'the file on disk equals the state this call leaves' };
  if (disk !== null && later.some((l) => l.call.result !== 'error') && holds(lastEffective.after, diskHash)) {
    return { status: 'applied', evidence: `later calls changed the file further, and the disk equals the state after the last of them (line ${lastEffective.call.line})` };
  }
  if (s.before !== undefined) {
    if (s.before === null && disk === null) {
      return finished ? { status: 'missing', evidence: 'the file this call created no longer exists' } : { status: 'not_applied', evidence: 'the file does not exist: this call never created it' };
    }
    if (s.before !== null && disk !== null && holds(s.before, diskHash)) {
      return finished
        ? { status: 'diverged', evidence: 'the file is back to its content before this call: the change was undone after it' }
        : { status: 'not_applied', evidence: 'the file on disk equals its content before this call' };
    }
  }
  if (disk === null) return finished ? { status: 'missing', evidence: 'the file no longer exists' } : containmentState(call.tool, s.input ?? {}, null);
  if (s.after === undefined) {
    const guess = containmentState(call.tool, s.input ?? {}, disk);
    return { status: guess.status, evidence: `${guess.evidence} (the transcript does not record the file's full content)` };
  }
  return { status: 'diverged', evidence: finished ? 'the file differs from the state the transcript recorded after this call: something else changed it since' : 'the file holds neither its content before this call nor the content this call leaves: something else changed it' };
}

/** The content a call leaves, from its input and what it started from. */
function expectedAfter(tool: string, input: Record<string, unknown>, before: string | null | undefined): string | null | undefined {
  if (tool === 'Write') return typeof input.content === 'string' ? input.content : undefined;
  if (tool === 'NotebookEdit') return undefined;
  if (before === undefined) return undefined;
  return applyEdits(before, editPairs(tool, input));
}

/** The newest checkpoint backup of a file taken before a line, as the file's content then. */
function backupBefore(cps: CheckpointRecord[], line: number, store: BackupStore): string | null | undefined {
  const prior = cps.filter((c) => c.line < line);
  const last = prior[prior.length - 1] ?? cps[0];
  if (!last) return undefined;
  if (last.backupFileName === null) return null;
  return store.read(last.backupFileName);
}

function checkpointList(cps: CheckpointRecord[], store: BackupStore): FileForensics['checkpoints'] {
  const seen = new Set<string>();
  const out: FileForensics['checkpoints'] = [];
  for (const c of cps) {
    const id = `${c.backupFileName}@${c.version}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ line: c.line, backup: c.backupFileName, version: c.version, present: c.backupFileName === null ? false : store.read(c.backupFileName) !== undefined });
  }
  return out;
}

function sideEffect(shown: string, disk: DiskState, before: string | null | undefined, o: { source: UntrackedSideEffect['source']; line: number | null; why: string; beforeLabel: string }): UntrackedSideEffect | null {
  const reason = diskUnknownReason(disk);
  if (reason !== null) {
    // Nothing to compare, but the trace itself is evidence worth keeping, except for plain reads.
    return o.source === 'disk' ? null : { file: shown, source: o.source, line: o.line, evidence: `${o.why}; ${reason}`, diff: '', disk_sha256: null };
  }
  const now = disk.kind === 'file' ? disk.content : null;
  if (before === undefined) {
    return o.source === 'disk' ? null : { file: shown, source: o.source, line: o.line, evidence: `${o.why}; the backup cannot be read, so only the current file is known`, diff: now === null ? '' : patch('/dev/null', `${shown} (disk)`, '', now), disk_sha256: null };
  }
  if (holds(printOf(before), now === null ? null : sha256(now))) return null; // backed up, never changed
  const fromLabel = before === null ? '/dev/null' : `${shown} (${o.beforeLabel})`;
  const toLabel = now === null ? '/dev/null' : `${shown} (disk)`;
  const what = now === null ? '; it is now deleted' : before === null ? '; it now exists' : o.source === 'disk' ? '' : '; it now differs';
  return { file: shown, source: o.source, line: o.line, evidence: `${o.why}${what}`, diff: patch(fromLabel, toLabel, before ?? '', now ?? ''), disk_sha256: null };
}

/** Absolute paths (as the client saw them) by backup hash: transcript paths first, then the project's files. */
function candidatePaths(projectDir: string | null, cwd: string | null, known: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of known) if (isAbsolute(p)) map.set(backupHash(p), p);
  if (!projectDir) return map;
  const top = resolve(projectDir);
  if (dirname(top) === top) return map; // a project dir of `/` is never walked: nothing is opened through it
  const root = cwd ?? projectDir;
  let budget = MAX_WALKED;
  const walk = (dir: string, rel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (budget-- <= 0) return;
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) walk(join(dir, e.name), childRel);
      } else if (e.isFile()) {
        const abs = join(root, childRel);
        const hash = backupHash(abs);
        if (!map.has(hash)) map.set(hash, abs);
      }
      // symlinks are never followed
    }
  };
  walk(projectDir, '');
  return map;
}

/** Subagent transcripts of a session (2.1.x layout: `<session dir>/<session id>/subagents/*.jsonl`). */
async function subagentFiles(file: string, sessionId: string | null): Promise<{ path: string; name: string }[]> {
  const id = sessionId ?? basename(file, '.jsonl');
  if (!isPlainSessionId(id)) return [];
  const dir = join(dirname(file), id, 'subagents');
  try {
    if (!resolvesInside(dir, dirname(file))) return []; // a folder symlinked out of the session's folder is not read
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
      .map((e) => ({ path: join(dir, e.name), name: relative(dirname(file), join(dir, e.name)) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

/** A unified diff with a few lines of context; the cap on its size is the caller's. */
export function patch(fromLabel: string, toLabel: string, from: string, to: string): string {
  // The diff package opens with an `===` rule line; a plain unified diff starts at `---`.
  return createTwoFilesPatch(fromLabel, toLabel, from, to, undefined, undefined, { context: 3 }).replace(/^=+\n/, '');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `<file>:<disk sha256>` of the changes the recovery snapshot beside a session (`<name>.recovery.json`) already reported. */
function reportedChanges(sessionFile: string): Set<string> {
  const out = new Set<string>();
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(sessionFile.replace(/\.jsonl$/, '') + '.recovery.json', 'utf8'));
  } catch {
    return out;
  }
  const list = isObject(doc) && doc.schema === 'ccrescue.recovery/1' && Array.isArray(doc.untracked_side_effects) ? doc.untracked_side_effects : [];
  for (const u of list) if (isObject(u) && typeof u.file === 'string' && (typeof u.disk_sha256 === 'string' || u.disk_sha256 === null)) out.add(`${u.file}\0${u.disk_sha256}`);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
