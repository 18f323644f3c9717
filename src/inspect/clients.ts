import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from './mutations.js';
import { bootTimeMs, readStat } from './processes.js';

/** A `<claude-dir>/sessions/<pid>.json` record: which Claude Code process owns which session. */
export interface ClientRecord {
  file: string;
  pid: number;
  sessionId: string | null;
  cwd: string | null;
  status: string | null;
  version: string | null;
  startedAt: string | number | null;
  procStart: string | number | null;
  /** Whether that very process is still running (a reused pid does not count). */
  alive: boolean;
}

/** Reads every process record under the Claude dir; unreadable records are skipped (they name no session). */
export function readClientRecords(claudeDir: string): ClientRecord[] {
  const dir = join(claudeDir, 'sessions');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const records: ClientRecord[] = [];
  for (const name of names) {
    let raw: Record<string, unknown>;
    try {
      const read = readRegularFile(join(dir, name)); // a symlink is never followed
      if (read.kind !== 'file') continue;
      raw = JSON.parse(read.content) as Record<string, unknown>;
    } catch {
      continue;
    }
    const pid = typeof raw.pid === 'number' ? raw.pid : Number.parseInt(name, 10);
    const pick = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : null);
    const timeish = (k: string) => (typeof raw[k] === 'string' || typeof raw[k] === 'number' ? (raw[k] as string | number) : null);
    const procStart = timeish('procStart');
    records.push({
      file: join(dir, name),
      pid,
      sessionId: pick('sessionId'),
      cwd: pick('cwd'),
      status: pick('status'),
      version: pick('version'),
      startedAt: timeish('startedAt'),
      procStart,
      alive: isSameProcessAlive(pid, procStart),
    });
  }
  return records;
}

/** Whether a process with this pid runs (EPERM: it runs, as another user). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A pid counts as alive only if a process has it and, where the record names its start time,
 * that process started then: pids are reused, and a new process under an old pid owns nothing.
 */
export function isSameProcessAlive(pid: number, procStart: string | number | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !pidRuns(pid)) return false;
  if (procStart === null) return true;
  const actual = processStartTime(pid);
  if (actual === null) return true; // the platform does not tell; trust the pid
  return startTimesMatch(procStart, actual);
}

interface StartTime {
  ticks: string;
  epochMs: number;
}

/** Linux: the process's start time, in clock ticks since boot and as epoch milliseconds (100 ticks a second). */
function processStartTime(pid: number): StartTime | null {
  const stat = readStat(pid);
  if (stat === null) return null;
  const boot = bootTimeMs();
  return { ticks: String(stat.startTicks), epochMs: boot === null ? Number.NaN : boot + (stat.startTicks * 1000) / 100 };
}

function startTimesMatch(recorded: string | number, actual: StartTime): boolean {
  if (String(recorded) === actual.ticks) return true;
  const ms = typeof recorded === 'number' ? recorded : /^\d+$/.test(recorded) ? Number(recorded) : Date.parse(recorded);
  if (Number.isNaN(ms) || Number.isNaN(actual.epochMs)) return false;
  const asMs = ms < 1e11 ? ms * 1000 : ms; // seconds or milliseconds since the epoch
  return Math.abs(asMs - actual.epochMs) < 2000;
}
