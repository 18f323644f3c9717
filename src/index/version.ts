import type { EntryFacts } from '../read/facts.js';

/** Compares Claude Code versions like "2.1.39"; non-numeric parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export const atLeast = (version: string | undefined | null, min: string): boolean => version != null && compareVersions(version, min) >= 0;

/** The client versions a file records (in order of first appearance) and its first and last timestamps (NaN when none). */
export function clientActivity(entries: readonly EntryFacts[]): { versions: string[]; first: number; last: number } {
  const versions = new Set<string>();
  let first = Number.NaN;
  let last = Number.NaN;
  for (const e of entries) {
    if (e.version) versions.add(e.version);
    if (Number.isNaN(e.time)) continue;
    if (!(e.time >= first)) first = e.time;
    if (!(e.time <= last)) last = e.time;
  }
  return { versions: [...versions], first, last };
}
