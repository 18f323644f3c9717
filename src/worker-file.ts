import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The compiled script of a worker thread, `name` relative to the module at `moduleUrl` (e.g.
 * `./worker.js`). Workers run JavaScript only: when the caller itself runs from the TypeScript
 * sources (the tests), the build beside them in `dist/` is used.
 */
export function compiledWorker(moduleUrl: string, name: string, folder: string): string {
  if (fileURLToPath(moduleUrl).endsWith('.js')) return fileURLToPath(new URL(name, moduleUrl));
  const built = fileURLToPath(new URL(`../../dist/${folder}/${name.replace(/^\.\//, '')}`, moduleUrl));
  if (!existsSync(built)) throw new Error(`${built}: the worker is not built; run npm run build`);
  return built;
}
