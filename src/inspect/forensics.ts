import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { SessionIndex, ToolCall } from '../index/session-index.js';
import { EntryLoader } from '../index/load.js';
import { scanSession } from '../read/session-reader.js';
import { buildIndex } from '../index/session-index.js';
import { isMutationTool } from './tool-kinds.js';
import { BackupStore, backupHash, readCheckpoints, type CheckpointRecord } from './file-history.js';
import { applyEdits, containmentState, diskUnknownReason, editPairs, readDisk, shownPath, type DiskState, type FileState } from './mutations.js';
import { toolInput } from './tool-input.js';

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
}

/** What one transcript event says a file holds: a full read, or a mutation call. */
type Event =
  | { kind: 'read'; time: number; order: number; line: number; agent: string | null; content: string }
  | { kind: 'call'; time: number; order: number; call: RawCall };

interface RawCall {
  id: string;
  tool: string;
  line: number;
  agent: string | null;
  input: Record<string, unknown>;
  result: CallForensics['result'];
  /** toolUseResult of the result entry, where there is one. */
  recorded: Record<string, unknown> | null;
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

  const collect = (index: SessionIndex, loader: EntryLoader, agent: string | null) => {
    for (const call of index.toolCalls.values()) {
      if (!isMutationTool(call.name) && call.name !== 'Read') continue;
      if (call.name === 'Read' && !o.projectDir) continue; // with no disk to compare, what a read saw tells nothing
      const input = toolInput(loader.load(call.entry), call.id);
      const path = typeof input.file_path === 'string' ? input.file_path : typeof input.notebook_path === 'string' ? input.notebook_path : null;
      if (path === null || path === '') continue;
      if (call.name === 'Read') {
        const content = fullReadContent(call, loader);
        if (content !== null) add(path, { kind: 'read', time: call.entry.time, order: order++, line: call.results[0]!.line, agent, content });
        continue;
      }
      const raw = rawCall(call, loader, input, agent);
      add(path, { kind: 'call', time: call.entry.time, order: order++, call: raw });
    }
  };
  collect(o.index, o.loader, null);
  for (const sub of await subagentFiles(o.file, o.index.sessionId)) {
    const scan = await scanSession(sub.path);
    const loader = new EntryLoader(scan);
    try {
      collect(buildIndex(scan), loader, sub.name);
    } finally {
      loader.close();
    }
  }

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
  const diskOf = (key: string) => readDisk(o.projectDir, cwd, key);

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
      const effect = sideEffect(shownPath(cwd, key), diskOf(key), before ?? undefined, {
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
  const reported = reportedChanges(o.file);
  const fresh = untracked.filter((u) => !reported.has(`${u.file}\0${u.disk_sha256}`));

  files.sort((a, b) => a.file.localeCompare(b.file));
  return { projectDir: o.projectDir, backupsDir: store.dir, files, calls, untracked: fresh, refused, checkpoints };
}

function rawCall(call: ToolCall, loader: EntryLoader, input: Record<string, unknown>, agent: string | null): RawCall {
  const base = { id: call.id, tool: call.name, line: call.entry.line, agent, input };
  const resultEntry = call.results[0];
  if (!resultEntry) return { ...base, result: 'none', recorded: null };
  const interrupted = resultEntry.blocks.some((b) => b.toolUseId === call.id && b.clientInterrupted);
  if (interrupted) return { ...base, result: 'interrupted', recorded: null };
  const entry = loader.load(resultEntry);
  const content = (entry?.message as { content?: unknown } | undefined)?.content;
  const block = Array.isArray(content) ? (content.find((b) => isObject(b) && b.type === 'tool_result' && b.tool_use_id === call.id) as Record<string, unknown> | undefined) : undefined;
  const recorded = isObject(entry?.toolUseResult) ? (entry.toolUseResult as Record<string, unknown>) : null;
  if (block?.is_error === true) return { ...base, result: 'error', recorded };
  return { ...base, result: 'ok', recorded };
}

/** A Read result that holds the whole file (2.x `toolUseResult.file`), or null. */
function fullReadContent(call: ToolCall, loader: EntryLoader): string | null {
  const resultEntry = call.results[0];
  if (!resultEntry) return null;
  const recorded = loader.load(resultEntry)?.toolUseResult;
  const file = isObject(recorded) && isObject(recorded.file) ? (recorded.file as Record<string, unknown>) : null;
  if (!file || typeof file.content !== 'string') return null;
  if (file.startLine !== 1 || typeof file.numLines !== 'number' || file.numLines !== file.totalLines) return null;
  return file.content;
}

interface Step {
  call: RawCall;
  before: string | null | undefined;
  after: string | null | undefined;
}

function judgeFile(shown: string, evs: Event[], disk: DiskState, cps: CheckpointRecord[], store: BackupStore): { file: FileForensics; untracked: UntrackedSideEffect | null } | null {
  // Walk the events, keeping what the transcript says the file holds (undefined: not known).
  let known: string | null | undefined;
  let knownLine = 0;
  let knownFromRead = false;
  const steps: Step[] = [];
  for (const ev of evs) {
    if (ev.kind === 'read') {
      known = ev.content;
      knownLine = ev.line;
      knownFromRead = true;
      continue;
    }
    const c = ev.call;
    const recordedBefore = c.recorded && (typeof c.recorded.originalFile === 'string' || c.recorded.originalFile === null) ? (c.recorded.originalFile as string | null) : undefined;
    let before = recordedBefore !== undefined ? recordedBefore : known;
    if (before === undefined) before = backupBefore(cps, c.line, store);
    const after = c.result === 'error' ? before : expectedAfter(c, before);
    steps.push({ call: c, before, after });
    if (c.result === 'ok' || c.result === 'error') {
      known = after;
      knownLine = c.line;
      knownFromRead = false;
    } else {
      known = undefined; // the outcome of an unfinished call is what the disk must tell
    }
  }
  if (steps.length === 0) {
    // Only reads: report a file only when the disk moved away from what the session read.
    if (known === undefined) return null;
    const effect = sideEffect(shown, disk, known, { source: 'disk', line: knownLine, why: `the file differs from its content when the session read it (line ${knownLine}); something else changed it since`, beforeLabel: 'as read' });
    return effect ? { file: { file: shown, status: 'diverged', evidence: effect.evidence, calls: [], checkpoints: checkpointList(cps, store), diff: effect.diff, diff_kind: 'transcript-to-disk' }, untracked: effect } : null;
  }

  const unknownReason = diskUnknownReason(disk);
  const diskContent = disk.kind === 'file' ? disk.content : disk.kind === 'absent' ? null : undefined;
  const lastEffective = [...steps].reverse().find((s) => s.call.result !== 'error') ?? steps[steps.length - 1]!;
  const finalExpected = lastEffective.after;
  const calls: CallForensics[] = steps.map((s, i) => {
    const verdict = unknownReason !== null || diskContent === undefined ? { status: 'unknown' as FileState, evidence: unknownReason ?? 'the disk could not be read' } : judgeCall(s, steps.slice(i + 1), diskContent, finalExpected, lastEffective);
    return { tool_use_id: s.call.id, tool: s.call.tool, line: s.call.line, agent: s.call.agent, file: shown, result: s.call.result, status: verdict.status, evidence: verdict.evidence };
  });
  const last = calls[steps.indexOf(lastEffective)]!;

  let diff: string | null = null;
  let diffKind: FileForensics['diff_kind'] = null;
  let untracked: UntrackedSideEffect | null = null;
  if (diskContent !== undefined && unknownReason === null) {
    if (known !== undefined && known !== diskContent && !(known !== null && diskContent !== null && equalText(known, diskContent))) {
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
    } else {
      const first = steps[0]!.before;
      if (first !== undefined && first !== diskContent) {
        diff = patch(first === null ? '/dev/null' : `${shown} (before the session's changes)`, diskContent === null ? '/dev/null' : `${shown} (disk)`, first ?? '', diskContent ?? '');
        diffKind = 'checkpoint-to-disk';
      }
    }
  }
  return { file: { file: shown, status: last.status, evidence: last.evidence, calls, checkpoints: checkpointList(cps, store), diff, diff_kind: diffKind }, untracked };
}

function judgeCall(s: Step, later: Step[], disk: string | null, finalExpected: string | null | undefined, lastEffective: Step): { status: FileState; evidence: string } {
  const { call } = s;
  if (call.result === 'error') return { status: 'not_applied', evidence: 'Claude Code reported that this call failed, so it changed nothing' };
  const finished = call.result === 'ok';
  if (s.after !== undefined && disk !== null && equalText(disk, s.after ?? '')) return { status: 'applied', evidence: 'the file on disk equals the state this call leaves' };
  const laterEffective = later.filter((l) => l.call.result !== 'error');
  if (laterEffective.length > 0 && finalExpected !== undefined && finalExpected !== null && disk !== null && equalText(disk, finalExpected)) {
    return { status: 'applied', evidence: `later calls changed the file further, and the disk equals the state after the last of them (line ${lastEffective.call.line})` };
  }
  if (s.before !== undefined) {
    if (s.before === null && disk === null) {
      return finished ? { status: 'missing', evidence: 'the file this call created no longer exists' } : { status: 'not_applied', evidence: 'the file does not exist: this call never created it' };
    }
    if (s.before !== null && disk !== null && equalText(disk, s.before)) {
      return finished
        ? { status: 'diverged', evidence: 'the file is back to its content before this call: the change was undone after it' }
        : { status: 'not_applied', evidence: 'the file on disk equals its content before this call' };
    }
  }
  if (disk === null) return finished ? { status: 'missing', evidence: 'the file no longer exists' } : containmentState(call.tool, call.input, null);
  if (s.after === undefined) {
    const guess = containmentState(call.tool, call.input, disk);
    return { status: guess.status, evidence: `${guess.evidence} (the transcript does not record the file's full content)` };
  }
  return { status: 'diverged', evidence: finished ? 'the file differs from the state the transcript recorded after this call: something else changed it since' : 'the file holds neither its content before this call nor the content this call leaves: something else changed it' };
}

/** The content a call leaves, from its input and what it started from. */
function expectedAfter(c: RawCall, before: string | null | undefined): string | null | undefined {
  if (c.tool === 'Write') return typeof c.input.content === 'string' ? c.input.content : undefined;
  if (c.tool === 'NotebookEdit') return undefined;
  if (before === undefined) return undefined;
  return applyEdits(before, editPairs(c.tool, c.input));
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
  if (before === now || (before !== null && now !== null && equalText(before, now))) return null; // backed up, never changed
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
  if (!/^[A-Za-z0-9_-]+$/.test(id)) return [];
  const dir = join(dirname(file), id, 'subagents');
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.jsonl'))
      .map((e) => ({ path: join(dir, e.name), name: relative(dirname(file), join(dir, e.name)) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

/** Equal, or equal but for one trailing newline (Read results and editors differ there). */
function equalText(a: string, b: string): boolean {
  return a === b || a === `${b}\n` || b === `${a}\n`;
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
