/**
 * Issue 6, part 2: the write path under faults. A disk that fills up (simulated in process at every
 * step of the write, and real on a small tmpfs where user namespaces allow it), an output folder
 * that cannot be written (real: EACCES as an unprivileged user, EROFS on a read-only mount,
 * ENOTDIR), and the process killed during the write. Each time the original keeps its bytes,
 * nothing is left under a final name, --in-place never leaves the session missing or half
 * written, and the CLI says what failed in one line with exit 1.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recover } from '../../src/recover.js';
import { RecoveryFailed } from '../../src/errors.js';
import { BIN, ccrescue } from '../helpers/cli.js';
import { fileSha256, tree } from '../helpers/files.js';
import { bigCrashCopy, crashCopy, expectCompleteRepair, expectOneLine, freezeWhen, killStarted, removeCopies, kill, names, snapshotOf, startCli, temps, SESSION_ID, type CrashCopy } from './write-setup.js';

// ---------------------------------------------------------------------------------------------
// A disk that fills up, in process: node:fs/promises is wrapped so that one step of the write
// fails with ENOSPC as the kernel reports it. A failing write first takes half its bytes (what a
// filling disk does), then fails: a writer that ignored short writes would commit a cut file.

type Op = 'write' | 'sync' | 'rename' | 'link' | 'cp';
interface Fault {
  op: Op;
  /** The path the operation acts on (for rename and link: the new name). */
  path: RegExp;
  code: string;
  hits: number;
  /** Only take half of the first write, then let the disk have room again. */
  shortOnly?: boolean;
}
const faults = vi.hoisted(() => ({ active: null as Fault | null }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const failing = (op: Op, path: unknown): Fault | null => {
    const f = faults.active;
    return f && f.op === op && f.path.test(String(path)) ? f : null;
  };
  const errno = (f: Fault, syscall: string) => {
    f.hits++;
    const words: Record<string, string> = { ENOSPC: 'no space left on device', EIO: 'i/o error' };
    return Object.assign(new Error(`${f.code}: ${words[f.code] ?? 'error'}, ${syscall}`), { code: f.code, syscall, errno: f.code === 'ENOSPC' ? -28 : -5 });
  };
  const open = (async (path: Parameters<typeof real.open>[0], flags?: Parameters<typeof real.open>[1], mode?: Parameters<typeof real.open>[2]) => {
    const handle = await real.open(path, flags, mode);
    const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number; buffer: Buffer }>;
    const sync = handle.sync.bind(handle);
    let short = false;
    handle.write = (async (buffer: Buffer, offset?: number, length?: number, position?: number) => {
      const f = failing('write', path);
      if (f && Buffer.isBuffer(buffer)) {
        const len = length ?? buffer.length - (offset ?? 0);
        if (!short && len > 1) {
          short = true;
          f.hits++;
          return write(buffer, offset ?? 0, Math.floor(len / 2), position);
        }
        if (!f.shortOnly) throw errno(f, 'write');
      }
      return write(buffer, offset, length, position);
    }) as typeof handle.write;
    handle.sync = async () => {
      const f = failing('sync', path);
      if (f) throw errno(f, 'fsync');
      return sync();
    };
    return handle;
  }) as typeof real.open;
  const rename = (async (from: string, to: string) => {
    const f = failing('rename', to);
    if (f) throw errno(f, 'rename');
    return real.rename(from, to);
  }) as typeof real.rename;
  const link = (async (from: string, to: string) => {
    const f = failing('link', to);
    if (f) throw errno(f, 'link');
    return real.link(from, to);
  }) as typeof real.link;
  const cp = (async (from: string, to: string, options?: Parameters<typeof real.cp>[2]) => {
    const f = failing('cp', to);
    if (f) {
      // A copy that ran out of room half way: one file made, then the failure.
      await real.mkdir(to, { recursive: true });
      await real.writeFile(join(to, 'partial'), 'x');
      throw errno(f, 'copyfile');
    }
    return real.cp(from, to, options);
  }) as typeof real.cp;
  const mocked = { ...real, open, rename, link, cp };
  return { ...mocked, default: mocked };
});

afterEach(() => {
  faults.active = null;
  killStarted();
});
afterAll(removeCopies);

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const BAK = `${SESSION_ID}\\.jsonl\\.bak-\\d{8}T\\d{6}Z`;

interface DiskFullCase {
  name: string;
  mode: 'new-session' | 'out' | 'in-place';
  op: Op;
  /** The file whose step fails, as a pattern over its temp or final name, within the session folder (or the --out folder). */
  path: string;
  /** The path the message names, then what could not be done. */
  message: string;
  /** What the message says is left: the original untouched, or back in place. */
  left?: string;
}

const TMP = '\\.\\d+-[0-9a-f]{8}\\.tmp$';
const cases: DiskFullCase[] = [
  { name: 'the new session', mode: 'new-session', op: 'write', path: `/\\.${ID}\\.jsonl${TMP}`, message: `${ID}\\.jsonl: could not write the repaired session` },
  { name: 'the new session (fsync)', mode: 'new-session', op: 'sync', path: `/\\.${ID}\\.jsonl${TMP}`, message: `${ID}\\.jsonl: could not write the repaired session` },
  { name: 'the snapshot', mode: 'new-session', op: 'write', path: `\\.recovery\\.json${TMP}`, message: `${ID}\\.recovery\\.json: could not write the recovery snapshot` },
  { name: 'the snapshot named after the session was', mode: 'new-session', op: 'rename', path: `/${ID}\\.recovery\\.json$`, message: `${ID}\\.recovery\\.json: could not write the recovery snapshot` },
  { name: "the session's checkpoints copied to the new id", mode: 'new-session', op: 'cp', path: `/file-history/${ID}$`, message: `claude: could not copy the session's checkpoints and tasks to ${ID}` },
  { name: '--out', mode: 'out', op: 'write', path: `/\\.repaired\\.jsonl${TMP}`, message: `repaired\\.jsonl: could not write the repaired session` },
  { name: '--out (its snapshot)', mode: 'out', op: 'sync', path: `/\\.repaired\\.recovery\\.json${TMP}`, message: `repaired\\.recovery\\.json: could not write the recovery snapshot` },
  { name: 'the --in-place backup', mode: 'in-place', op: 'write', path: `/\\.${BAK}${TMP}`, message: `${BAK}: could not write the backup` },
  { name: 'the --in-place backup (fsync)', mode: 'in-place', op: 'sync', path: `/\\.${BAK}${TMP}`, message: `${BAK}: could not write the backup` },
  { name: 'the --in-place replacement', mode: 'in-place', op: 'write', path: `/\\.${SESSION_ID}\\.jsonl\\.\\d+-[0-9a-f]{8}\\.tmp$`, message: `${SESSION_ID}\\.jsonl: could not write the repaired session` },
  { name: 'the --in-place snapshot', mode: 'in-place', op: 'write', path: `/\\.${SESSION_ID}\\.recovery\\.json${TMP}`, message: `${SESSION_ID}\\.recovery\\.json: could not write the recovery snapshot` },
  { name: 'the --in-place replace itself (rename)', mode: 'in-place', op: 'rename', path: `/${SESSION_ID}\\.jsonl$`, message: `${SESSION_ID}\\.jsonl: could not write the repaired session` },
  { name: 'the --in-place snapshot named after the replace', mode: 'in-place', op: 'rename', path: `/${SESSION_ID}\\.recovery\\.json$`, message: `${SESSION_ID}\\.recovery\\.json: could not write the recovery snapshot`, left: 'the original is back in place' },
];

describe('disk full (ENOSPC, simulated in process) at each step of the write', () => {
  it.each(cases)('$name: exit 1 naming the file and "no space left", the original intact, nothing written', async (k) => {
    const c = crashCopy();
    const outDir = join(c.dir, 'out');
    mkdirSync(outDir);
    const before = { ...snapshotOf(c), out: tree(outDir) };
    const fault: Fault = { op: k.op, path: new RegExp(k.path), code: 'ENOSPC', hits: 0 };
    faults.active = fault;
    const opts = { file: c.file, claudeDir: c.claudeDir, projectDir: c.projectDir, ...(k.mode === 'out' ? { out: join(outDir, 'repaired.jsonl') } : k.mode === 'in-place' ? { inPlace: true } : {}) };
    const err = (await recover(opts).then(() => null, (e: unknown) => e)) as RecoveryFailed | null;
    faults.active = null;
    expect(fault.hits).toBeGreaterThan(0); // the step really failed
    expect(err).toBeInstanceOf(RecoveryFailed);
    expect(err!.exitCode).toBe(1);
    expect(err!.message).not.toContain('\n');
    expect(err!.message).toMatch(new RegExp(`^/.*${k.message}: no space left on device \\(ENOSPC\\); ${esc(k.left ?? 'the original is untouched')}$`));
    // The original keeps its bytes; no temp file, no backup, nothing under a final name, no lock:
    // every file under the Claude dir, the project and the --out folder is as it was.
    expect(fileSha256(c.file)).toBe(c.sha);
    expect({ ...snapshotOf(c), out: tree(outDir) }).toEqual(before);

    // Not a vacuous pass: with room on the disk, the same recovery writes everything.
    const r = await recover(opts);
    expect(r.status).toBe('repaired');
    await expectCompleteRepair(r.written.session!, k.mode === 'in-place' ? readFileSync(r.written.backup!) : c.file, c, k.mode === 'new-session' ? r.snapshot.repaired_session_id! : undefined);
    expect(temps(c.folder)).toEqual([]);
  });

  it('a write the disk takes only half of is written to the end before the file is named', async () => {
    const c = crashCopy();
    const fault: Fault = { op: 'write', path: new RegExp(`/\\.${ID}\\.jsonl${TMP}`), code: 'ENOSPC', hits: 0, shortOnly: true };
    faults.active = fault;
    const r = await recover({ file: c.file, claudeDir: c.claudeDir, projectDir: c.projectDir });
    expect(fault.hits).toBe(1);
    await expectCompleteRepair(r.written.session!, c.file, c, r.snapshot.repaired_session_id!);
  });
});

// ---------------------------------------------------------------------------------------------
// Real faults through the real CLI.

/** Gives a tree to the unprivileged user the CLI will run as (root ignores file modes). */
function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const n of readdirSync(path)) chownTree(join(path, n), uid, gid);
}

/**
 * Runs the CLI as a user whom a 0555 folder really stops: the current user, or nobody (65534)
 * when the tests run as root (root ignores file modes). A string, the reason, when no such user
 * can run it here.
 */
function asUserWhoCannotWrite(c: CrashCopy, folder: string): ((args: string[]) => ReturnType<typeof ccrescue>) | string {
  const root = process.getuid?.() === 0;
  const ids = root ? { uid: 65534, gid: 65534 } : {};
  if (root) chownTree(c.dir, 65534, 65534);
  chmodSync(folder, 0o555);
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, args, { ...ids, env: { ...process.env, NO_COLOR: '1', HOME: c.dir, XDG_CONFIG_HOME: c.dir }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  if (run([BIN, '--version']).code !== 0) return `the CLI cannot run as uid ${process.getuid?.() === 0 ? 65534 : process.getuid?.()} here (its files are not readable to that user)`;
  const probe = run(['-e', `require('fs').writeFileSync(${JSON.stringify(join(folder, 'probe'))}, 'x')`]);
  if (probe.code === 0) return 'a 0555 folder does not stop writes for any user this test can run as';
  expect(probe.stderr).toContain('EACCES');
  return (args) => run([BIN, ...args]);
}

describe('an output folder that cannot be written', () => {
  it.for([
    ['the session folder, new session', 'new-session', `${ID}\\.jsonl: could not write the repaired session`],
    ['--out into a read-only folder', 'out', `ro/repaired\\.jsonl: could not write the repaired session`],
    ['the session folder, --in-place', 'in-place', `${BAK}: could not write the backup`],
  ] as const)('%s (0555): exit 1, one line naming the path and EACCES, nothing written', ([, mode, message], ctx) => {
    const c = crashCopy();
    const ro = join(c.dir, 'ro');
    mkdirSync(ro);
    const folder = mode === 'out' ? ro : c.folder;
    const run = asUserWhoCannotWrite(c, folder);
    if (typeof run === 'string') return ctx.skip(run);
    const before = { ...snapshotOf(c), ro: tree(ro) };
    const r = run(['recover', c.file, ...c.dirs, ...(mode === 'out' ? ['--out', join(ro, 'repaired.jsonl')] : mode === 'in-place' ? ['--in-place'] : [])]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^ccrescue: /.*${message}: permission denied \\(EACCES\\); the original is untouched\\n$`));
    expect(fileSha256(c.file)).toBe(c.sha);
    expect({ ...snapshotOf(c), ro: tree(ro) }).toEqual(before);
  });

  it('--out under a path whose parent is a regular file (ENOTDIR, refused even for root): exit 1, nothing written', () => {
    const c = crashCopy();
    const before = snapshotOf(c);
    const out = join(c.dir, 'README.md', 'repaired.jsonl');
    const r = ccrescue(['recover', c.file, ...c.dirs, '--out', out]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toBe(`ccrescue: ${out}: could not write the repaired session: not a directory (ENOTDIR); the original is untouched\n`);
    expect(fileSha256(c.file)).toBe(c.sha);
    expect(snapshotOf(c)).toEqual(before);
  });
});

// A tmpfs mounted over the session folder in a private mount namespace (unshare -rm: no host
// mount is touched, and it works for root and for users where user namespaces are allowed): a
// real read-only file system (EROFS, which stops root too) and a real full disk (ENOSPC).
const userns = ((probe) => {
  const ok = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs tmpfs "$0"', probe]).status === 0;
  rmSync(probe, { recursive: true });
  return ok;
})(mkdtempSync(join(tmpdir(), 'ccrescue-userns-')));

/** Runs the CLI with the session alone on a fresh tmpfs of `size` over its folder; reports what the folder held after. */
function onTmpfs(c: CrashCopy, size: string, readOnly: boolean, args: string[]) {
  const held = join(c.dir, 'held.jsonl');
  writeFileSync(held, readFileSync(c.file));
  const script = [
    'mnt="$1"; held="$2"; size="$3"; ro="$4"; out="$5"; shift 5',
    'mount -t tmpfs -o "size=$size" tmpfs "$mnt" || exit 90',
    `cp "$held" "$mnt/${SESSION_ID}.jsonl" || exit 91`,
    'if [ "$ro" = ro ]; then mount -o remount,ro "$mnt" || exit 92; fi',
    '"$@" >"$out.stdout" 2>"$out.stderr"; echo $? >"$out.code"',
    'ls -a "$mnt" >"$out.names"',
    `sha256sum "$mnt/${SESSION_ID}.jsonl" | cut -d" " -f1 >"$out.sha"`,
  ].join('\n');
  const out = join(c.dir, 'result');
  const r = spawnSync('unshare', ['-rm', 'sh', '-c', script, 'sh', c.folder, held, size, readOnly ? 'ro' : 'rw', out, process.execPath, BIN, 'recover', join(c.folder, `${SESSION_ID}.jsonl`), ...c.dirs, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.status, r.stderr).toBe(0);
  const read = (ext: string) => readFileSync(`${out}.${ext}`, 'utf8');
  return { code: Number(read('code')), stderr: read('stderr'), names: read('names').split('\n').filter((n) => n && n !== '.' && n !== '..'), sha: read('sha').trim() };
}

describe.skipIf(!userns)('a real read-only file system and a real full disk (tmpfs in a private mount namespace; skipped where unshare -rm is not allowed)', () => {
  it('read-only (EROFS, root included): exit 1 naming the new session and the reason; the folder holds the original alone', () => {
    const c = crashCopy();
    const r = onTmpfs(c, '1m', true, []);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^ccrescue: ${esc(c.folder)}/${ID}\\.jsonl: could not write the repaired session: read-only file system \\(EROFS\\); the original is untouched\\n$`));
    expect(r.names).toEqual([`${SESSION_ID}.jsonl`]);
    expect(r.sha).toBe(c.sha);
  });

  it.each([
    // 25 pages hold the session; the repaired copy needs 26.
    ['the new session', '128k', [], `${ID}\\.jsonl: could not write the repaired session`],
    ['the --in-place backup', '128k', ['--in-place'], `${BAK}: could not write the backup`],
    // Room for the session, the lock and the backup (51 pages), not for the replacement.
    ['the --in-place replacement, after a complete backup', '240k', ['--in-place'], `${SESSION_ID}\\.jsonl: could not write the repaired session`],
  ] as const)('disk full writing %s (ENOSPC): exit 1, one line; the folder holds the original alone', (_, size, args, message) => {
    const c = crashCopy();
    const r = onTmpfs(c, size, false, [...args]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^ccrescue: ${esc(c.folder)}/${message}: no space left on device \\(ENOSPC\\); the original is untouched\\n$`));
    expect(r.names).toEqual([`${SESSION_ID}.jsonl`]);
    expect(r.sha).toBe(c.sha);
  });
});

// ---------------------------------------------------------------------------------------------
// Killed during the write: the real CLI on a large session (~19 MB; its write takes ~0.1 s),
// frozen (SIGSTOP) as soon as the state the test wants is seen on disk, then SIGKILLed.

/** Makes a file look untouched for an hour: the next run may treat it as stale. */
const age = (path: string) => utimesSync(path, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));

describe('killed during the write (SIGKILL)', () => {
  let big: CrashCopy;
  beforeAll(() => {
    big = bigCrashCopy(200);
  }, 120_000);

  const isSessionTemp = (n: string) => /^\..+\.jsonl\.\d+-[0-9a-f]{8}\.tmp$/.test(n);

  it('new session: the original intact, nothing under a final name; the next run clears the stale temp file and completes', async () => {
    const c = crashCopy(big.dir);
    const before = names(c.folder);
    const run = startCli(['recover', c.file, ...c.dirs]);
    expect(await freezeWhen(run, () => temps(c.folder).some(isSessionTemp))).toBe(true);
    // Frozen mid-write: its temp file exists, no new name does.
    expect(names(c.folder).filter((n) => !n.startsWith('.'))).toEqual(before);
    await kill(run);
    expect(fileSha256(c.file)).toBe(c.sha);
    expect(names(c.folder).filter((n) => !n.startsWith('.'))).toEqual(before);
    // The killed run's temp file stays (nothing can remove it at SIGKILL) …
    const left = temps(c.folder);
    expect(left).toHaveLength(1);
    expect(left[0]).toContain(`.${run.child.pid}-`);
    // … until a later run finds it stale: its pid is dead and it has not changed for ten minutes.
    age(join(c.folder, left[0]!));
    const again = ccrescue(['recover', c.file, ...c.dirs, '--json']);
    expect(again.code).toBe(0);
    expect(temps(c.folder)).toEqual([]);
    const doc = JSON.parse(again.stdout) as { written: { session: string }; snapshot: { repaired_session_id: string } };
    await expectCompleteRepair(doc.written.session, c.file, c, doc.snapshot.repaired_session_id);
  }, 120_000);

  it('--out: nothing under the --out name or its snapshot name', async () => {
    const c = crashCopy(big.dir);
    const out = join(c.dir, 'repaired.jsonl');
    const run = startCli(['recover', c.file, ...c.dirs, '--out', out]);
    expect(await freezeWhen(run, () => temps(c.dir).some(isSessionTemp))).toBe(true);
    await kill(run);
    expect(fileSha256(c.file)).toBe(c.sha);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(c.dir, 'repaired.recovery.json'))).toBe(false);
  }, 120_000);

  describe('--in-place: the session is always there, the original or the complete repaired file', () => {
    const lock = (c: CrashCopy) => `${c.file}.ccrescue-lock`;
    const backups = (c: CrashCopy) => names(c.folder).filter((n) => /\.bak-\d{8}T\d{6}Z$/.test(n));

    it('killed during the backup: the original in place, no backup under its name; the next run takes over the lock and completes', async () => {
      const c = crashCopy(big.dir);
      const run = startCli(['recover', c.file, ...c.dirs, '--in-place']);
      expect(await freezeWhen(run, () => temps(c.folder).some((n) => n.includes('.bak-')))).toBe(true);
      await kill(run);
      expect(fileSha256(c.file)).toBe(c.sha);
      expect(backups(c)).toEqual([]);
      // The lock of the dead run stays, with its pid; the next run sees that pid is gone.
      expect(readFileSync(lock(c), 'utf8')).toBe(`${run.child.pid}\n`);
      for (const t of temps(c.folder)) age(join(c.folder, t));
      const again = ccrescue(['recover', c.file, ...c.dirs, '--in-place']);
      expect(again.code, again.stderr).toBe(0);
      expect(existsSync(lock(c))).toBe(false);
      expect(temps(c.folder)).toEqual([]);
      expect(backups(c)).toHaveLength(1);
      expect(fileSha256(join(c.folder, backups(c)[0]!))).toBe(c.sha);
      await expectCompleteRepair(c.file, join(c.folder, backups(c)[0]!), c);
    }, 120_000);

    it('killed while the repaired file is written: the original in place, the backup complete', async () => {
      const c = crashCopy(big.dir);
      const run = startCli(['recover', c.file, ...c.dirs, '--in-place']);
      expect(await freezeWhen(run, () => temps(c.folder).some((n) => isSessionTemp(n) && !n.includes('.bak-')))).toBe(true);
      await kill(run);
      expect(fileSha256(c.file)).toBe(c.sha);
      expect(backups(c)).toHaveLength(1);
      expect(fileSha256(join(c.folder, backups(c)[0]!))).toBe(c.sha);
    }, 120_000);

    it('killed as soon as the session is seen replaced: the complete repaired file, the backup equal to the original', async () => {
      const c = crashCopy(big.dir);
      const original = statSync(c.file).ino;
      const run = startCli(['recover', c.file, ...c.dirs, '--in-place']);
      // The rename is the last step but the snapshot's: the run may end before the kill lands.
      const frozen = await freezeWhen(run, () => statSync(c.file).ino !== original);
      run.child.kill('SIGKILL');
      await run.done;
      expect(statSync(c.file).ino).not.toBe(original);
      expect(backups(c)).toHaveLength(1);
      const backup = join(c.folder, backups(c)[0]!);
      expect(fileSha256(backup)).toBe(c.sha);
      await expectCompleteRepair(c.file, backup, c);
      if (frozen) expect(temps(c.folder).every((n) => n.includes('.recovery.json.'))).toBe(true);
    }, 120_000);
  });
});

describe('temp files left by a killed run', () => {
  it('are removed by the next write to that folder when their pid is dead and they are ten minutes old; others stay', () => {
    const c = crashCopy();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = join(c.folder, `.${SESSION_ID}.jsonl.${dead}-0badc0de.tmp`);
    const fresh = join(c.folder, `.${SESSION_ID}.jsonl.${dead}-00c0ffee.tmp`);
    const live = join(c.folder, `.${SESSION_ID}.jsonl.${process.pid}-0feedbee.tmp`);
    const notOurs = join(c.folder, `.notes.${dead}.tmp`);
    for (const f of [stale, fresh, live, notOurs]) writeFileSync(f, 'partial');
    for (const f of [stale, live, notOurs]) age(f);
    const r = ccrescue(['recover', c.file, ...c.dirs]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    for (const f of [fresh, live, notOurs]) expect(existsSync(f)).toBe(true);
    for (const f of [fresh, live, notOurs]) rmSync(f);
  });
});
