import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { recover, type ChoiceSettings } from '../recover.js';
import { earlierRepairs, type EarlierRepair } from '../locate/recoveries.js';
import type { ScanRow } from './scan-file.js';

/** What `scan --repair` did with one damaged transcript. */
export interface RepairOutcome {
  file: string;
  status: 'repaired' | 'already-repaired' | 'skipped' | 'failed';
  session: string | null;
  snapshot: string | null;
  detail: string;
}

/**
 * Repairs every damaged main session exactly as `recover` does: a new session beside it, the
 * original untouched. A session whose earlier repair still stands (its repaired file exists and
 * the source has not changed size since) is not repaired again, so a second run writes nothing.
 */
/** The earlier repair of a row that still stands: its repaired file exists and the source has kept its size. */
export function standingRepair(row: ScanRow, earlier: Map<string, EarlierRepair[]>): EarlierRepair | undefined {
  return (earlier.get(row.file) ?? []).find((e) => e.sourceSize === row.size && existsSync(e.repairedFile));
}

export async function repairDamaged(rows: ScanRow[], opts: { claudeDir: string | null; now?: Date; settings?: ChoiceSettings }): Promise<RepairOutcome[]> {
  const damaged = rows.filter((r) => r.status === 'damaged');
  const earlier = earlierRepairs(new Set(damaged.map((r) => dirname(r.file))));
  const outcomes: RepairOutcome[] = [];
  for (const row of damaged) {
    const base = { file: row.file, session: null, snapshot: null };
    if (row.kind === 'subagent') {
      outcomes.push({ ...base, status: 'skipped', detail: 'a subagent transcript is never resumed on its own; its damage is reported, not repaired' });
      continue;
    }
    if (row.live) {
      outcomes.push({ ...base, status: 'skipped', detail: 'a running client owns this session; recover it after the client exits, or with recover --force' });
      continue;
    }
    const standing = standingRepair(row, earlier);
    if (standing) {
      outcomes.push({ file: row.file, status: 'already-repaired', session: standing.repairedFile, snapshot: standing.snapshot, detail: `repaired earlier as ${standing.repairedFile}; the session has not changed since` });
      continue;
    }
    try {
      const result = await recover({ file: row.file, claudeDir: opts.claudeDir, now: opts.now, settings: opts.settings });
      if (result.status === 'healthy') {
        outcomes.push({ ...base, status: 'skipped', detail: 'healthy on a full check; nothing written' });
        continue;
      }
      outcomes.push({ file: row.file, status: 'repaired', session: result.written.session, snapshot: result.written.snapshot, detail: `${result.snapshot.repairs.length} repairs` });
    } catch (err) {
      const code = (err as { exitCode?: unknown }).exitCode;
      outcomes.push({ ...base, status: code === 3 ? 'skipped' : 'failed', detail: (err instanceof Error ? err.message : String(err)).split('\n')[0]! });
    }
  }
  return outcomes;
}
