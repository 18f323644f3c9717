import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The sha256 of a file's bytes. */
export const fileSha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Every file under a folder, relative, with its sha256: proves what a run wrote, and that it wrote nothing else. */
export function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[relative(dir, p)] = fileSha256(p);
    }
  };
  walk(dir);
  return out;
}
