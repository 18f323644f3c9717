// Runs `ccrescue recover` on the shipped crashed session, in a scratch copy so the checkout stays clean.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ccrescue-demo-'));
cpSync(join(root, 'fixtures', 'crash-parallel'), work, { recursive: true });
const args = ['recover', '5fec7deb', '--claude-dir', join(work, 'claude'), '--project-dir', join(work, 'project')];
process.stderr.write(`$ ccrescue ${args.join(' ')}\n\n`);
const run = spawnSync(process.execPath, [join(root, 'bin', 'ccrescue'), ...args], { stdio: 'inherit' });
process.exitCode = run.status ?? 1;
