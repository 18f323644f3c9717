import { test } from 'vitest';
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockApi } from './mock-api.js';
import { makeHome, runClient, printModeArgs, sessionFileOf, endAllRuns, type ClientVersion } from './client.js';

test('explore', async () => {
  const version = (process.env.V ?? '2.1.328') as ClientVersion;
  const root = await mkdtemp(join(tmpdir(), 'scratch-'));
  const proj = join(root, 'work', 'proj');
  await mkdir(proj, { recursive: true });
  await writeFile(join(proj, 'README.md'), '# hello\n');
  const mock = await startMockApi({ turns: [
    { content: [{ type: 'text', text: 'Reading the README.' }, { type: 'tool_use', id: 'toolu_01', name: 'Read', input: { file_path: join(proj, 'README.md') } }] },
    { content: [{ type: 'text', text: 'Done: the README says hello.' }] },
  ], logFile: '/tmp/scratch/requests.jsonl' });
  const home = await makeHome([proj]);
  const t0 = Date.now();
  const run = runClient({ version, home, cwd: proj, apiUrl: mock.baseUrl, args: printModeArgs(version, 'Read the README please.') });
  const exit = await run.exited;
  console.log('elapsed', Date.now() - t0, 'code', exit.code, exit.signal);
  console.log('stderr', exit.stderr.slice(-1500));
  console.log('stdout tail', exit.stdout.slice(-1500));
  for (const r of mock.requests) console.log(r.path, r.answer, r.valid, JSON.stringify(r.issues), JSON.stringify(r.headers['anthropic-beta']), (r.body as any)?.messages?.map((m: any) => m.role + ':' + (typeof m.content === 'string' ? 'str' : m.content.map((b: any) => b.type).join('+'))).join(' | '));
  console.log('headers0', JSON.stringify(mock.requests[0]?.headers));
  const sf = sessionFileOf(home, proj);
  console.log('session', sf, home);
  if (sf) console.log((await readFile(sf, 'utf8')).split('\n').map((l) => { try { const j = JSON.parse(l); return j.type + ' ' + (j.message?.content?.[0]?.type ?? '') ; } catch { return l.slice(0, 50); } }).join('\n'));
  await mock.close();
  endAllRuns();
}, 120_000);
