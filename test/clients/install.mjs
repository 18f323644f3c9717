// Installs the pinned Claude Code clients the end-to-end tests drive; a no-op when they are already in place.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8')).dependencies;

function installedVersion(name) {
  const pkg = join(here, 'node_modules', name, 'package.json');
  return existsSync(pkg) ? JSON.parse(readFileSync(pkg, 'utf8')).version : null;
}

const missing = Object.entries(wanted).filter(([name, spec]) => installedVersion(name) !== spec.replace(/^npm:.*@/, ''));
if (missing.length > 0) {
  process.stderr.write(`installing pinned Claude Code clients: ${missing.map(([n]) => n).join(', ')}\n`);
  // npm skips the native package's postinstall; the tests run the platform binary directly.
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit' });
}
