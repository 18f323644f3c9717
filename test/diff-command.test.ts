import { afterAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ccrescue } from './helpers/cli.js';
import { analyzeSession } from '../src/analyze.js';
import { diffReport, renderDiff, type DiffReport } from '../src/cli/diff-command.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'crash-parallel');
const SESSION = join('claude', 'projects', '-tmp-ccrescue-fixture-work-proj', '5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl');

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function copy() {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-diff-')));
  roots.push(root);
  await cp(FIXTURE, root, { recursive: true });
  const args = [join(root, SESSION), '--claude-dir', join(root, 'claude'), '--project-dir', join(root, 'project')];
  return { root, args, project: join(root, 'project') };
}

describe('ccrescue diff', () => {
  it('prints one JSON document with every touched file, its calls and checkpoints', async () => {
    const c = await copy();
    const r = ccrescue(['diff', ...c.args, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as DiffReport;
    expect(doc.session_id).toBe('5fec7deb-813f-4346-8789-314f5d8e99ea');
    expect(doc.project_dir).toBe(c.project);
    // src/greet.js was only read, and is unchanged: not listed.
    expect(doc.files.map((f) => [f.file, f.status])).toEqual([
      ['marker.txt', 'not_applied'],
      ['NOTES.md', 'applied'],
      ['src/math.js', 'applied'],
    ]);
    expect(doc.untracked_side_effects).toEqual([]);
    expect(doc.crashed_clients).toEqual([expect.objectContaining({ pid: 8450, status: 'busy', version: '2.1.328' })]);
    const math = doc.files.find((f) => f.file === 'src/math.js')!;
    expect(math.calls).toEqual([expect.objectContaining({ tool_use_id: 'toolu_h_edit_math', line: 35, result: 'ok', status: 'applied' })]);
    expect(math.diff).toMatch(/^--- src\/math\.js \(before the session's changes\)\n\+\+\+ src\/math\.js \(disk\)\n@@ /);
  });

  it('shows a change made behind the transcript, as a table and a plain diff when not on a terminal', async () => {
    const c = await copy();
    await writeFile(join(c.project, 'src/math.js'), readFileSync(join(c.project, 'src/math.js'), 'utf8').replace('Number(b)', 'parseFloat(b)'));
    const r = ccrescue(['diff', ...c.args]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/\u001b\[/);
    expect(r.stdout).toMatch(/│ src\/math\.js\s+│ diverged/);
    expect(r.stdout).toContain('Changes no transcript line records (1):');
    expect(r.stdout).toContain('-  return Number(a) + Number(b);\n+  return Number(a) + parseFloat(b);');
    const json = JSON.parse(ccrescue(['diff', ...c.args, '--json']).stdout) as DiffReport;
    expect(json.untracked_side_effects).toEqual([expect.objectContaining({ file: 'src/math.js', source: 'disk', line: 35 })]);
  });

  it('colours the diff on a terminal, and only there', async () => {
    const c = await copy();
    await writeFile(join(c.project, 'NOTES.md'), 'rewritten\n');
    const a = await analyzeSession(join(c.root, SESSION), { claudeDir: join(c.root, 'claude'), projectDir: c.project, processes: false });
    const report = diffReport(a);
    a.loader.close();
    const coloured = await renderDiff(report, true);
    expect(coloured).toContain('\u001b[32m+rewritten\u001b[0m');
    expect(coloured).toContain('\u001b[31m-# Notes\u001b[0m');
    expect(await renderDiff(report, false)).not.toMatch(/\u001b\[/);
  });

  it('refuses a project dir that does not exist, in one line, with exit 2', async () => {
    const c = await copy();
    const r = ccrescue(['diff', join(c.root, SESSION), '--claude-dir', join(c.root, 'claude'), '--project-dir', join(c.root, 'nope')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('nope: --project-dir is not a directory');
  });

  it('never writes anything', async () => {
    const c = await copy();
    await writeFile(join(c.project, 'src/greet.js'), 'changed\n');
    const listing = () => readdirSync(c.root, { recursive: true }).map(String).sort();
    const files = listing();
    const before = readFileSync(join(c.root, SESSION));
    expect(ccrescue(['diff', ...c.args]).code).toBe(0);
    expect(listing()).toEqual(files);
    expect(readFileSync(join(c.root, SESSION)).equals(before)).toBe(true);
  });
});

/** A private copy of a fixture: the session, its Claude dir and its project. */
async function fixtureCopy(name: string) {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-diff-')));
  roots.push(root);
  await cp(join(import.meta.dirname, '..', 'fixtures', name), root, { recursive: true });
  const folder = join(root, 'claude', 'projects', '-tmp-ccrescue-fixture-work-proj');
  const session = join(folder, readdirSync(folder).find((n) => n.endsWith('.jsonl'))!);
  return { root, session, args: [session, '--claude-dir', join(root, 'claude'), '--project-dir', join(root, 'project')] };
}

describe('ccrescue diff on real 2.1.328 crashes', () => {
  it('an Edit that reached the disk with no line at all: found by its backup (fixtures/crash-edit-on-disk)', async () => {
    const c = await fixtureCopy('crash-edit-on-disk');
    const doc = JSON.parse(ccrescue(['diff', ...c.args, '--json']).stdout) as DiffReport;
    expect(doc.untracked_side_effects).toHaveLength(1);
    const [effect] = doc.untracked_side_effects;
    expect(effect).toMatchObject({ file: 'src/math.js', source: 'backup', line: null });
    expect(effect!.evidence).toMatch(/^Claude Code backed this file up as f7468aca950ecfb7@v1 before changing it, and no line of the transcript records that change; it now differs$/);
    expect(effect!.diff.split('\n')).toEqual(expect.arrayContaining(['-  return a + b;', '+  return Number(a) + Number(b);']));
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: 'untracked-side-effect', severity: 'warning' }));
    // The snapshot, the prompt and the phase say the same.
    const rec = ccrescue(['recover', ...c.args, '--dry-run', '--json']);
    const snap = (JSON.parse(rec.stdout) as { snapshot: { disconnect_phase: string; continuation_prompt: string; untracked_side_effects: unknown[] } }).snapshot;
    expect(snap.disconnect_phase).toBe('streaming');
    expect(snap.untracked_side_effects).toEqual([expect.objectContaining({ file: 'src/math.js', source: 'backup' })]);
    expect(snap.continuation_prompt).toContain('+  return Number(a) + Number(b);');
    expect(snap.continuation_prompt).toContain('do not make them again');
  });

  it('a Write known only by its checkpoint delta line: found by that line (fixtures/crash-write-dispatched)', async () => {
    const c = await fixtureCopy('crash-write-dispatched');
    const doc = JSON.parse(ccrescue(['diff', ...c.args, '--json']).stdout) as DiffReport;
    expect(doc.untracked_side_effects).toEqual([expect.objectContaining({ file: 'src/sub.js', source: 'delta', line: 19 })]);
    const diff = doc.untracked_side_effects[0]!.diff;
    expect(diff.startsWith('--- /dev/null\n+++ src/sub.js (disk)\n')).toBe(true);
    expect(diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))).toEqual([]);
    expect(diff).toContain(`+${readFileSync(join(c.root, 'project', 'src', 'sub.js'), 'utf8').split('\n')[0]}`);
  });

  it('a recovered session finds the change already reported, while the disk still holds it', async () => {
    const c = await fixtureCopy('crash-edit-on-disk');
    const rec = JSON.parse(ccrescue(['recover', ...c.args, '--json']).stdout) as { status: string; written: { session: string } };
    expect(rec.status).toBe('repaired');
    const again = JSON.parse(ccrescue(['recover', rec.written.session, '--claude-dir', join(c.root, 'claude'), '--project-dir', join(c.root, 'project'), '--dry-run', '--json']).stdout) as { status: string };
    expect(again.status).toBe('healthy');
    // A further change is news again.
    await writeFile(join(c.root, 'project', 'src', 'math.js'), 'changed again\n');
    const third = JSON.parse(ccrescue(['diff', rec.written.session, '--claude-dir', join(c.root, 'claude'), '--project-dir', join(c.root, 'project'), '--json']).stdout) as DiffReport;
    expect(third.untracked_side_effects).toEqual([expect.objectContaining({ file: 'src/math.js', source: 'backup' })]);
  });
});
