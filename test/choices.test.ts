import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORPUS } from './helpers/corpus.js';
import { analyzeSession } from '../src/analyze.js';
import { Cancelled } from '../src/errors.js';
import type { ActiveToolCall } from '../src/inspect/active-calls.js';
import { resumeStrategyFor } from '../src/inspect/tool-kinds.js';
import { applyChoices, defaultChoice, type CallChoice } from '../src/plan/choices.js';
import { recover, type ChoiceSettings, type RecoverPreview, type RecoverResult } from '../src/recover.js';
import { connectionLostText } from '../src/write/connection-lost.js';
import { continuationPrompt } from '../src/write/prompt.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'crash-parallel');
const FOLDER = join('claude', 'projects', '-tmp-ccrescue-fixture-work-proj');
const SESSION = join(FOLDER, '5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl');
const BASH = 'toolu_h_bash';
const WRITE = 'toolu_h_write_marker';
// Genuine sessions of the corpus with interrupted calls (../shared/corpus/MANIFEST.md):
// 1.0.71, a Read with no result at the end of the file.
const READ_ORPHAN = join(CORPUS, 'slopus__happy-cli/src/claude/utils/__fixtures__/task_sdk.jsonl');
// 2.0.75, two Reads, a Write to /tmp/test-bedrock-env.js and a Bash with no result, mid-file; its project is not here.
const CODEMIE = join(CORPUS, 'codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl');
// 2.1.4, a Task (a tool ccrescue has no kind for) with no result.
const TASK_ORPHAN = join(CORPUS, 'entireio__cli/4c/02af2759b6/0/full.jsonl');

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

/** A copy of fixtures/crash-parallel; `marker` is written as project/marker.txt when given. */
async function crashCopy(marker?: string) {
  const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-choices-')));
  roots.push(root);
  await cp(FIXTURE, root, { recursive: true });
  if (marker !== undefined) await writeFile(join(root, 'project', 'marker.txt'), marker);
  return { root, file: join(root, SESSION), claudeDir: join(root, 'claude'), projectDir: join(root, 'project') };
}

/** The interrupted calls analysis finds in a session, by tool_use_id. */
async function activeCalls(file: string, opts: { claudeDir: string | null; projectDir?: string }): Promise<Map<string, ActiveToolCall>> {
  const a = await analyzeSession(file, { ...opts, processes: false });
  a.loader.close();
  return new Map(a.activeCalls.map((c) => [c.tool_use_id, c]));
}

const only = (calls: Map<string, ActiveToolCall>, tool: string): ActiveToolCall => {
  const found = [...calls.values()].filter((c) => c.tool === tool);
  expect(found, `one interrupted ${tool}`).toHaveLength(1);
  return found[0]!;
};

/** The same call as another tool would have made it: its kind follows the tool. */
const asTool = (call: ActiveToolCall, tool: string): ActiveToolCall => ({ ...call, tool, resume_strategy: resumeStrategyFor(tool) });

const S = (readonly: boolean, mutations: boolean): ChoiceSettings => ({ auto_retry_readonly_tools: readonly, auto_retry_mutations: mutations });
const ALL_SETTINGS = [S(true, true), S(true, false), S(false, true), S(false, false)];

describe('defaultChoice', () => {
  const calls: Record<string, ActiveToolCall> = {};

  beforeAll(async () => {
    calls.Read = only(await activeCalls(READ_ORPHAN, { claudeDir: null }), 'Read');
    calls.Grep = asTool(calls.Read, 'Grep');
    for (const [state, marker] of [
      ['not_applied', undefined],
      ['applied', 'done\n'], // what the Write would have left
      ['diverged', 'something else\n'],
    ] as const) {
      const c = await crashCopy(marker);
      const found = await activeCalls(c.file, c);
      calls[`Write ${state}`] = found.get(WRITE)!;
      if (state === 'not_applied') calls.Bash = found.get(BASH)!;
    }
    calls['Write unknown'] = only(await activeCalls(CODEMIE, { claudeDir: null }), 'Write');
    for (const state of ['not_applied', 'applied', 'diverged', 'unknown']) calls[`Edit ${state}`] = asTool(calls[`Write ${state}`]!, 'Edit');
    calls.Task = only(await activeCalls(TASK_ORPHAN, { claudeDir: null }), 'Task');
    calls['mcp__db__query'] = asTool(calls.Bash!, 'mcp__db__query');
    // Task-list tools are retried by strategy, but they write: a second TaskCreate adds the task twice.
    calls.TaskCreate = asTool(calls.Read, 'TaskCreate');
    calls.TodoWrite = asTool(calls.Read, 'TodoWrite');
  });

  it('the calls are what the analysis says they are', () => {
    expect(calls.Read).toMatchObject({ tool: 'Read', resume_strategy: 'retry', status: 'pending_result' });
    for (const state of ['not_applied', 'applied', 'diverged', 'unknown']) expect(calls[`Write ${state}`]).toMatchObject({ tool: 'Write', resume_strategy: 'verify', file_state: state });
    expect(calls.Bash).toMatchObject({ tool: 'Bash', resume_strategy: 'ask', command: 'node scripts/slow-job.js' });
    expect(calls.Task).toMatchObject({ tool: 'Task', resume_strategy: 'ask' });
    expect(calls.mcp__db__query!.resume_strategy).toBe('ask');
  });

  // [call, settings (auto_retry_readonly_tools, auto_retry_mutations), choice]
  const table: [string, ChoiceSettings, CallChoice][] = [
    ['Read', S(true, false), 'retry'],
    ['Read', S(true, true), 'retry'],
    ['Read', S(false, false), 'model'],
    ['Read', S(false, true), 'model'],
    ['Grep', S(true, false), 'retry'],
    ['Grep', S(false, true), 'model'],
    ['Write not_applied', S(true, true), 'retry'],
    ['Write not_applied', S(false, true), 'retry'],
    ['Write not_applied', S(true, false), 'model'],
    ['Edit not_applied', S(false, true), 'retry'],
    ['Edit not_applied', S(true, false), 'model'],
    ...(['Write', 'Edit'] as const).flatMap((tool) =>
      (['applied', 'diverged', 'unknown'] as const).flatMap((state) => [
        [`${tool} ${state}`, S(true, true), 'model'] as [string, ChoiceSettings, CallChoice],
        [`${tool} ${state}`, S(true, false), 'model'] as [string, ChoiceSettings, CallChoice],
      ]),
    ),
    ...['Bash', 'Task', 'mcp__db__query', 'TaskCreate', 'TodoWrite'].flatMap((tool) => ALL_SETTINGS.map((s) => [tool, s, 'model'] as [string, ChoiceSettings, CallChoice])),
  ];

  it.each(table)('%s with %o: %s', (name, settings, expected) => {
    expect(defaultChoice(calls[name]!, settings)).toBe(expected);
  });

  it('a task-list call is never called read-only: its result and the prompt say it may have taken effect', () => {
    const call = applyChoices([calls.TaskCreate!], S(true, false))[0]!;
    expect(connectionLostText(call)).toContain('It only updates the task list. Check the list before running it again');
    expect(connectionLostText(call)).not.toContain('only reads');
    const prompt = continuationPrompt({ phase: 'tool_execution', calls: [call], partialText: null, lastUserRequest: 'go', todos: [], otherDamage: [], untracked: [] });
    expect(prompt).toContain('Check the task list before running again: TaskCreate');
    expect(prompt).not.toMatch(/read-only/);
  });
});

describe('applyChoices', () => {
  let calls: ActiveToolCall[];
  beforeAll(async () => {
    calls = [...(await activeCalls(CODEMIE, { claudeDir: null })).values()];
    expect(calls.map((c) => c.tool)).toEqual(['Read', 'Read', 'Write', 'Bash']);
  });

  it("without the user's choices, every call gets the settings' choice, chosen_by settings", () => {
    const before = structuredClone(calls);
    const out = applyChoices(calls, S(true, true));
    expect(out.map((c) => [c.tool, c.choice, c.chosen_by])).toEqual([
      ['Read', 'retry', 'settings'],
      ['Read', 'retry', 'settings'],
      ['Write', 'model', 'settings'], // its file state is unknown: never retried by default
      ['Bash', 'model', 'settings'],
    ]);
    expect(calls).toEqual(before); // the calls given are not changed
    expect(applyChoices(calls, S(false, true)).map((c) => c.choice)).toEqual(['model', 'model', 'model', 'model']);
  });

  it("the user's choices win where given and are marked chosen_by user; the rest keep the settings'", () => {
    const [read1, read2, write, bash] = calls as [ActiveToolCall, ActiveToolCall, ActiveToolCall, ActiveToolCall];
    const mine = new Map<string, CallChoice>([
      [read1.tool_use_id, 'model'], // even 'model' is the user's when the user picked it
      [write.tool_use_id, 'retry'],
      [bash.tool_use_id, 'skip'],
      ['toolu_not_in_this_session', 'retry'],
    ]);
    const out = applyChoices(calls, S(true, false), mine);
    expect(out.map((c) => [c.tool_use_id, c.choice, c.chosen_by])).toEqual([
      [read1.tool_use_id, 'model', 'user'],
      [read2.tool_use_id, 'retry', 'settings'],
      [write.tool_use_id, 'retry', 'user'],
      [bash.tool_use_id, 'skip', 'user'],
    ]);
    // Everything else about each call is kept.
    out.forEach((c, i) => expect({ ...c, choice: undefined, chosen_by: undefined }).toEqual({ ...calls[i], choice: undefined, chosen_by: undefined }));
  });

  it('an earlier choice is replaced, not kept', () => {
    const bash = calls[3]!;
    const first = applyChoices(calls, S(true, false), new Map([[bash.tool_use_id, 'skip' as CallChoice]]));
    const again = applyChoices(first, S(true, false));
    expect(again[3]).toMatchObject({ choice: 'model', chosen_by: 'settings' });
  });
});

/** The text of each inserted connection_lost tool_result of the plan, by tool_use_id. */
function insertedResults(r: RecoverResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of r.plan.actions) {
    if (a.action !== 'insert-after') continue;
    for (const e of a.entries) {
      const content = (e.message as { content?: unknown } | undefined)?.content;
      if (!Array.isArray(content)) continue;
      for (const b of content as { type?: string; tool_use_id?: string; content?: unknown }[]) {
        if (b.type === 'tool_result' && typeof b.tool_use_id === 'string' && typeof b.content === 'string') out.set(b.tool_use_id, b.content);
      }
    }
  }
  return out;
}

const choicesOf = (r: RecoverResult) => Object.fromEntries(r.snapshot.active_tool_calls.map((c) => [c.tool_use_id, [c.choice, c.chosen_by]]));

/** Every path under `dir` with its size, to show that nothing was written. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => `${p} ${statSync(join(dir, p)).size}`).sort();
}

describe('recover(): choices reach the tool_results and the prompt (crash-parallel, dry run)', () => {
  it('by default the model decides: the current wording', async () => {
    const c = await crashCopy();
    const r = await recover({ ...c, dryRun: true });
    expect(r.status).toBe('planned');
    expect(choicesOf(r)).toEqual({ [BASH]: ['model', 'settings'], [WRITE]: ['model', 'settings'] });
    const texts = insertedResults(r);
    expect([...texts.keys()]).toEqual([BASH, WRITE]);
    expect(texts.get(BASH)).toMatch(/^connection_lost: .* Check its effects and ask the user before running it again\.$/);
    expect(texts.get(WRITE)).toMatch(/^connection_lost: .*On disk, marker\.txt does not have this change \(.*\)\. Apply it again if it is still wanted\.$/);
    const prompt = r.snapshot.continuation_prompt!;
    expect(prompt).toContain('Ask the user before running again: Bash `node scripts/slow-job.js`; its effects may already be in place.');
    expect(prompt).toContain('Make this change again if still wanted; it is not on disk: Write marker.txt.');
    expect(prompt).not.toContain('The user chose');
  });

  it("the user's choices (skip the Bash, retry the Write) replace the advice in both results and the prompt", async () => {
    const c = await crashCopy();
    const seen: [string, string | undefined, string | undefined][] = [];
    const r = await recover({
      ...c,
      dryRun: true,
      decide: async (analysis) => {
        for (const call of analysis.activeCalls) seen.push([call.tool_use_id, call.choice, call.chosen_by]);
        return new Map<string, CallChoice>([
          [BASH, 'skip'],
          [WRITE, 'retry'],
        ]);
      },
    });
    // decide is shown the calls with the settings' choices already made.
    expect(seen).toEqual([
      [BASH, 'model', 'settings'],
      [WRITE, 'model', 'settings'],
    ]);
    expect(choicesOf(r)).toEqual({ [BASH]: ['skip', 'user'], [WRITE]: ['retry', 'user'] });
    const texts = insertedResults(r);
    expect(texts.get(BASH)).toMatch(/ The user chose not to run it again: do not repeat it, and leave whatever it did as it is\.$/);
    expect(texts.get(BASH)).not.toContain('ask the user');
    expect(texts.get(WRITE)).toMatch(/ The user chose to have this change made again: read marker\.txt first, so that it is not applied twice\.$/);
    expect(texts.get(WRITE)).toContain('On disk, marker.txt does not have this change'); // the facts stay
    expect(texts.get(WRITE)).not.toContain('if it is still wanted');
    const prompt = r.snapshot.continuation_prompt!;
    expect(prompt).toContain('The user chose to run this again: Write marker.txt. Read each file first, so that no change is applied twice.');
    expect(prompt).toContain('The user chose not to run this again: Bash `node scripts/slow-job.js`. Do not repeat it, and leave what it did as it is.');
    expect(prompt).toMatch(/^\d+\. Bash `node scripts\/slow-job\.js` \(toolu_h_bash\): .* The user chose not to run it again\.$/m);
    expect(prompt).toMatch(/^\d+\. Write marker\.txt \(toolu_h_write_marker\): file state not_applied .* The user chose to .*\.$/m);
    expect(prompt).not.toContain('Ask the user before running again');
    expect(prompt).not.toContain('Make this change again if still wanted');
  });

  it('the user choosing "model" keeps the advice even when the settings would retry', async () => {
    const c = await crashCopy();
    const r = await recover({ ...c, dryRun: true, settings: S(true, true), decide: async () => new Map([[WRITE, 'model' as CallChoice]]) });
    expect(choicesOf(r)[WRITE]).toEqual(['model', 'user']);
    expect(insertedResults(r).get(WRITE)).toMatch(/Apply it again if it is still wanted\.$/);
    expect(r.snapshot.continuation_prompt).toContain('Make this change again if still wanted; it is not on disk: Write marker.txt.');
  });

  it('auto_retry_mutations: the Write not on disk is to be made again; the Bash is still asked about', async () => {
    const c = await crashCopy();
    const r = await recover({ ...c, dryRun: true, settings: S(true, true) });
    expect(choicesOf(r)).toEqual({ [BASH]: ['model', 'settings'], [WRITE]: ['retry', 'settings'] });
    const texts = insertedResults(r);
    expect(texts.get(WRITE)).toMatch(/On disk, marker\.txt does not have this change \(.*\)\. Apply it again\.$/);
    expect(texts.get(WRITE)).not.toContain('The user chose');
    const prompt = r.snapshot.continuation_prompt!;
    expect(prompt).toContain('Make this change again; it is not on disk: Write marker.txt.');
    expect(prompt).not.toContain('if still wanted');
    expect(prompt).toContain('Ask the user before running again: Bash `node scripts/slow-job.js`');
  });

  it('auto_retry_mutations does not retry a Write already on disk', async () => {
    const c = await crashCopy('done\n');
    const r = await recover({ ...c, dryRun: true, settings: S(true, true) });
    expect(choicesOf(r)[WRITE]).toEqual(['model', 'settings']);
    expect(insertedResults(r).get(WRITE)).toMatch(/already has this change .* Do not apply it again\.$/);
    expect(r.snapshot.continuation_prompt).toContain('Do not redo this edit, already on disk: Write marker.txt.');
  });
});

describe('recover(): an interrupted read-only call (genuine 1.0.71 session, dry run)', () => {
  const run = (extra: Partial<Parameters<typeof recover>[0]>) => recover({ file: READ_ORPHAN, claudeDir: null, dryRun: true, ...extra });

  it('auto_retry_readonly_tools (the default): safe to run again', async () => {
    const r = await run({});
    const [read] = r.snapshot.active_tool_calls;
    expect(read).toMatchObject({ tool: 'Read', choice: 'retry', chosen_by: 'settings' });
    expect(insertedResults(r).get(read!.tool_use_id)).toMatch(/ It only reads\. It is safe to run again\.$/);
    expect(r.snapshot.continuation_prompt).toMatch(/^\d+\. Run the read-only call again: Read /m);
  });

  it('auto_retry_readonly_tools false: run again only if the output is still needed', async () => {
    const r = await run({ settings: S(false, false) });
    const [read] = r.snapshot.active_tool_calls;
    expect(read).toMatchObject({ choice: 'model', chosen_by: 'settings' });
    expect(insertedResults(r).get(read!.tool_use_id)).toMatch(/ It only reads\. Run it again if its output is still needed\.$/);
    expect(r.snapshot.continuation_prompt).toMatch(/^\d+\. Run the read-only call again only if the output is still needed: Read /m);
  });

  it('the user skipping it: not run again', async () => {
    const r = await run({ decide: async (a) => new Map(a.activeCalls.map((c) => [c.tool_use_id, 'skip' as CallChoice])) });
    const [read] = r.snapshot.active_tool_calls;
    expect(read).toMatchObject({ choice: 'skip', chosen_by: 'user' });
    expect(insertedResults(r).get(read!.tool_use_id)).toMatch(/The user chose not to run it again: do not repeat it, and leave whatever it did as it is\.$/);
    expect(r.snapshot.continuation_prompt).toMatch(/^\d+\. The user chose not to run this again: Read .*\. Do not repeat it, and leave what it did as it is\.$/m);
    expect(r.snapshot.continuation_prompt).not.toContain('Run the read-only call');
  });
});

describe('recover(): confirm and cancel write nothing', () => {
  it('a confirm that answers no: nothing written, declined, status planned', async () => {
    const c = await crashCopy();
    const before = listing(c.root);
    const original = readFileSync(c.file);
    const previews: RecoverPreview[] = [];
    const r = await recover({
      ...c,
      confirm: async (p) => {
        previews.push(p);
        return false;
      },
    });
    expect(previews).toHaveLength(1);
    expect(previews[0]!.target.startsWith(join(c.root, FOLDER) + '/')).toBe(true);
    expect(previews[0]!.target).toMatch(/\.jsonl$/);
    expect(previews[0]!.snapshot.continuation_prompt).toContain('Write marker.txt');
    expect(r.declined).toBe(true);
    expect(r.status).toBe('planned');
    expect(r.written).toEqual({ session: null, snapshot: null, backup: null });
    expect(r.snapshot.repaired_file).toBeNull();
    expect(listing(c.root)).toEqual(before);
    expect(readFileSync(c.file).equals(original)).toBe(true);
  });

  it('a confirm that answers no: the prompt names no snapshot file, since none was written', async () => {
    // crash-edit-on-disk has a change on disk that no line records; the prompt points at the snapshot's full diff.
    const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-choices-')));
    roots.push(root);
    await cp(join(import.meta.dirname, '..', 'fixtures', 'crash-edit-on-disk'), root, { recursive: true });
    const folder = join(root, 'claude', 'projects', readdirSync(join(root, 'claude', 'projects'))[0]!);
    const file = join(folder, readdirSync(folder).find((n) => n.endsWith('.jsonl'))!);
    let previewPrompt = '';
    const r = await recover({
      file,
      claudeDir: join(root, 'claude'),
      projectDir: join(root, 'project'),
      confirm: async (p) => {
        previewPrompt = p.snapshot.continuation_prompt ?? '';
        return false;
      },
    });
    expect(previewPrompt).toMatch(/The full diffs are in .*\.recovery\.json/);
    expect(r.declined).toBe(true);
    expect(r.snapshot.continuation_prompt).toContain('Changes on disk that the transcript does not record');
    expect(r.snapshot.continuation_prompt).not.toContain('.recovery.json');
    expect(r.snapshot.resume_command).not.toContain('.recovery.json');
    expect(readdirSync(folder).filter((n) => n.endsWith('.recovery.json'))).toEqual([]);
  });

  it('a session that grows while the user answers is refused at the write: exit 3, nothing written', async () => {
    const c = await crashCopy();
    const folderBefore = listing(join(c.root, FOLDER));
    const line = JSON.stringify({ type: 'user', uuid: 'x', parentUuid: null, message: { role: 'user', content: 'typed meanwhile' } }) + '\n';
    const attempt = recover({
      ...c,
      confirm: async () => {
        appendFileSync(c.file, line); // a client resumed the session while the question was open
        return true;
      },
    });
    await expect(attempt).rejects.toMatchObject({ exitCode: 3, message: expect.stringContaining('changed since it was read') });
    const after = listing(join(c.root, FOLDER));
    expect(after.filter((l) => !l.startsWith('5fec7deb-'))).toEqual(folderBefore.filter((l) => !l.startsWith('5fec7deb-')));
  });

  it('a confirm that answers yes writes (so the listing above would have shown a write)', async () => {
    const c = await crashCopy();
    const before = listing(join(c.root, FOLDER));
    const r = await recover({ ...c, confirm: async () => true });
    expect(r.declined).toBe(false);
    expect(r.status).toBe('repaired');
    const added = listing(join(c.root, FOLDER)).filter((l) => !before.includes(l));
    expect(added.map((l) => l.split(' ')[0]).sort()).toEqual([`${r.snapshot.repaired_session_id}.jsonl`, `${r.snapshot.repaired_session_id}.recovery.json`]);
  });

  it('a decide that throws Cancelled: rejects with it, nothing written, confirm never asked', async () => {
    const c = await crashCopy();
    const before = listing(c.root);
    const cancelled = new Cancelled('cancelled: nothing was written');
    let confirmed = 0;
    const running = recover({
      ...c,
      decide: async () => {
        throw cancelled;
      },
      confirm: async () => {
        confirmed++;
        return true;
      },
    });
    await expect(running).rejects.toBe(cancelled);
    expect(confirmed).toBe(0);
    expect(listing(c.root)).toEqual(before);
  });

  it('a confirm that throws Cancelled: rejects with it, nothing written', async () => {
    const c = await crashCopy();
    const before = listing(c.root);
    const cancelled = new Cancelled('cancelled: nothing was written');
    await expect(recover({ ...c, confirm: () => Promise.reject(cancelled) })).rejects.toBe(cancelled);
    expect(listing(c.root)).toEqual(before);
  });
});
