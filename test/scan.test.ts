import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ccrescue, BIN } from './helpers/cli.js';
import { ALSO_DAMAGED, CORPUS, KNOWN_DAMAGED, corpusFiles } from './helpers/corpus.js';
import { discoverFiles } from '../src/scan/discover.js';
import { scanFiles } from '../src/scan/scan.js';
import type { ScanReport } from '../src/cli/scan-command.js';
import { analyzeSession } from '../src/analyze.js';
import { fileSha256, tree } from './helpers/files.js';

const sha = fileSha256;
const scanJson = (args: string[]) => {
  const r = ccrescue(['scan', ...args, '--json']);
  expect(r.stderr).toBe('');
  return { code: r.code, report: JSON.parse(r.stdout) as ScanReport };
};

describe('scan over the whole corpus', () => {
  const { code, report } = scanJson([CORPUS]);
  const listed = report.sessions.map((s) => relative(CORPUS, s.file)).sort();

  it('lists exactly the damaged sessions: those the manifest names, and the ones checked by hand', () => {
    expect(code).toBe(0);
    expect(listed).toEqual([...Object.keys(KNOWN_DAMAGED), ...Object.keys(ALSO_DAMAGED)].sort());
    for (const s of report.sessions) {
      const name = relative(CORPUS, s.file);
      const codes = s.findings.map((f) => f.code);
      for (const c of KNOWN_DAMAGED[name] ?? ALSO_DAMAGED[name]!.codes) expect(codes).toContain(c);
      expect(s.status).toBe('damaged');
    }
  });

  it('counts every file: healthy, empty and foreign ones are counted but not listed', () => {
    const files = corpusFiles();
    const t = report.totals;
    expect(t.files).toBe(files.length);
    expect(t.foreign).toBe(files.filter((f) => f.foreign).length);
    expect(t.empty).toBe(files.filter((f) => statSync(f.path).size === 0).length);
    expect(t.damaged).toBe(listed.length);
    expect(t.healthy + t.damaged + t.empty + t.foreign + t.unreadable).toBe(t.files);
    expect(t.unreadable).toBe(0);
    expect(t.bytes).toBe(files.reduce((n, f) => n + statSync(f.path).size, 0));
    expect(t.by_code['orphaned-tool-use']).toBeGreaterThanOrEqual(9);
  });

  it('--all lists every file, with versions, sizes and last activity', () => {
    const all = scanJson([CORPUS, '--all']).report;
    expect(all.sessions).toHaveLength(report.totals.files);
    const v1 = all.sessions.find((s) => s.file.endsWith('hello-world-script/transcript.jsonl'))!;
    expect(v1).toMatchObject({ status: 'healthy', client_versions: ['2.1.14'], kind: 'session', lines: 9, size: 6486 });
    expect(Date.parse(v1.last_activity)).not.toBeNaN();
    const gemini = all.sessions.find((s) => s.file.endsWith('gemini/jsonl_v040.jsonl'))!;
    expect(gemini.status).toBe('foreign');
    expect(gemini.reason).toContain('Gemini');
    // Newest first.
    const times = all.sessions.map((s) => s.last_activity);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('gives the same rows in worker threads as in one thread', async () => {
    const files = discoverFiles([CORPUS], '/nonexistent');
    const inline = await scanFiles(files, { claudeDir: null, clientRecords: [], jobs: 0 });
    const threaded = await scanFiles(files, { claudeDir: null, clientRecords: [], jobs: 2 });
    expect(threaded).toEqual(inline);
    expect(inline.filter((r) => r.status === 'damaged').map((r) => relative(CORPUS, r.file)).sort()).toEqual(listed);
  });

  it('prints a table of the damaged sessions and the totals, and no progress bar when stderr is not a terminal', () => {
    const r = ccrescue(['scan', CORPUS]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('5c187f31');
    expect(r.stdout).toContain('orphaned-tool-use ×4 (line 18)');
    const foreign = corpusFiles().filter((f) => f.foreign).length;
    expect(r.stdout).toMatch(new RegExp(`${corpusFiles().length} files \\(\\d+ sessions, \\d+ subagent transcripts, [\\d.]+ MiB\\): 18 damaged, \\d+ healthy, 19 empty, ${foreign} not Claude Code`));
    expect(r.stdout).not.toContain('hello-world-script');
  });
});

describe('scan of a Claude dir', () => {
  /** A Claude dir in both layouts: 2.0.x agent files beside the session, 2.1.x subagents/ folders. */
  function claudeDir() {
    const dir = mkdtempSync(join(tmpdir(), 'ccrescue-scan-'));
    const a = join(dir, 'projects', '-work-a');
    const b = join(dir, 'projects', '-work-b');
    mkdirSync(join(a, '11111111-1111-4111-8111-111111111111', 'subagents'), { recursive: true });
    mkdirSync(b, { recursive: true });
    const put = (from: string, to: string) => copyFileSync(join(CORPUS, from), to);
    put('entireio__cli/4c/02af2759b6/0/full.jsonl', join(a, '5a3bb1c8-c3ce-466e-b487-24212cbf1da1.jsonl')); // orphaned Task call at the end
    put('DRMacIver__claude-reliability/snapshot-tests/tests/hello-world-script/transcript.jsonl', join(a, '22222222-2222-4222-8222-222222222222.jsonl'));
    put('slopus__happy-cli/src/claude/utils/__fixtures__/task_sdk.jsonl', join(b, '1bf1ead3-0000-4000-8000-000000000000.jsonl')); // 1.0.71, orphaned Read
    put('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl', join(b, '5c187f31-0000-4000-8000-000000000000.jsonl'));
    const sub = readdirSync(join(CORPUS, 'marot__spotter'), { recursive: true }).map(String).find((p) => p.includes('subagents') && p.endsWith('.jsonl'))!;
    copyFileSync(join(CORPUS, 'marot__spotter', sub), join(a, '11111111-1111-4111-8111-111111111111', 'subagents', 'agent-a1.jsonl'));
    const legacy = readdirSync(join(CORPUS, 'kfischer-okarin__scripts-and-tools'), { recursive: true }).map(String).find((p) => /agent-[^/]*\.jsonl$/.test(p) && statSync(join(CORPUS, 'kfischer-okarin__scripts-and-tools', p)).size > 0)!;
    copyFileSync(join(CORPUS, 'kfischer-okarin__scripts-and-tools', legacy), join(b, 'agent-legacy.jsonl'));
    writeFileSync(join(dir, 'history.jsonl'), '{"display":"not a session","timestamp":1}\n'); // the prompt history, outside projects/
    writeFileSync(join(a, 'notes.txt'), 'not a transcript');
    return dir;
  }

  it('finds main sessions and subagent files of both layouts, nothing else', () => {
    const dir = claudeDir();
    const files = discoverFiles([], dir);
    expect(files.map((f) => [relative(dir, f.path), f.kind])).toEqual([
      ['projects/-work-a/11111111-1111-4111-8111-111111111111/subagents/agent-a1.jsonl', 'subagent'],
      ['projects/-work-a/22222222-2222-4222-8222-222222222222.jsonl', 'session'],
      ['projects/-work-a/5a3bb1c8-c3ce-466e-b487-24212cbf1da1.jsonl', 'session'],
      ['projects/-work-b/1bf1ead3-0000-4000-8000-000000000000.jsonl', 'session'],
      ['projects/-work-b/5c187f31-0000-4000-8000-000000000000.jsonl', 'session'],
      ['projects/-work-b/agent-legacy.jsonl', 'subagent'],
    ]);
  });

  it('--repair writes a repaired copy of each damaged session as recover does; a second run writes nothing', async () => {
    const dir = claudeDir();
    const before = tree(dir);
    const first = scanJson(['--claude-dir', dir, '--repair']);
    expect(first.code).toBe(0);
    const repairs = first.report.repairs!;
    expect(repairs.map((r) => [relative(dir, r.file), r.status]).sort()).toEqual([
      ['projects/-work-a/5a3bb1c8-c3ce-466e-b487-24212cbf1da1.jsonl', 'repaired'],
      ['projects/-work-b/1bf1ead3-0000-4000-8000-000000000000.jsonl', 'repaired'],
      ['projects/-work-b/5c187f31-0000-4000-8000-000000000000.jsonl', 'repaired'],
    ]);
    const after = tree(dir);
    for (const [path, hash] of Object.entries(before)) expect(after[path]).toBe(hash); // originals untouched
    const added = Object.keys(after).filter((p) => !(p in before)).sort();
    const expected = repairs.flatMap((r) => [relative(dir, r.session!), relative(dir, r.snapshot!)]).sort();
    expect(added).toEqual(expected); // it wrote the sessions and snapshots it names, nothing else
    for (const r of repairs) {
      const again = await analyzeSession(r.session!, { claudeDir: dir });
      again.loader.close();
      expect(again.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
    }

    const second = scanJson(['--claude-dir', dir, '--repair']);
    expect(second.code).toBe(0);
    expect(second.report.repairs!.map((r) => r.status)).toEqual(['already-repaired', 'already-repaired', 'already-repaired']);
    expect(tree(dir)).toEqual(after);
    // The repaired copies are scanned too, and found healthy.
    expect(second.report.totals.healthy).toBe(first.report.totals.healthy + 3);

    // A session that grew since its repair is damaged anew and repaired again.
    const grown = repairs[0]!.file;
    writeFileSync(grown, readFileSync(grown, 'utf8') + '\n');
    const third = scanJson(['--claude-dir', dir, '--repair']);
    expect(third.report.repairs!.find((r) => r.file === grown)!.status).toBe('repaired');
  });

  it('marks a session a running client owns as live and leaves it alone', () => {
    const dir = claudeDir();
    mkdirSync(join(dir, 'sessions'));
    // This test's own process stands in for the client: alive, with its real start time.
    const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
    const procStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    writeFileSync(join(dir, 'sessions', `${process.pid}.json`), JSON.stringify({ pid: process.pid, sessionId: '5a3bb1c8-c3ce-466e-b487-24212cbf1da1', cwd: '/work/a', status: 'busy', procStart }));
    const { report } = scanJson(['--claude-dir', dir, '--repair']);
    const row = report.sessions.find((s) => s.session_id === '5a3bb1c8-c3ce-466e-b487-24212cbf1da1')!;
    expect(row.live).toBe(true);
    expect(row.repair?.status).toBe('skipped');
    expect(report.totals.live).toBe(1);
  });

  it('a path that does not exist is bad usage: exit 2, one line', () => {
    const r = ccrescue(['scan', '/nonexistent/folder']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('ccrescue: /nonexistent/folder: no such file or folder\n');
    const jobs = ccrescue(['scan', CORPUS, '--jobs', 'many']);
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toBe('ccrescue: --jobs many: expected a whole number from 0 to 256\n');
  });

  it('a file that vanishes before it is read is reported as unreadable, and the run exits 1', async () => {
    const rows = await scanFiles([{ path: '/nonexistent/gone.jsonl', kind: 'session', size: 10, mtimeMs: 0 }], { claudeDir: null, clientRecords: [], jobs: 1 });
    expect(rows[0]).toMatchObject({ status: 'unreadable', file: '/nonexistent/gone.jsonl' });
    expect(rows[0]!.reason).toContain('/nonexistent/gone.jsonl');
    const dir = mkdtempSync(join(tmpdir(), 'ccrescue-scan-'));
    const r = ccrescue(['scan', join(dir, 'missing.jsonl')]);
    expect(r.code).toBe(2);
  });

  it('draws a progress bar on stderr when it is a terminal', () => {
    const dir = claudeDir();
    // `script` gives the command a pseudo-terminal; its output is what the terminal showed.
    const r = spawnSync('script', ['-qec', `${process.execPath} ${BIN} scan --claude-dir ${dir}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/scanning .*\d+\/6 files/);
    expect(r.stdout).toContain('6 files (4 sessions, 2 subagent transcripts');
  });
});
