import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll } from 'vitest';
import rule from '../../src/rules/surviving-process.js';
import { healthy, healthyCorpus, repoFile, ruleTester, tempDir, text, toolUse, Transcript } from './helpers.js';

const CRASH_PARALLEL = 'fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
});

/** A real process running `sleep <seconds>` in `cwd`, as a Bash call's command would after its client died. */
function runSleep(seconds: string, cwd: string): void {
  const child = spawn('sleep', [seconds], { cwd, stdio: 'ignore' });
  children.push(child);
}

/** A unique sleep duration, so no other process on the machine runs the same command line. */
const uniqueSeconds = () => `${600 + Math.floor(Math.random() * 300)}.${Math.floor(Math.random() * 1e6)}`;

/** A session whose last Bash call (in a real project folder) never got its result. */
async function bashCut(o: { running: 'here' | 'elsewhere' | 'none'; finished?: boolean }) {
  const dir = await tempDir('proj-');
  const seconds = uniqueSeconds();
  // The transcript is a minute old: the process below starts after its call.
  const t = new Transcript({ version: '2.1.328', cwd: dir, start: new Date(Date.now() - 60_000).toISOString() });
  t.user('Run the slow job.');
  t.assistant([text('Running it.'), toolUse('toolu_01SlowJobAb12Cd34Ef56Gh7', 'Bash', { command: `sleep ${seconds}`, description: 'slow job' })]);
  if (o.finished) {
    t.result('toolu_01SlowJobAb12Cd34Ef56Gh7', '');
    t.assistant(text('Done.'));
  }
  if (o.running === 'here') runSleep(seconds, dir);
  if (o.running === 'elsewhere') runSleep(seconds, await tempDir('other-'));
  return t.write();
}

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    { name: 'a session whose calls all returned', session: () => healthy().write() },
    { name: 'the real 2.1.328 crash after its leftover processes were ended (fixtures/crash-parallel)', session: repoFile(CRASH_PARALLEL, 'fixtures/crash-parallel/claude') },
    { name: 'an interrupted Bash call whose command no process runs', session: () => bashCut({ running: 'none' }) },
    { name: 'the same command running in another folder is not this call', session: () => bashCut({ running: 'elsewhere' }) },
    { name: 'a Bash call that returned, though the same command runs again', session: () => bashCut({ running: 'here', finished: true }) },
  ],
  invalid: [
    {
      name: 'an interrupted Bash call whose command still runs in the project',
      session: () => bashCut({ running: 'here' }),
      findings: [{ line: 3, severity: 'warning', message: /^Bash `sleep [\d.]+` still runs: pid \d+$/, toolUseId: 'toolu_01SlowJobAb12Cd34Ef56Gh7' }],
    },
  ],
});
