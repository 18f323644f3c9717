import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeProcesses, findCommandProcesses, type SurvivingProcess } from '../../src/inspect/processes.js';

const hasProc = existsSync('/proc/self/cmdline');

const spawned: ChildProcess[] = [];

/** Starts a process in its own group, so that killing the group takes its children too. */
function start(file: string, args: string[], cwd: string, extra: SpawnOptions = {}): number {
  const child = spawn(file, args, { cwd, detached: true, stdio: 'ignore', ...extra });
  child.on('error', () => {});
  spawned.push(child);
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  return child.pid;
}

function killAll() {
  for (const child of spawned.splice(0)) {
    if (child.pid === undefined) continue;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function ppidOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((p) => ppidOf(p) === pid);
}

/** Polls until the condition holds: a spawned process shows its own argv only once it has exec'd. */
async function until<T>(what: string, get: () => T, ok: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts a shell the way Claude Code does and waits until it and the child it forks have exec'd: a forked
 * child shows its parent's argv until then.
 */
async function startShell(args: string[], cwd: string, extra: SpawnOptions = {}): Promise<number> {
  const pid = start('/bin/bash', args, cwd, extra);
  await until(
    `bash ${pid} and its child to exec`,
    () => ({ own: cmdlineOf(pid), children: childrenOf(pid).map(cmdlineOf) }),
    ({ own, children }) => own.includes('eval') && children.length > 0 && children.every((c) => c !== '' && c !== own),
  );
  return pid;
}

const pidsOf = (list: SurvivingProcess[] | null) => (list === null ? null : list.map((p) => p.pid));
/** A sleep nobody else runs: its duration carries random digits. */
const uniqueSleep = () => `sleep 40.${randomInt(100_000, 1_000_000)}`;

let root: string;
let proj: string;
let sibling: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'ccrescue-processes-')));
  proj = join(root, 'proj');
  sibling = join(root, 'proj-other'); // shares proj's name as a string prefix, yet is not below it
  mkdirSync(join(proj, 'sub'), { recursive: true });
  mkdirSync(join(proj, 'scripts'), { recursive: true });
  mkdirSync(sibling);
  symlinkSync(proj, join(root, 'link-to-proj'));
});

afterEach(killAll);

afterAll(() => {
  killAll();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!hasProc)('findCommandProcesses', () => {
  it("finds Claude Code's bash wrapper by the recorded command when a quote is written '\"'\"'", async () => {
    const sleep = uniqueSleep();
    const command = `${sleep}; echo "it's done"`;
    const script = `eval '${sleep}; echo "it'"'"'s done"'`;
    const pid = await startShell(['-c', '-l', script], proj);

    const found = findCommandProcesses(command, { cwd: proj });
    // The sleep bash forks runs only part of the command, so only the wrapper itself counts.
    expect(pidsOf(found)).toEqual([pid]);
    expect(found![0]!.cmdline).toBe(`/bin/bash -c -l ${script}`);
    expect(found![0]!.cwd).toBe(proj);
    expect(found![0]!.startedAtMs).toEqual(expect.any(Number));
  });

  it("finds it when a quote is written '\\''", async () => {
    const sleep = uniqueSleep();
    const command = `echo "it's" && ${sleep}`;
    const pid = await startShell(['-c', `eval 'echo "it'\\''s" && ${sleep}' < /dev/null && pwd -P`], proj);
    expect(pidsOf(findCommandProcesses(command, {}))).toEqual([pid]);
  });

  it("finds both the wrapper and the command's own process for a simple command", async () => {
    const job = `slow-job-${randomInt(100_000, 1_000_000)}.js`;
    writeFileSync(join(proj, 'scripts', job), 'setTimeout(() => {}, 40_000);\n');
    const command = `node scripts/${job}`;
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
    const shell = await startShell(['-c', `source /dev/null && eval '${command}' < /dev/null && pwd -P >| /dev/null`], proj, { env });

    const found = findCommandProcesses(command, { cwd: proj });
    expect(found).toHaveLength(2);
    const node = found!.find((p) => p.pid !== shell)!;
    expect(pidsOf(found)).toContain(shell);
    expect(node.cmdline).toBe(command);
    expect(ppidOf(node.pid)).toBe(shell);
    expect(pidsOf(found)).toEqual([...pidsOf(found)!].sort((a, b) => a - b));
  });

  it('finds a process whose argv is the words of a quoted simple command', async () => {
    const marker = `marker-${randomInt(100_000, 1_000_000)}`;
    const pid = start(process.execPath, ['-e', 'setTimeout(()=>{},40000)', marker], proj, { argv0: 'node' });
    await until('node to exec', () => cmdlineOf(pid), (c) => c.includes(marker));

    expect(pidsOf(findCommandProcesses(`node -e 'setTimeout(()=>{},40000)' ${marker}`, { cwd: proj }))).toEqual([pid]);
    expect(pidsOf(findCommandProcesses(`node -e "setTimeout(()=>{},40000)" ${marker}`, { cwd: proj }))).toEqual([pid]);
    // Part of the command, or more than it, is another command.
    expect(pidsOf(findCommandProcesses(`node -e 'setTimeout(()=>{},40000)'`, {}))).not.toContain(pid);
    expect(pidsOf(findCommandProcesses(`node -e 'setTimeout(()=>{},40000)' ${marker} extra`, {}))).not.toContain(pid);
  });

  it('finds nothing for a command nobody runs', () => {
    expect(findCommandProcesses(`${uniqueSleep()}; echo nobody`, {})).toEqual([]);
    expect(findCommandProcesses('   ', {})).toEqual([]);
  });

  it('does not take a prefix of the command or a bare program name for the command', async () => {
    const sleep = uniqueSleep(); // e.g. sleep 40.123456
    const pid = await startShell(['-c', `eval '${sleep} && echo done'`], proj);
    const sleeper = childrenOf(pid);
    expect(sleeper).toHaveLength(1);

    // A shell that only mentions the command, as data, is not running it.
    const other = uniqueSleep();
    const mention = await startShell(['-c', `eval 'echo "${sleep} && echo done" > /dev/null; ${other}'`], proj);

    expect(pidsOf(findCommandProcesses(`${sleep} && echo done`, {}))).toEqual([pid]);
    for (const command of ['sleep', 'bash', 'eval', 'echo done', sleep.slice(0, -3), `${sleep} && echo`]) {
      const found = pidsOf(findCommandProcesses(command, {}));
      expect(found, command).not.toContain(pid);
      expect(found, command).not.toContain(sleeper[0]);
      expect(found, command).not.toContain(mention);
    }
  });

  it("counts a one-word command's process only under a shell running that command", async () => {
    const name = `slowjob-${randomInt(100_000, 1_000_000)}`;
    writeFileSync(join(proj, name), '#!/bin/sh\nsleep 40\n:\n');
    chmodSync(join(proj, name), 0o755);
    const command = `./${name}`;

    // Run by the test directly: a program of that name, but no shell ran the recorded command.
    const direct = start(`./${name}`, [], proj);
    await until('the script to start', () => cmdlineOf(direct), (c) => c.includes(name));
    expect(pidsOf(findCommandProcesses(command, { cwd: proj }))).toEqual([]);

    // Run the way Claude Code runs it: the wrapper holds the command, the script is its child.
    const shell = await startShell(['-c', `eval '${command}' < /dev/null && pwd -P`], proj);
    const found = findCommandProcesses(command, { cwd: proj });
    expect(found).toHaveLength(2);
    const script = found!.find((p) => p.pid !== shell)!;
    expect(pidsOf(found)).toContain(shell);
    expect(script.cmdline).toBe(`/bin/sh ./${name}`);
    expect(ppidOf(script.pid)).toBe(shell);
    expect(pidsOf(found)).not.toContain(direct);
  });

  it('keeps only processes working in the given directory or below it', async () => {
    const sleep = uniqueSleep();
    const command = `${sleep}; echo cwd`;
    const script = `eval '${sleep}; echo cwd'`;
    const inProj = await startShell(['-c', script], proj);
    const inSub = await startShell(['-c', script], join(proj, 'sub'));
    const inSibling = await startShell(['-c', script], sibling);

    const sorted = (...pids: number[]) => pids.sort((a, b) => a - b);
    expect(pidsOf(findCommandProcesses(command, {}))).toEqual(sorted(inProj, inSub, inSibling));
    expect(pidsOf(findCommandProcesses(command, { cwd: proj }))).toEqual(sorted(inProj, inSub));
    expect(pidsOf(findCommandProcesses(command, { cwd: join(root, 'link-to-proj') }))).toEqual(sorted(inProj, inSub));
    expect(pidsOf(findCommandProcesses(command, { cwd: join(proj, 'sub') }))).toEqual([inSub]);
    expect(pidsOf(findCommandProcesses(command, { cwd: sibling }))).toEqual([inSibling]);
    expect(findCommandProcesses(command, { cwd: join(root, 'elsewhere') })).toEqual([]);
    const sub = findCommandProcesses(command, { cwd: proj })!.find((p) => p.pid === inSub)!;
    expect(sub.cwd).toBe(join(proj, 'sub'));
  });

  it('drops processes that started before the call', async () => {
    const sleep = uniqueSleep();
    const command = `${sleep}; echo late`;
    const before = Date.now();
    const pid = await startShell(['-c', `eval '${sleep}; echo late'`], proj);

    expect(pidsOf(findCommandProcesses(command, { notBeforeMs: before }))).toEqual([pid]);
    expect(pidsOf(findCommandProcesses(command, { notBeforeMs: null }))).toEqual([pid]);
    expect(findCommandProcesses(command, { notBeforeMs: Date.now() + 60_000 })).toEqual([]);
  });

  it('never returns the current process or its ancestors', async () => {
    const own = readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1).join(' ');
    const found = pidsOf(findCommandProcesses(own, {}));
    expect(found).not.toContain(process.pid);
    expect(found).not.toContain(process.ppid);

    // Seen from the wrapper's child, the wrapper is an ancestor: a tool run inside the call does not report itself.
    const sleep = uniqueSleep();
    const command = `${sleep} && echo self`;
    const shell = await startShell(['-c', `eval '${command}'`], proj);
    const [child] = childrenOf(shell);
    expect(pidsOf(findCommandProcesses(command, {}))).toEqual([shell]);
    expect(findCommandProcesses(command, { self: child! })).toEqual([]);
  });

  it('shortens a long command line to 300 characters', async () => {
    const sleep = uniqueSleep();
    const command = `${sleep}; echo ${'x'.repeat(400)}`;
    const pid = await startShell(['-c', `eval '${command}'`], proj);
    const [found] = findCommandProcesses(command, {})!;
    expect(found!.pid).toBe(pid);
    expect(found!.cmdline).toHaveLength(300);
    expect(found!.cmdline.startsWith(`/bin/bash -c eval '${sleep}; echo xxx`)).toBe(true);
    expect(found!.cmdline.endsWith('…')).toBe(true);
  });
});

describe('describeProcesses', () => {
  it('names each process with its command line cut to about 80 characters', () => {
    const text = describeProcesses([
      { pid: 123, cmdline: 'node scripts/slow-job.js', cwd: null, startedAtMs: null },
      { pid: 122, cmdline: `/bin/bash -c source /home/u/.claude/shell-snapshots/snapshot.sh && eval\n'${'y'.repeat(200)}'`, cwd: '/p', startedAtMs: 1 },
    ]);
    expect(text.startsWith('still running: pid 123 (node scripts/slow-job.js), pid 122 (/bin/bash -c source /home/u/')).toBe(true);
    const shown = /pid 122 \((.*)\)$/.exec(text)![1]!;
    expect(shown).toHaveLength(80);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown).not.toContain('\n');
  });

  it('says nothing for no processes', () => {
    expect(describeProcesses([])).toBe('');
  });
});
