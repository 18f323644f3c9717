import { createHash } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionIndex } from '../index/session-index.js';
import type { EntryLoader } from '../index/load.js';
import { readRegularFile, resolvesInside } from './mutations.js';
import { isPlainSessionId } from '../locate/claude-dir.js';

/**
 * One file's backup as a checkpoint line records it: a `file-history-snapshot` names every tracked
 * file of a prompt (`isSnapshotUpdate` lines extend it), a `file-history-delta` (≈2.1.220 on) adds one.
 */
export interface CheckpointRecord {
  line: number;
  kind: 'snapshot' | 'delta';
  /** Path as recorded: relative to the session's cwd in every sample seen, absolute in a few. */
  path: string;
  /** `<hash>@v<N>`; null means the file did not exist when the checkpoint was taken. */
  backupFileName: string | null;
  version: number | null;
  backupTime: string | null;
  /** snapshot: the user message it was taken for; delta: the assistant entry whose tool caused it. */
  messageId: string | null;
  snapshotMessageId: string | null;
}

/** Every file named by the session's checkpoint lines, in file order. */
export function readCheckpoints(index: SessionIndex, loader: EntryLoader): CheckpointRecord[] {
  const out: CheckpointRecord[] = [];
  for (const e of index.entries) {
    if (e.type !== 'file-history-snapshot' && e.type !== 'file-history-delta') continue;
    const entry = loader.load(e);
    if (!entry) continue;
    if (e.type === 'file-history-delta') {
      const backup = asObject(entry.backup);
      const path = str(entry.trackingPath);
      if (path === null) continue;
      out.push({
        line: e.line,
        kind: 'delta',
        path,
        backupFileName: str(backup?.backupFileName),
        version: num(backup?.version),
        backupTime: str(backup?.backupTime),
        messageId: str(entry.messageId),
        snapshotMessageId: str(entry.snapshotMessageId),
      });
      continue;
    }
    const snapshot = asObject(entry.snapshot);
    const tracked = asObject(snapshot?.trackedFileBackups);
    if (!tracked) continue;
    for (const [path, value] of Object.entries(tracked)) {
      const backup = asObject(value);
      // One published example maps a path straight to content; that shape names no backup to read.
      if (!backup) continue;
      out.push({
        line: e.line,
        kind: 'snapshot',
        path,
        backupFileName: str(backup.backupFileName),
        version: num(backup.version),
        backupTime: str(backup.backupTime),
        messageId: str(entry.messageId) ?? str(snapshot?.messageId),
        snapshotMessageId: null,
      });
    }
  }
  return out;
}

/** Claude Code names a backup after the first 16 hex digits of the sha256 of the file's absolute path. */
export function backupHash(absolutePath: string): string {
  return createHash('sha256').update(absolutePath).digest('hex').slice(0, 16);
}

const SAFE_BACKUP = /^[A-Za-z0-9_-]{1,128}@v\d{1,9}$/;

/** A session's backup store: `<claude-dir>/file-history/<sessionId>/`. Names from the transcript are checked before use. */
export class BackupStore {
  readonly dir: string | null;
  /** Why the store exists but is not opened: its folder leads out of the Claude dir (a symlink); null when it may be read. */
  readonly refusal: string | null = null;
  private listing: string[] | null = null;
  /** Backup names found to be symlinks (never followed: they may lead out of the Claude dir). */
  readonly symlinks = new Set<string>();

  constructor(claudeDir: string | null, sessionId: string | null) {
    this.dir = claudeDir && sessionId && isPlainSessionId(sessionId) ? join(claudeDir, 'file-history', sessionId) : null;
    if (this.dir !== null && claudeDir && exists(this.dir) && !resolvesInside(this.dir, claudeDir)) {
      this.refusal = 'the backup folder leads out of the Claude dir (a symlink); not opened';
    }
  }

  /** Whether a recorded backup name is one this store may open (no separators, no `..`). */
  static isSafeName(name: string): boolean {
    return SAFE_BACKUP.test(name);
  }

  /** Backup file names present on disk (regular files only). */
  list(): string[] {
    if (this.listing) return this.listing;
    this.listing = [];
    if (!this.dir || this.refusal) return this.listing;
    try {
      for (const name of readdirSync(this.dir)) {
        if (!SAFE_BACKUP.test(name)) continue;
        try {
          const st = lstatSync(join(this.dir, name));
          if (st.isFile()) this.listing.push(name);
          else if (st.isSymbolicLink()) this.symlinks.add(name);
        } catch {
          // vanished while listed
        }
      }
    } catch {
      // no store for this session
    }
    this.listing.sort(compareBackupNames);
    return this.listing;
  }

  /** A backup's content; undefined when it is absent, unsafe to open or unreadable. Symlinks are never followed. */
  read(name: string): string | undefined {
    if (!this.dir || this.refusal || !SAFE_BACKUP.test(name)) return undefined;
    const path = join(this.dir, name);
    try {
      if (lstatSync(path).isSymbolicLink()) this.symlinks.add(name);
    } catch {
      return undefined;
    }
    const r = readRegularFile(path);
    return r.kind === 'file' ? r.content : undefined;
  }
}

/** Orders `<hash>@v<N>` names by hash, then by version as a number. */
export function compareBackupNames(a: string, b: string): number {
  const [ha = '', va = '0'] = a.split('@v');
  const [hb = '', vb = '0'] = b.split('@v');
  return ha < hb ? -1 : ha > hb ? 1 : Number(va) - Number(vb);
}

/** Whether anything (a symlink included) is at a path. */
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function asObject(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}
function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
