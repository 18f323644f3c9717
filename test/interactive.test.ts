import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, utimes, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ccrescue } from './helpers/cli.js';
import { CORPUS } from './helpers/corpus.js';
import { Term } from './helpers/pty.js';
import { fileSha256, tree } from './helpers/files.js';

// `recover -i` driven through a real pseudo-terminal: the built CLI (bin/ccrescue → dist/), real keypresses.

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
const FOLDER = '-tmp-ccrescue-fixture-work-proj';
const PARALLEL_ID = '5fec7deb-813f-4346-8789-314f5d8e99ea';
const DISPATCHED_ID = '94cd93bd-f967-451f-b7bf-1381af46f6dc';
const HEALTHY = join(CORPUS, 'DRMacIver__claude-reliability', 'snapshot-tests', 'tests', 'hello-world-script', 'transcript.jsonl');
const HEALTHY_ID = 'de3b8b19-5bc0-4a2a-934a-1b6806567e25';

const DOWN = '\x1b[B';
const ENTER = '\r';
const CTRL_C = '\x03';

const terms: Term[] = [];
afterEach(() => {
  for (const t of terms.splice(0)) {
    if (t.exitCode === null) {
      try {
        t.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function tempRoot(): Promise<string> {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-interactive-')));
  roots.push(root);
  return root;
}

/** The environment of every run: no colour, and never the user's own settings file. */
function envFor(root: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CONFIG_HOME: root, ...extra };
  delete env.FORCE_COLOR;
  delete env.CLAUDE_CONFIG_DIR;
  if (!('CCRESCUE_SETTINGS' in extra)) delete env.CCRESCUE_SETTINGS;
  return env;
}

/** `ccrescue <args>` on a terminal. */
function run(root: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Term {
  const t = new Term(process.execPath, [BIN, ...args], { cwd: root, env: envFor(root, extraEnv) });
  terms.push(t);
  return t;
}

/** A copy of crash-parallel: the session path and the arguments that point recover at the copy. */
async function parallelCopy() {
  const root = await tempRoot();
  await cp(join(FIXTURES, 'crash-parallel'), root, { recursive: true });
  const claude = join(root, 'claude');
  const folder = join(claude, 'projects', FOLDER);
  const session = join(folder, `${PARALLEL_ID}.jsonl`);
  return { root, claude, folder, session, args: [session, '--claude-dir', claude, '--project-dir', join(root, 'project')] };
}


/** The files a run added to a folder (names only). */
function added(folder: string, before: Record<string, string>): string[] {
  return Object.keys(tree(folder))
    .filter((f) => !(f in before))
    .sort();
}

interface SnapshotCall {
  tool_use_id: string;
  tool: string;
  choice?: string;
  chosen_by?: string;
  file_state?: string | null;
  resume_strategy: string;
}
interface Snapshot {
  repaired_file: string | null;
  active_tool_calls: SnapshotCall[];
  continuation_prompt: string;
  resume_command: string | null;
}

/** What a run wrote beside the session: exactly one new session and its snapshot, with the same id. */
async function writtenBy(folder: string, before: Record<string, string>) {
  const fresh = added(folder, before);
  expect(fresh).toHaveLength(2);
  const id = fresh[0]!.replace(/\.jsonl$/, '');
  expect(fresh).toEqual([`${id}.jsonl`, `${id}.recovery.json`]);
  const sessionPath = join(folder, `${id}.jsonl`);
  const snapshot = JSON.parse(await readFile(join(folder, `${id}.recovery.json`), 'utf8')) as Snapshot;
  const lines = (await readFile(sessionPath, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { id, sessionPath, snapshot, lines };
}

/** The text of the tool_result a session holds for a call (string content or text blocks). */
function resultText(lines: Record<string, unknown>[], toolUseId: string): string {
  const texts: string[] = [];
  for (const l of lines) {
    const content = (l.message as { content?: unknown } | undefined)?.content;
    if (!Array.isArray(content)) continue;
    for (const b of content as { type?: string; tool_use_id?: string; content?: unknown }[]) {
      if (b.type !== 'tool_result' || b.tool_use_id !== toolUseId) continue;
      if (typeof b.content === 'string') texts.push(b.content);
      else if (Array.isArray(b.content)) texts.push((b.content as { text?: string }[]).map((x) => x.text ?? '').join(''));
    }
  }
  expect(texts, `one tool_result for ${toolUseId}`).toHaveLength(1);
  return texts[0]!;
}

const call = (s: Snapshot, id: string) => s.active_tool_calls.find((c) => c.tool_use_id === id)!;

// The sentences the user's answers put into the synthetic results and the continuation prompt.
const SKIPPED_RESULT = 'The user chose not to run it again: do not repeat it, and leave whatever it did as it is.';
const RETRY_MARKER_RESULT = 'The user chose to have this change made again: read marker.txt first, so that it is not applied twice.';
const BASH_ADVICE = 'Check its effects and ask the user before running it again.';
const ASK_STEP = 'Ask the user before running again: Bash `node scripts/slow-job.js`';

/** Answers the two questions of crash-parallel: waits for each call's details, then its question, then sends the keys. */
async function answerParallel(t: Term, bash: string[], write: string[]): Promise<{ header: string; bashShown: string; writeShown: string }> {
  const header = /(2 tool calls were interrupted in .+:)\n$/.exec(await t.waitFor(/(?:^|\n)2 tool calls were interrupted in .+:\n/))![1]!;
  const bashShown = await t.waitFor('? Call 1 of 2: what should the resumed session do?');
  await t.waitFor('⏎ select');
  for (const k of bash) await press(t, k);
  await t.waitFor(/✔ Call 1 of 2: what should the resumed session do\? .+/);
  const writeShown = await t.waitFor('? Call 2 of 2: what should the resumed session do?');
  await t.waitFor('⏎ select');
  for (const k of write) await press(t, k);
  await t.waitFor(/✔ Call 2 of 2: what should the resumed session do\? .+/);
  return { header, bashShown, writeShown };
}

/** One key at a select: an arrow waits for the redraw it causes. */
async function press(t: Term, key: string): Promise<void> {
  t.send(key);
  if (key === DOWN) await t.waitFor('⏎ select');
}

describe('recover -i on a terminal', () => {
  it('asks per interrupted call after showing what is known of it, and writes the answers into results, snapshot and prompt', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const originalHash = fileSha256(c.session);
    const before = tree(c.folder);
    const t = run(c.root, ['recover', '-i', ...c.args]);

    // Default settings: the cursor starts on "Let the model decide" (the third answer) for both
    // calls, and Down wraps round: Down ×2 is Skip, Down ×1 is Retry.
    const { bashShown, writeShown } = await answerParallel(t, [DOWN, DOWN, ENTER], [DOWN, ENTER]);
    // Bash: its line, tool, id and command come before its question.
    expect(bashShown).toMatch(/line 39 {2}Bash {2}\(toolu_h_bash\)\n {2}command: {2}node scripts\/slow-job\.js\n/);
    expect(bashShown).toContain('status:   no result was ever recorded');
    expect(bashShown).not.toContain('marker.txt');
    // Write: the file and what is on disk, before its question.
    expect(writeShown).toMatch(/line 40 {2}Write {2}\(toolu_h_write_marker\)\n {2}file: {5}marker\.txt\n {2}on disk: {2}not[ _]applied\b.*the file does not exist/);
    expect(t.text).toContain("✔ Call 1 of 2: what should the resumed session do? Skip: don't run it again");
    expect(t.text).toContain('✔ Call 2 of 2: what should the resumed session do? Retry: make this change again');

    const confirmText = await t.waitFor(/\(Y\/n\)/);
    expect(confirmText).toContain('2 repairs:');
    // The path may be broken over lines at the terminal's width.
    expect(confirmText).toMatch(/Write the repaired session to\s[\s\S]+?\.jsonl\? \(Y\/n\)$/);
    expect(added(c.folder, before), 'nothing is written before the confirm').toEqual([]);
    t.send('y');
    await t.waitFor(/\(Y\/n\) y/);
    t.send(ENTER);
    await t.waitFor('repaired session:');
    expect(await t.exit()).toBe(0);

    const w = await writtenBy(c.folder, before);
    expect(confirmText.replace(/\s+/g, '')).toContain(`${w.id}.jsonl?`);
    expect(t.text).toContain('line 39  Bash node scripts/slow-job.js  -> pending_result, ask -> not run again (your choice)');
    expect(t.text).toContain('line 40  Write marker.txt  -> not_applied, verify -> run again (your choice)');

    // The snapshot: each call carries the user's answer.
    expect(call(w.snapshot, 'toolu_h_bash')).toMatchObject({ tool: 'Bash', choice: 'skip', chosen_by: 'user' });
    expect(call(w.snapshot, 'toolu_h_write_marker')).toMatchObject({ tool: 'Write', choice: 'retry', chosen_by: 'user', file_state: 'not_applied' });
    expect(w.snapshot.repaired_file).toBe(w.sessionPath);

    // The synthetic results: the user's decision replaces the per-tool advice.
    const bashResult = resultText(w.lines, 'toolu_h_bash');
    expect(bashResult).toContain(SKIPPED_RESULT);
    expect(bashResult).not.toContain(BASH_ADVICE);
    const writeResult = resultText(w.lines, 'toolu_h_write_marker');
    expect(writeResult).toContain(RETRY_MARKER_RESULT);
    expect(writeResult).not.toContain('Apply it again');

    // The continuation prompt: the user's steps, and no "ask the user" step for the skipped Bash.
    const prompt = w.snapshot.continuation_prompt;
    expect(prompt).toContain('The user chose to run this again: Write marker.txt. Read each file first, so that no change is applied twice.');
    expect(prompt).toContain("The user chose not to run this again: Bash `node scripts/slow-job.js`. Do not repeat it, and leave what it did as it is.");
    expect(prompt).not.toContain(ASK_STEP);
    expect(prompt).not.toContain('Make this change again if still wanted');
    expect(prompt).toContain('(toolu_h_bash): was running when the session died; its outcome and side effects are unknown. The user chose not to run it again.');
    expect(w.snapshot.resume_command).toContain(`claude --resume ${w.id} `);

    // The original is untouched, byte for byte.
    expect(fileSha256(c.session)).toBe(originalHash);
  });

  it("starts each question on the settings' choice: Enter everywhere takes auto_retry_mutations for the Write, the model for the Bash", { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const settings = join(c.root, 'settings.json');
    await writeFile(settings, JSON.stringify({ network_resilience: { auto_retry_mutations: true } }));
    const before = tree(c.folder);
    const t = run(c.root, ['recover', '-i', ...c.args], { CCRESCUE_SETTINGS: settings });

    await t.waitFor('? Call 1 of 2');
    const bashMenu = await t.waitFor('⏎ select');
    expect(bashMenu).toMatch(/\n❯ Let the model decide\n/);
    t.send(ENTER);
    await t.waitFor('✔ Call 1 of 2: what should the resumed session do? Let the model decide');
    await t.waitFor('? Call 2 of 2');
    const writeMenu = await t.waitFor('⏎ select');
    expect(writeMenu).toMatch(/\n❯ Retry: make this change again\n/);
    expect(writeMenu).toMatch(/\n {2}Let the model decide\n/);
    t.send(ENTER);
    await t.waitFor('✔ Call 2 of 2: what should the resumed session do? Retry: make this change again');
    await t.waitFor(/\(Y\/n\)/);
    t.send(ENTER);
    await t.waitFor('repaired session:');
    expect(await t.exit()).toBe(0);

    const w = await writtenBy(c.folder, before);
    // Answered at the prompt, so the user's choice, even where it agrees with the settings.
    expect(call(w.snapshot, 'toolu_h_write_marker')).toMatchObject({ choice: 'retry', chosen_by: 'user' });
    expect(call(w.snapshot, 'toolu_h_bash')).toMatchObject({ choice: 'model', chosen_by: 'user' });
    expect(resultText(w.lines, 'toolu_h_write_marker')).toContain(RETRY_MARKER_RESULT);
    // "Let the model decide" keeps the per-tool advice: no user sentence in the Bash result.
    const bashResult = resultText(w.lines, 'toolu_h_bash');
    expect(bashResult).not.toContain('The user chose');
    expect(bashResult).toContain(BASH_ADVICE);
    expect(w.snapshot.continuation_prompt).toContain(ASK_STEP);
    expect(w.snapshot.continuation_prompt).toContain('The user chose to run this again: Write marker.txt.');
    expect(w.snapshot.continuation_prompt).not.toContain('The user chose not to run');
  });

  it('with default settings, Enter everywhere leaves the Write to the model', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const before = tree(c.folder);
    const t = run(c.root, ['recover', '-i', ...c.args]);
    await t.waitFor('? Call 1 of 2');
    expect(await t.waitFor('⏎ select')).toMatch(/\n❯ Let the model decide\n/);
    t.send(ENTER);
    await t.waitFor('? Call 2 of 2');
    const writeMenu = await t.waitFor('⏎ select');
    expect(writeMenu).toMatch(/\n❯ Let the model decide\n/);
    expect(writeMenu).toMatch(/\n {2}Retry: make this change again\n/);
    t.send(ENTER);
    await t.waitFor('✔ Call 2 of 2: what should the resumed session do? Let the model decide');
    await t.waitFor(/\(Y\/n\)/);
    t.send(ENTER);
    await t.waitFor('repaired session:');
    expect(await t.exit()).toBe(0);

    const w = await writtenBy(c.folder, before);
    expect(call(w.snapshot, 'toolu_h_write_marker')).toMatchObject({ choice: 'model', chosen_by: 'user' });
    expect(call(w.snapshot, 'toolu_h_bash')).toMatchObject({ choice: 'model', chosen_by: 'user' });
    const writeResult = resultText(w.lines, 'toolu_h_write_marker');
    expect(writeResult).not.toContain('The user chose');
    expect(writeResult).toContain('Apply it again if it is still wanted.');
    expect(w.snapshot.continuation_prompt).toContain('Make this change again if still wanted; it is not on disk: Write marker.txt.');
    expect(w.snapshot.continuation_prompt).not.toContain('The user chose');
  });

  it('Ctrl+C at a call question exits 130 and writes nothing', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const before = tree(c.root);
    const t = run(c.root, ['recover', '-i', ...c.args]);
    await t.waitFor('? Call 1 of 2');
    await t.waitFor('⏎ select');
    t.send(DOWN);
    await t.waitFor('⏎ select');
    t.send(CTRL_C);
    expect(await t.exit()).toBe(130);
    expect(t.text).toContain('ccrescue: cancelled: nothing was written');
    expect(t.text).not.toContain('Call 2 of 2');
    expect(t.text).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
    expect(tree(c.root)).toEqual(before);
  });

  it('Ctrl+C at the final confirm exits 130 and writes nothing', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const before = tree(c.root);
    const t = run(c.root, ['recover', '-i', ...c.args]);
    await answerParallel(t, [ENTER], [ENTER]);
    await t.waitFor(/\(Y\/n\)/);
    t.send(CTRL_C);
    expect(await t.exit()).toBe(130);
    expect(t.text).toContain('ccrescue: cancelled: nothing was written');
    expect(t.text).not.toContain('repaired session:');
    expect(tree(c.root)).toEqual(before);
  });

  it('answering n at the confirm exits 0, writes nothing and says so', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const before = tree(c.root);
    const t = run(c.root, ['recover', '-i', ...c.args]);
    await answerParallel(t, [ENTER], [ENTER]);
    await t.waitFor(/\(Y\/n\)/);
    t.send('n');
    await t.waitFor(/\(Y\/n\) n/);
    t.send(ENTER);
    await t.waitFor(/✔ Write the repaired session to\s[\s\S]+?\.jsonl\? No\n/);
    expect(await t.exit()).toBe(0);
    expect(t.text).toContain('not written: you chose not to write the repaired session');
    expect(t.text).not.toContain('repaired session:');
    expect(t.text).not.toContain('recovery snapshot:');
    expect(tree(c.root)).toEqual(before);
  });
});

describe('recover -i with no session: the picker', () => {
  /**
   * A Claude dir with two damaged sessions in two project folders and a healthy one in a third.
   * crash-write-dispatched's last entry (2026-11-24T02:01:29Z) is newer than crash-parallel's
   * (01:23:49Z); the file times and the paths say the opposite, so only the last activity puts
   * it first.
   */
  async function claudeDirWithTwo() {
    const root = await tempRoot();
    await cp(join(FIXTURES, 'crash-parallel'), join(root, 'parallel'), { recursive: true });
    await cp(join(FIXTURES, 'crash-write-dispatched'), join(root, 'dispatched'), { recursive: true });
    const claude = join(root, 'claude');
    const a = join(claude, 'projects', '-tmp-a-proj');
    const b = join(claude, 'projects', '-tmp-b-proj');
    const h = join(claude, 'projects', '-tmp-h-proj');
    for (const d of [a, b, h]) await mkdir(d, { recursive: true });
    await cp(join(root, 'parallel', 'claude', 'projects', FOLDER, `${PARALLEL_ID}.jsonl`), join(a, `${PARALLEL_ID}.jsonl`));
    await cp(join(root, 'dispatched', 'claude', 'projects', FOLDER, `${DISPATCHED_ID}.jsonl`), join(b, `${DISPATCHED_ID}.jsonl`));
    await cp(HEALTHY, join(h, `${HEALTHY_ID}.jsonl`));
    await utimes(join(a, `${PARALLEL_ID}.jsonl`), new Date(), new Date());
    const old = new Date('2020-01-01T00:00:00Z');
    await utimes(join(b, `${DISPATCHED_ID}.jsonl`), old, old);
    expect(statSync(join(a, `${PARALLEL_ID}.jsonl`)).mtimeMs).toBeGreaterThan(statSync(join(b, `${DISPATCHED_ID}.jsonl`)).mtimeMs);
    return { root, claude, a, b, h };
  }

  it('lists only the damaged sessions, newest activity first; Down + Enter picks the second and asks about its calls', { timeout: 20_000 }, async () => {
    const d = await claudeDirWithTwo();
    const before = tree(d.claude);
    const beforeA = tree(d.a);
    const t = run(d.root, ['recover', '-i', '--claude-dir', d.claude, '--project-dir', join(d.root, 'parallel', 'project')]);
    await t.waitFor(`Checking 3 sessions under ${d.claude}`);
    await t.waitFor('? 2 sessions need recovery. Which one?');
    const menu = await t.waitFor('⏎ select');
    const listed = menu.split('\n').filter((l) => /^[❯ ] \d{4}-\d\d-\d\d \d\d:\d\d {2}/.test(l));
    expect(listed).toHaveLength(2);
    expect(listed[0]).toMatch(/^❯ 2026-11-24 02:01 {2}94cd93bd {2}/);
    expect(listed[1]).toMatch(/^ {2}2026-11-24 01:23 {2}5fec7deb {2}.*orphaned-tool-use/);
    expect(menu).not.toContain(HEALTHY_ID.slice(0, 8));
    // The highlighted session's details: its file.
    expect(menu).toContain(join(d.b, `${DISPATCHED_ID}.jsonl`));

    t.send(DOWN);
    expect(await t.waitFor('⏎ select')).toMatch(/\n❯ 2026-11-24 01:23 {2}5fec7deb/);
    t.send(ENTER);
    await t.waitFor(/✔ 2 sessions need recovery\. Which one\? .*5fec7deb/);
    const { header } = await answerParallel(t, [ENTER], [DOWN, ENTER]);
    expect(header).toBe(`2 tool calls were interrupted in ${join(d.a, `${PARALLEL_ID}.jsonl`)}:`);
    await t.waitFor(/\(Y\/n\)/);
    t.send(ENTER);
    await t.waitFor('repaired session:');
    expect(await t.exit()).toBe(0);

    // Written beside the picked session, and nowhere else.
    const w = await writtenBy(d.a, beforeA);
    expect(added(d.claude, before).filter((f) => f.startsWith('projects/'))).toEqual([`projects/-tmp-a-proj/${w.id}.jsonl`, `projects/-tmp-a-proj/${w.id}.recovery.json`]);
    expect(call(w.snapshot, 'toolu_h_write_marker')).toMatchObject({ choice: 'retry', chosen_by: 'user' });
    expect(call(w.snapshot, 'toolu_h_bash')).toMatchObject({ choice: 'model', chosen_by: 'user' });
  });

  it('Ctrl+C at the picker exits 130 and writes nothing', { timeout: 20_000 }, async () => {
    const d = await claudeDirWithTwo();
    const before = tree(d.root);
    const t = run(d.root, ['recover', '-i', '--claude-dir', d.claude]);
    await t.waitFor('? 2 sessions need recovery. Which one?');
    await t.waitFor('⏎ select');
    t.send(CTRL_C);
    expect(await t.exit()).toBe(130);
    expect(t.text).toContain('ccrescue: cancelled: nothing was written');
    expect(t.text).not.toContain('tool calls were interrupted');
    expect(tree(d.root)).toEqual(before);
  });

  it('says there is nothing to recover, and exits 0, when every session is healthy or already repaired', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    // crash-parallel, repaired earlier without -i: its repair still stands, so it is not offered again.
    const first = ccrescue(['recover', ...c.args], { env: envFor(c.root) });
    expect(first.code).toBe(0);
    const h = join(c.claude, 'projects', '-tmp-h-proj');
    await mkdir(h, { recursive: true });
    await cp(HEALTHY, join(h, `${HEALTHY_ID}.jsonl`));
    const before = tree(c.root);
    const t = run(c.root, ['recover', '-i', '--claude-dir', c.claude]);
    await t.waitFor(`Checking 3 sessions under ${c.claude}`);
    await t.waitFor(`no crashed or damaged session under ${c.claude}; nothing to recover`);
    expect(await t.exit()).toBe(0);
    expect(t.text).not.toContain('Which one?');
    expect(tree(c.root)).toEqual(before);
  });
});

describe('recover -i without a terminal', () => {
  it('refuses with exit 2 and one line on stderr when stdin is a pipe, and writes nothing', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const before = tree(c.root);
    const r = ccrescue(['recover', '-i', ...c.args], { cwd: c.root, env: envFor(c.root) });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n').filter((l) => l !== '')).toEqual([
      'ccrescue: -i needs a terminal: stdin is not one; run without -i (the retry settings then choose for each call)',
    ]);
    expect(tree(c.root)).toEqual(before);
  });

  /** `ccrescue <args>` on a terminal, with one of its streams redirected to a file by the shell. */
  function redirected(root: string, stream: 1 | 2, file: string, args: string[]): Term {
    const t = new Term('/bin/sh', ['-c', `out=$1; shift; exec "$@" ${stream}>"$out"`, 'sh', file, process.execPath, BIN, ...args], { cwd: root, env: envFor(root) });
    terms.push(t);
    return t;
  }

  it('refuses when stdout is not a terminal, naming stdout', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const out = join(await tempRoot(), 'stdout.txt');
    const before = tree(c.root);
    const t = redirected(c.root, 1, out, ['recover', '-i', ...c.args]);
    expect(await t.exit()).toBe(2);
    expect(t.text.trim()).toBe('ccrescue: -i needs a terminal: stdout is not one; run without -i (the retry settings then choose for each call)');
    expect(readFileSync(out, 'utf8')).toBe('');
    expect(tree(c.root)).toEqual(before);
  });

  it('with --json, asks on stderr and prints only the JSON document on stdout', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const out = join(await tempRoot(), 'stdout.json');
    const before = tree(c.folder);
    const t = redirected(c.root, 1, out, ['recover', '-i', '--json', ...c.args]);
    await answerParallel(t, [DOWN, ENTER], [ENTER]);
    await t.waitFor(/\(Y\/n\)/);
    t.send(ENTER);
    expect(await t.exit()).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as { status: string; written: { session: string }; snapshot: Snapshot };
    expect(doc.status).toBe('repaired');
    expect(call(doc.snapshot, 'toolu_h_bash')).toMatchObject({ choice: 'retry', chosen_by: 'user' });
    expect(call(doc.snapshot, 'toolu_h_write_marker')).toMatchObject({ choice: 'model', chosen_by: 'user' });
    const w = await writtenBy(c.folder, before);
    expect(doc.written.session).toBe(w.sessionPath);
    // The terminal (stderr) had the prompts and no JSON; stdout had no prompt.
    expect(t.text).not.toContain('"status"');
    expect(readFileSync(out, 'utf8')).not.toContain('Call 1 of 2');
  });

  it('with --json, refuses when stderr is not a terminal, naming stderr', { timeout: 20_000 }, async () => {
    const c = await parallelCopy();
    const err = join(await tempRoot(), 'stderr.txt');
    const before = tree(c.root);
    const t = redirected(c.root, 2, err, ['recover', '-i', '--json', ...c.args]);
    expect(await t.exit()).toBe(2);
    expect(readFileSync(err, 'utf8')).toBe('ccrescue: -i needs a terminal: stderr is not one; run without -i (the retry settings then choose for each call)\n');
    expect(t.text.trim()).toBe('');
    expect(tree(c.root)).toEqual(before);
  });
});
