/**
 * Issue 6, part 3: concurrency. A session that grows while it is read (a live client appending) is
 * refused with exit 3 unless --force, and with --force the output is the repair of exactly the
 * bytes that were analysed; two runs on one session never corrupt each other's output. Races are
 * made to happen, not hoped for: two calls in one process that both pass the checks before either
 * writes, or a real CLI frozen (SIGSTOP) in the middle of its write while the other runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recover } from '../../src/recover.js';
import { InputError, LiveSessionError } from '../../src/errors.js';
import { ccrescue } from '../helpers/cli.js';
import { fileSha256 } from '../helpers/files.js';
import { bigCrashCopy, crashCopy, expectCompleteRepair, expectOneLine, freezeWhen, killStarted, removeCopies, names, startCli, temps, SESSION_ID, type CrashCopy } from './write-setup.js';

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jsonl$/;
const isSessionTemp = (n: string) => /^\..+\.jsonl\.\d+-[0-9a-f]{8}\.tmp$/.test(n) && !n.includes('.bak-');
const backups = (c: CrashCopy) => names(c.folder).filter((n) => /\.bak-\d{8}T\d{6}Z$/.test(n));

// ---------------------------------------------------------------------------------------------
// A live client appending

/** The line a running Claude Code client appends between turns (neutral: no message, no uuid). */
const LATCH = `{"type":"atis-latch","atis":"","sessionId":"${SESSION_ID}"}\n`;

let appenders: ChildProcess[] = [];
afterEach(() => {
  for (const a of appenders) a.kill('SIGKILL');
  appenders = [];
  killStarted();
});
afterAll(removeCopies);

/** A real process appending whole lines to the session, one a millisecond, until killed; resolves once it has appended. */
async function startAppender(file: string): Promise<void> {
  const size = statSync(file).size;
  const child = spawn(process.execPath, ['-e', `const fs=require('fs');const line=${JSON.stringify(LATCH)};for(;;){fs.appendFileSync(${JSON.stringify(file)},line);Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,1)}`], { stdio: 'ignore' });
  appenders.push(child);
  while (statSync(file).size === size) await new Promise((r) => setImmediate(r));
}

const stopAppenders = async () => {
  await Promise.all(appenders.map((a) => new Promise((r) => (a.exitCode !== null || a.signalCode !== null ? r(null) : (a.once('exit', r), a.kill('SIGKILL'))))));
  appenders = [];
};

describe('a session that grows while it is read', () => {
  it('with a client appending all along: exit 3, one line, nothing written; the original bytes still lead the file', async () => {
    const c = crashCopy();
    const original = readFileSync(c.file);
    const before = names(c.folder);
    await startAppender(c.file);
    const run = startCli(['recover', c.file, ...c.dirs]);
    const r = await run.done;
    await stopAppenders();
    expect(r.code).toBe(3);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(/^ccrescue: \S+\.jsonl: the (file grew while it was read|session changed (since it was read|while it was being repaired)).*use --force to recover anyway\)\n$/);
    expect(names(c.folder)).toEqual(before);
    expect(readFileSync(c.file).subarray(0, original.length).equals(original)).toBe(true);
  });

  it('appended to while the repaired copy is written (frozen there, one line appended): exit 3, the temp files removed', async () => {
    const c = crashCopy(big().dir);
    const before = names(c.folder);
    const run = startCli(['recover', c.file, ...c.dirs]);
    expect(await freezeWhen(run, () => temps(c.folder).some(isSessionTemp))).toBe(true);
    appendFileSync(c.file, LATCH);
    run.child.kill('SIGCONT');
    const r = await run.done;
    expect(r.code).toBe(3);
    expectOneLine(r.stderr);
    expect(r.stderr).toBe(`ccrescue: ${c.file}: the session changed while it was being repaired (a client is writing it); nothing was written (use --force to recover anyway)\n`);
    expect(names(c.folder)).toEqual(before);
  }, 120_000);

  it('with --force: exit 0 and a complete, valid repair of exactly the bytes that were analysed (none appended later)', async () => {
    const c = crashCopy();
    await startAppender(c.file);
    const r = await startCli(['recover', c.file, ...c.dirs, '--force', '--json']).done;
    await stopAppenders();
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { written: { session: string; snapshot: string }; snapshot: { repaired_session_id: string; source_size: number } };
    const analysed = readFileSync(c.file).subarray(0, doc.snapshot.source_size);
    expect(statSync(c.file).size).toBeGreaterThan(doc.snapshot.source_size); // the client went on appending
    await expectCompleteRepair(doc.written.session, analysed, c, doc.snapshot.repaired_session_id);
    expect(JSON.parse(readFileSync(doc.written.snapshot, 'utf8'))).toMatchObject({ repaired_file: doc.written.session });
    expect(temps(c.folder)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Two runs on one session

let bigCopy: CrashCopy | null = null;
/** A session large enough (~19 MB) that a run can be caught, and frozen, in the middle of its write. */
const big = (): CrashCopy => (bigCopy ??= bigCrashCopy(200));
beforeAll(() => void big(), 120_000);

describe('two runs at once on one session', () => {
  it('default mode: two distinct, complete new sessions with their snapshots (one frozen mid-write while the other runs)', async () => {
    const c = crashCopy(big().dir);
    const a = startCli(['recover', c.file, ...c.dirs, '--json']);
    expect(await freezeWhen(a, () => temps(c.folder).some(isSessionTemp))).toBe(true);
    const b = ccrescue(['recover', c.file, ...c.dirs, '--json']);
    a.child.kill('SIGCONT');
    const ra = await a.done;
    expect([ra.code, b.code], ra.stderr + b.stderr).toEqual([0, 0]);
    const docs = [ra, b].map((r) => JSON.parse(r.stdout) as { written: { session: string; snapshot: string }; snapshot: { repaired_session_id: string } });
    expect(docs[0]!.written.session).not.toBe(docs[1]!.written.session);
    for (const d of docs) {
      await expectCompleteRepair(d.written.session, c.file, c, d.snapshot.repaired_session_id);
      expect(JSON.parse(readFileSync(d.written.snapshot, 'utf8'))).toMatchObject({ repaired_file: d.written.session, repaired_session_id: d.snapshot.repaired_session_id });
      expect(existsSync(join(c.claudeDir, 'file-history', d.snapshot.repaired_session_id))).toBe(true);
    }
    expect(fileSha256(c.file)).toBe(c.sha);
    expect(names(c.folder).filter((n) => ID.test(n))).toHaveLength(3);
    expect(temps(c.folder)).toEqual([]);
  }, 120_000);

  it('--out one file, twice in one process: both pass the "already exists" check, exactly one writes, the other gets exit 2', async () => {
    const c = crashCopy();
    const out = join(c.dir, 'same.jsonl');
    const opts = { file: c.file, claudeDir: c.claudeDir, projectDir: c.projectDir, out };
    // Both calls run their checks before either writes a byte.
    const settled = await Promise.allSettled([recover(opts), recover(opts)]);
    const won = settled.filter((s) => s.status === 'fulfilled');
    const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(InputError);
    expect((lost[0]!.reason as InputError).exitCode).toBe(2);
    expect((lost[0]!.reason as Error).message).toBe(`${out}: already exists; choose another --out`);
    await expectCompleteRepair(out, c.file, c);
    expect(JSON.parse(readFileSync(join(c.dir, 'same.recovery.json'), 'utf8'))).toMatchObject({ repaired_file: out });
    expect(temps(c.dir)).toEqual([]);
  });

  it('--out one file from two CLIs, the first frozen mid-write while the second writes it: the first fails with exit 2 and never replaces it', async () => {
    const c = crashCopy(big().dir);
    const out = join(c.dir, 'same.jsonl');
    const a = startCli(['recover', c.file, ...c.dirs, '--out', out]);
    expect(await freezeWhen(a, () => temps(c.dir).some(isSessionTemp))).toBe(true);
    const b = ccrescue(['recover', c.file, ...c.dirs, '--out', out]);
    expect(b.code, b.stderr).toBe(0);
    const written = fileSha256(out);
    a.child.kill('SIGCONT');
    const ra = await a.done;
    expect(ra.code).toBe(2);
    expectOneLine(ra.stderr);
    expect(ra.stderr).toBe(`ccrescue: ${out}: already exists; choose another --out\n`);
    expect(fileSha256(out)).toBe(written);
    await expectCompleteRepair(out, c.file, c);
    expect(temps(c.dir)).toEqual([]);
  }, 120_000);

  it('--in-place twice in one process: the second is refused (exit 3) by the first one\'s lock; the session is the complete repair', async () => {
    const c = crashCopy();
    const opts = { file: c.file, claudeDir: c.claudeDir, projectDir: c.projectDir, inPlace: true };
    const settled = await Promise.allSettled([recover(opts), recover(opts)]);
    const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(LiveSessionError);
    expect((lost[0]!.reason as Error).message).toMatch(new RegExp(`^${c.file}: another ccrescue \\(pid ${process.pid}\\) is replacing this session in place; wait for it to end`));
    expect(backups(c)).toHaveLength(1);
    const backup = join(c.folder, backups(c)[0]!);
    expect(fileSha256(backup)).toBe(c.sha);
    await expectCompleteRepair(c.file, backup, c);
    expect(existsSync(`${c.file}.ccrescue-lock`)).toBe(false);
    expect(temps(c.folder)).toEqual([]);
  });

  it('--in-place from two CLIs, the first frozen mid-write: the second is refused (exit 3, nothing written), the first completes', async () => {
    const c = crashCopy(big().dir);
    const a = startCli(['recover', c.file, ...c.dirs, '--in-place']);
    expect(await freezeWhen(a, () => temps(c.folder).some(isSessionTemp))).toBe(true);
    const inFolder = names(c.folder);
    const b = ccrescue(['recover', c.file, ...c.dirs, '--in-place']);
    expect(b.code).toBe(3);
    expectOneLine(b.stderr);
    expect(b.stderr).toContain(`another ccrescue (pid ${a.child.pid}) is replacing this session in place`);
    expect(names(c.folder)).toEqual(inFolder); // b wrote nothing
    a.child.kill('SIGCONT');
    const ra = await a.done;
    expect(ra.code, ra.stderr).toBe(0);
    expect(backups(c)).toHaveLength(1);
    const backup = join(c.folder, backups(c)[0]!);
    expect(fileSha256(backup)).toBe(c.sha);
    await expectCompleteRepair(c.file, backup, c);
    expect(existsSync(`${c.file}.ccrescue-lock`)).toBe(false);
  }, 120_000);

  it('a run writing a new session while an --in-place run replaces the session under it: refused (exit 3), never a mix of both files', async () => {
    const c = crashCopy(big().dir);
    const a = startCli(['recover', c.file, ...c.dirs]);
    expect(await freezeWhen(a, () => temps(c.folder).some(isSessionTemp))).toBe(true);
    const b = ccrescue(['recover', c.file, ...c.dirs, '--in-place']);
    expect(b.code, b.stderr).toBe(0);
    const replaced = fileSha256(c.file);
    a.child.kill('SIGCONT');
    const ra = await a.done;
    expect(ra.code).toBe(3);
    expectOneLine(ra.stderr);
    expect(ra.stderr).toBe(`ccrescue: ${c.file}: the session was replaced while it was being repaired (another program wrote it); nothing was written\n`);
    expect(fileSha256(c.file)).toBe(replaced);
    expect(names(c.folder).filter((n) => ID.test(n) && !n.startsWith(SESSION_ID))).toEqual([]);
    expect(temps(c.folder)).toEqual([]);
  }, 120_000);

  it('a session replaced between the analysis and the write is refused even with --force: what would be copied is another file', async () => {
    const c = crashCopy();
    const other = join(c.dir, 'other.jsonl');
    const r0 = await recover({ file: c.file, claudeDir: c.claudeDir, projectDir: c.projectDir, out: other });
    expect(r0.status).toBe('repaired');
    const before = names(c.folder);
    const err = await recover({
      file: c.file,
      claudeDir: c.claudeDir,
      projectDir: c.projectDir,
      force: true,
      // Asked once the plan is made, before anything is written: another program's in-place repair lands now.
      confirm: async () => (renameSync(other, c.file), true),
    }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(LiveSessionError);
    expect((err as LiveSessionError).exitCode).toBe(3);
    expect((err as Error).message).toBe(`${c.file}: the session was replaced since it was read (another program wrote it); nothing was written`);
    expect(names(c.folder)).toEqual(before);
  });

  it('a lock whose pid runs refuses --in-place (exit 3, nothing written); one whose pid is dead is taken over', async () => {
    const c = crashCopy();
    const lock = `${c.file}.ccrescue-lock`;
    writeFileSync(lock, `${process.pid}\n`);
    const before = names(c.folder);
    const refused = ccrescue(['recover', c.file, ...c.dirs, '--in-place', '--force']);
    expect(refused.code).toBe(3);
    expectOneLine(refused.stderr);
    expect(refused.stderr).toBe(`ccrescue: ${c.file}: another ccrescue (pid ${process.pid}) is replacing this session in place; wait for it to end, or remove ${lock} if no such run exists\n`);
    expect(names(c.folder)).toEqual(before);
    expect(fileSha256(c.file)).toBe(c.sha);
    // A dry run reads only: no lock is asked for.
    expect(ccrescue(['recover', c.file, ...c.dirs, '--in-place', '--dry-run']).code).toBe(0);

    // The lock of a killed run: its pid is gone (spawnSync has reaped the process).
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock, `${dead}\n`);
    const r = ccrescue(['recover', c.file, ...c.dirs, '--in-place']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
    await expectCompleteRepair(c.file, join(c.folder, backups(c)[0]!), c);
  });
});
