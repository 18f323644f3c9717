import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, realpath, rm, unlink, writeFile, symlink, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSession } from '../../src/analyze.js';
import { backupHash } from '../../src/inspect/file-history.js';

const REPO = join(import.meta.dirname, '..', '..');
const FIXTURE = join(REPO, 'fixtures', 'crash-parallel');
const SID = '5fec7deb-813f-4346-8789-314f5d8e99ea';
const SESSION_REL = join('claude', 'projects', '-tmp-ccrescue-fixture-work-proj', `${SID}.jsonl`);
/** The session's cwd as the client saw it: backup names hash paths under it. */
const CWD = '/tmp/ccrescue-fixture/work/proj';
const ORIGINAL_MATH = 'function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** A private copy of the real crashed 2.1.328 session, its Claude dir and its project. */
async function crashCopy() {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-forensics-')));
  roots.push(root);
  await cp(FIXTURE, root, { recursive: true });
  const claudeDir = join(root, 'claude');
  const projectDir = join(root, 'project');
  const analyze = () => analyzeSession(join(root, SESSION_REL), { claudeDir, projectDir, processes: false });
  return { root, claudeDir, projectDir, analyze, backups: join(claudeDir, 'file-history', SID) };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('file forensics on the real crashed 2.1.328 session (fixtures/crash-parallel)', () => {
  it('names the backup the way Claude Code does', async () => {
    expect(backupHash(`${CWD}/src/math.js`)).toBe('f7468aca950ecfb7');
    expect(sha(`${CWD}/src/math.js`).slice(0, 16)).toBe('f7468aca950ecfb7');
  });

  it('classifies each mutation against the disk as the crash left it', async () => {
    const c = await crashCopy();
    const a = await c.analyze();
    const f = a.forensics;
    const byId = (id: string) => f.calls.get(id);
    expect(byId('toolu_h_edit_math')).toMatchObject({ tool: 'Edit', file: 'src/math.js', result: 'ok', status: 'applied' });
    expect(byId('toolu_h_write_notes')).toMatchObject({ tool: 'Write', file: 'NOTES.md', result: 'ok', status: 'applied' });
    expect(byId('toolu_h_write_marker')).toMatchObject({ tool: 'Write', file: 'marker.txt', result: 'none', status: 'not_applied' });
    expect(f.untracked).toEqual([]);
    expect(a.findings.filter((x) => x.code === 'untracked-side-effect')).toEqual([]);
    const math = f.files.find((x) => x.file === 'src/math.js')!;
    expect(math.checkpoints).toEqual([{ line: 31, backup: 'f7468aca950ecfb7@v1', version: 1, present: true }]);
    // What the session changed: the diff from the content before its edit to the disk.
    expect(math.diff_kind).toBe('checkpoint-to-disk');
    expect(math.diff).toContain('-  return a + b;');
    expect(math.diff).toContain('+  return Number(a) + Number(b);');
    const notes = f.files.find((x) => x.file === 'NOTES.md')!;
    expect(notes.checkpoints).toEqual([{ line: 32, backup: null, version: 1, present: false }]);
    // The interrupted Write's synthetic result reflects the disk.
    expect(a.activeCalls.find((x) => x.tool_use_id === 'toolu_h_write_marker')).toMatchObject({ file: 'marker.txt', file_state: 'not_applied' });
  });

  it('sees a pending Write that did reach the disk as applied', async () => {
    const c = await crashCopy();
    await writeFile(join(c.projectDir, 'marker.txt'), 'done\n');
    const a = await c.analyze();
    expect(a.forensics.calls.get('toolu_h_write_marker')).toMatchObject({ status: 'applied', evidence: 'the file on disk equals the state this call leaves' });
    expect(a.activeCalls.find((x) => x.tool_use_id === 'toolu_h_write_marker')?.file_state).toBe('applied');
  });

  it('sees an edit undone after the session as diverged, with the diff from the recorded state', async () => {
    const c = await crashCopy();
    await writeFile(join(c.projectDir, 'src/math.js'), ORIGINAL_MATH);
    const a = await c.analyze();
    expect(a.forensics.calls.get('toolu_h_edit_math')).toMatchObject({ status: 'diverged' });
    expect(a.forensics.calls.get('toolu_h_edit_math')!.evidence).toMatch(/back to its content before this call/);
    const effect = a.forensics.untracked.find((u) => u.file === 'src/math.js');
    expect(effect).toMatchObject({ source: 'disk', line: 35 });
    expect(effect!.diff).toContain('-  return Number(a) + Number(b);');
    expect(effect!.diff).toContain('+  return a + b;');
    expect(a.findings).toContainEqual(expect.objectContaining({ code: 'untracked-side-effect', severity: 'warning', line: 35, kind: 'disk' }));
    expect(a.healthy).toBe(false);
  });

  it('sees a file changed in another way as diverged, and a deleted one as missing', async () => {
    const c = await crashCopy();
    await writeFile(join(c.projectDir, 'src/math.js'), ORIGINAL_MATH.replace('a + b', 'a * b'));
    await unlink(join(c.projectDir, 'NOTES.md'));
    const a = await c.analyze();
    expect(a.forensics.calls.get('toolu_h_edit_math')).toMatchObject({ status: 'diverged', evidence: expect.stringMatching(/something else changed it since/) });
    expect(a.forensics.calls.get('toolu_h_write_notes')).toMatchObject({ status: 'missing' });
    const notes = a.forensics.untracked.find((u) => u.file === 'NOTES.md')!;
    expect(notes.diff).toContain('-add() now coerces its inputs.');
    expect(notes.evidence).toMatch(/no longer exists/);
  });

  it('finds a backup that no line names and diffs it against the disk', async () => {
    const c = await crashCopy();
    // As when the client dies between backing a file up and writing the message of the edit.
    const name = `${backupHash(`${CWD}/src/greet.js`)}@v1`;
    const greet = await readFile(join(c.projectDir, 'src/greet.js'), 'utf8');
    await writeFile(join(c.backups, name), greet);
    await writeFile(join(c.projectDir, 'src/greet.js'), greet.replace('Hello', 'Hi'));
    const a = await c.analyze();
    const effect = a.forensics.untracked.find((u) => u.file === 'src/greet.js');
    expect(effect).toMatchObject({ source: 'backup', line: null });
    expect(effect!.evidence).toContain(name);
    expect(effect!.diff).toMatch(/^-  return `Hello, \$\{name\}!`;$/m);
    expect(effect!.diff).toMatch(/^\+  return `Hi, \$\{name\}!`;$/m);
    expect(a.forensics.untracked.filter((u) => u.file === 'src/greet.js')).toHaveLength(1);
  });

  it('finds an unnamed backup of a file the transcript never mentions by hashing the project', async () => {
    const c = await crashCopy();
    await writeFile(join(c.backups, `${backupHash(`${CWD}/scripts/slow-job.js`)}@v1`), '// before\n');
    const a = await c.analyze();
    const effect = a.forensics.untracked.find((u) => u.file === 'scripts/slow-job.js');
    expect(effect).toMatchObject({ source: 'backup' });
    expect(effect!.diff).toContain('-// before');
  });

  it('keeps a backup it cannot place, named as such', async () => {
    const c = await crashCopy();
    await writeFile(join(c.backups, '0123456789abcdef@v1'), 'lost content\n');
    const a = await c.analyze();
    expect(a.forensics.untracked).toContainEqual(expect.objectContaining({ file: '(unidentified file, backup 0123456789abcdef@v1)', source: 'backup' }));
  });

  it('ignores a backup whose file is unchanged since', async () => {
    const c = await crashCopy();
    const greet = await readFile(join(c.projectDir, 'src/greet.js'), 'utf8');
    await writeFile(join(c.backups, `${backupHash(`${CWD}/src/greet.js`)}@v1`), greet);
    const a = await c.analyze();
    expect(a.forensics.untracked).toEqual([]);
  });

  it('reports a file the session only read when it changed since', async () => {
    const c = await crashCopy();
    await writeFile(join(c.projectDir, 'src/greet.js'), 'changed\n');
    const a = await c.analyze();
    const effect = a.forensics.untracked.find((u) => u.file === 'src/greet.js');
    expect(effect).toMatchObject({ source: 'disk', line: 24 });
    expect(effect!.evidence).toMatch(/when the session read it \(line 24\)/);
    expect(effect!.diff).toContain('+changed');
  });

  it('never follows a symlink out of the project, and names the path', async () => {
    const c = await crashCopy();
    const outside = join(c.root, 'outside.txt');
    await writeFile(outside, 'secret\n');
    await unlink(join(c.projectDir, 'NOTES.md'));
    await symlink(outside, join(c.projectDir, 'NOTES.md'));
    const a = await c.analyze();
    expect(a.forensics.calls.get('toolu_h_write_notes')).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/outside the project/) });
    expect(a.findings).toContainEqual(expect.objectContaining({ code: 'path-outside-project', severity: 'notice' }));
    expect(JSON.stringify(a.forensics)).not.toContain('secret');
  });

  it('never opens a backup name that leads out of the store', async () => {
    const c = await crashCopy();
    const file = join(c.root, SESSION_REL);
    const text = await readFile(file, 'utf8');
    await mkdir(join(c.claudeDir, 'file-history', 'escape'), { recursive: true });
    await writeFile(file, text.replace('"backupFileName":"f7468aca950ecfb7@v1"', '"backupFileName":"../../../outside@v1"'));
    await writeFile(join(c.root, 'outside@v1'), 'secret\n');
    const a = await c.analyze();
    expect(a.forensics.refused).toContainEqual(expect.objectContaining({ line: 31, path: '../../../outside@v1' }));
    expect(JSON.stringify(a.forensics)).not.toContain('secret');
  });

  it('says unknown when the project is not on this machine', async () => {
    const c = await crashCopy();
    const file = join(c.root, SESSION_REL);
    await writeFile(file, (await readFile(file, 'utf8')).replaceAll(CWD, '/nonexistent/ccrescue-project'));
    const a = await analyzeSession(file, { claudeDir: c.claudeDir, processes: false });
    expect(a.projectDir).toBeNull();
    // Only the unanswered calls are read then (their file_state), unless a listing asks for all.
    expect([...a.forensics.calls.keys()]).toEqual(['toolu_h_write_marker']);
    expect(a.activeCalls.find((x) => x.tool_use_id === 'toolu_h_write_marker')).toMatchObject({ file_state: 'unknown', evidence: expect.stringMatching(/--project-dir/) });
    expect(a.forensics.untracked).toEqual([]);
    const all = await analyzeSession(file, { claudeDir: c.claudeDir, processes: false, listAllFiles: true });
    expect(all.forensics.calls.get('toolu_h_edit_math')).toMatchObject({ status: 'unknown', evidence: expect.stringMatching(/--project-dir/) });
    expect(all.forensics.files.map((f) => f.file)).toEqual(['marker.txt', 'NOTES.md', 'src/math.js']);
  });
});
