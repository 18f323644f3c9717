import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface EarlierRepair {
  snapshot: string;
  repairedFile: string;
  sourceSize: number | undefined;
}

/** Recovery snapshots beside the sessions: which source each one repaired, and at what size. */
export function earlierRepairs(dirs: Iterable<string>): Map<string, EarlierRepair[]> {
  const bySource = new Map<string, EarlierRepair[]>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.recovery.json'));
    } catch {
      continue;
    }
    for (const name of names) {
      const path = join(dir, name);
      let snap: { source_file?: unknown; repaired_file?: unknown; source_size?: unknown };
      try {
        snap = JSON.parse(readFileSync(path, 'utf8')) as typeof snap;
      } catch {
        continue; // not ours, or torn: it proves nothing
      }
      if (typeof snap.source_file !== 'string' || typeof snap.repaired_file !== 'string') continue;
      const list = bySource.get(snap.source_file) ?? [];
      list.push({ snapshot: path, repairedFile: snap.repaired_file, sourceSize: typeof snap.source_size === 'number' ? snap.source_size : undefined });
      bySource.set(snap.source_file, list);
    }
  }
  return bySource;
}
