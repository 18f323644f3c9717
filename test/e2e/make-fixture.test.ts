// Regenerates fixtures/crash-* from real crashes: MAKE_FIXTURE=1 npx vitest run test/e2e/make-fixture.test.ts
// (every fixture), or only some: MAKE_FIXTURE=1 FIXTURES=crash-edit-on-disk,crash-write-dispatched npx vitest run …
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCwd, endAllRuns } from './client.js';
import {
  EDIT_NEW,
  MATH_FILE,
  PROMPTS,
  SUB_CONTENT,
  SUB_FILE,
  blocksOfEntry,
  conversationEntries,
  produceCrash,
  readSessionEntries,
  type Crash,
  type CrashKind,
  type SessionEntry,
} from './scenarios.js';

const FIXTURES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
// A fixed root keeps the project path, and so the project folder name and the backup names, the same across
// regenerations and across fixtures. The fixtures are made one after another, each from a cleared root.
const CRASH_ROOT = '/tmp/ccrescue-fixture';

interface FixtureSpec {
  name: string;
  kind: CrashKind;
  readme: (crash: Crash, changes: string) => Promise<string>;
  /** Checks that the crash came out as the fixture describes it. */
  check: (crash: Crash) => Promise<void>;
}

const FIXTURES: FixtureSpec[] = [
  { name: 'crash-parallel', kind: 'parallel-running', readme: parallelReadme, check: async () => undefined },
  { name: 'crash-edit-on-disk', kind: 'edit-on-disk', readme: editOnDiskReadme, check: checkEditOnDisk },
  { name: 'crash-write-dispatched', kind: 'write-dispatched', readme: writeDispatchedReadme, check: checkWriteDispatched },
];

const wanted = process.env.FIXTURES?.split(',').map((name) => name.trim()).filter((name) => name !== '');
const selected = FIXTURES.filter((fixture) => wanted === undefined || wanted.includes(fixture.name));

describe.runIf(process.env.MAKE_FIXTURE === '1')('fixtures', () => {
  let crash: Crash | undefined;

  afterEach(async () => {
    endAllRuns();
    await crash?.dispose();
    crash = undefined;
  });

  it('names only known fixtures in FIXTURES', () => {
    expect(wanted?.filter((name) => !FIXTURES.some((fixture) => fixture.name === name)) ?? []).toEqual([]);
  });

  it.each(selected)('fixtures/$name is written from a fresh $kind crash of 2.1.328', async (fixture) => {
    await rm(CRASH_ROOT, { recursive: true, force: true });
    crash = await produceCrash(fixture.kind, CRASH_ROOT);
    await fixture.check(crash);
    const changes = execFileSync('git', ['status', '--porcelain'], { cwd: crash.projectDir, encoding: 'utf8' });
    const fixtureDir = join(FIXTURES_DIR, fixture.name);
    await rm(fixtureDir, { recursive: true, force: true });
    await copyFixture(crash, fixtureDir);
    await writeFile(join(fixtureDir, 'README.md'), await fixture.readme(crash, changes));
    expect(existsSync(join(fixtureDir, 'claude', 'projects', encodeCwd(crash.projectDir), `${crash.sessionId}.jsonl`))).toBe(true);
  }, 120_000);
});

async function copyFixture(crash: Crash, fixtureDir: string): Promise<void> {
  const claude = join(fixtureDir, 'claude');
  const projectFolder = join('projects', encodeCwd(crash.projectDir));
  await mkdir(join(claude, projectFolder), { recursive: true });
  await cp(crash.sessionFile, join(claude, projectFolder, basename(crash.sessionFile)));
  for (const folder of [join('file-history', crash.sessionId), join('tasks', crash.sessionId)]) {
    if (existsSync(join(crash.claudeDir, folder))) await cp(join(crash.claudeDir, folder), join(claude, folder), { recursive: true });
  }
  // The sessions/<pid>.<hash>.key files hold a peer token; only the pid record is evidence.
  await cp(join(crash.claudeDir, 'sessions', `${crash.clientPid}.json`), join(claude, 'sessions', `${crash.clientPid}.json`));
  await cp(crash.projectDir, join(fixtureDir, 'project'), { recursive: true, filter: (source) => basename(source) !== '.git' });
}

async function parallelReadme(crash: Crash, changes: string): Promise<string> {
  const entries = await readSessionEntries(crash.sessionFile);
  const blocks = conversationEntries(entries).flatMap(blocksOfEntry);
  const answered = new Set(blocks.filter((block) => block.type === 'tool_result').map((block) => block.tool_use_id));
  const calls = blocks
    .filter((block) => block.type === 'tool_use')
    .map((block) => `- \`${String(block.id)}\` ${String(block.name)}: ${answered.has(block.id) ? 'has its tool_result' : '**no tool_result**'}`);
  const backups = await readdir(join(crash.claudeDir, 'file-history', crash.sessionId));
  const leftovers = crash.leftovers.map((process) => `\`${abbreviate(process.cmdline)}\``).join(', ');
  return `# crash-parallel

A genuine crashed session: the real Claude Code 2.1.328 binary, killed with SIGKILL while a Bash call ran
in the middle of a message of parallel tool calls (scenario h-parallel-partial of
\`docs/real-client-2.1.328.md\`). Regenerate with
\`MAKE_FIXTURE=1 npx vitest run test/e2e/make-fixture.test.ts\` (\`test/e2e/scenarios.ts\` holds the script).

## How it was produced

- Client: \`@anthropic-ai/claude-code\` 2.1.328, native binary, print mode:
  \`claude -p "<prompt>" --dangerously-skip-permissions --output-format stream-json --verbose --tools Bash,Edit,Read,Write,Glob,Grep,TaskCreate,TaskUpdate,TaskList\`,
  with \`CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING=1\` and a throwaway HOME, against the loopback mock
  API (\`test/e2e/mock-api.ts\`), which streamed each SSE event 10 ms apart.
- Working directory (the session's \`cwd\`): \`${crash.projectDir}\`, a seeded project committed on branch main;
  HOME: \`${crash.home}\`.
- Turn 1: text + Read(src/math.js) + Read(src/greet.js), in parallel.
- Turn 2: text + Edit(src/math.js) + Write(NOTES.md) + Bash(\`node scripts/slow-job.js\`) + Write(marker.txt).
  The tools run one at a time as their blocks arrive.
- Killed: SIGKILL of the client (pid ${crash.clientPid}) 1.5 s after the slow job's process appeared. Its children
  survived the kill (${leftovers}) and were then killed by pid, so \`slept.txt\` never appeared.

## What is here

- \`claude/\` is the client's \`~/.claude\`, reduced to the session's data:
  - \`projects/${encodeCwd(crash.projectDir)}/${crash.sessionId}.jsonl\`: ${entries.length} lines, every one complete. Its tool calls:
${calls.map((line) => `    ${line}`).join('\n')}
  - \`file-history/${crash.sessionId}/\`: ${backups.map((name) => `\`${name}\``).join(', ')} (content before the Edit; NOTES.md was new, so it has no backup).
  - \`sessions/${crash.clientPid}.json\`: the dead client's record, still \`"status":"busy"\`. The \`.key\` file (a peer token) was dropped.
- \`project/\`: the project as it was on disk after the kill, without \`.git\`. Changes against the commit (\`git status --porcelain\`):

\`\`\`
${changes.trimEnd()}
\`\`\`
`;
}

function abbreviate(cmdline: string): string {
  return cmdline.length > 40 ? `${cmdline.slice(0, 39)}…` : cmdline;
}

const backupNameOf = (absolutePath: string): string => createHash('sha256').update(absolutePath).digest('hex').slice(0, 16);

const deltasOf = (entries: SessionEntry[], trackingPath: string): { line: number; entry: SessionEntry }[] =>
  entries.flatMap((entry, index) => (entry.type === 'file-history-delta' && entry.trackingPath === trackingPath ? [{ line: index + 1, entry }] : []));

const uuidsOf = (entries: SessionEntry[]): Set<unknown> => new Set(entries.map((entry) => entry.uuid).filter((uuid) => uuid !== undefined));

interface Backup {
  backupFileName?: string | null;
  version?: number;
}

/** One line of a session, in a few words. */
function describeLine(entry: SessionEntry, uuids: Set<unknown>): string {
  const blocks = blocksOfEntry(entry)
    .map((block) => {
      if (block.type === 'tool_use') return `tool_use ${String(block.name)} ${String(block.id)}`;
      if (block.type === 'tool_result') return `tool_result for ${String(block.tool_use_id)}`;
      return String(block.type);
    })
    .join(' + ');
  switch (entry.type) {
    case 'user':
      return `user ${typeof entry.message?.content === 'string' ? 'prompt' : blocks}`;
    case 'assistant':
      return `assistant ${blocks} (stop_reason ${JSON.stringify(entry.message?.stop_reason)})`;
    case 'attachment':
      return `attachment ${String((entry.attachment as { type?: unknown } | undefined)?.type)}`;
    case 'queue-operation':
      return `queue-operation ${String(entry.operation)}`;
    case 'file-history-delta': {
      const backup = entry.backup as Backup;
      const parent = uuids.has(entry.messageId) ? 'an entry of the file' : 'no entry of the file';
      return `file-history-delta ${String(entry.trackingPath)}, backupFileName ${JSON.stringify(backup.backupFileName)}, messageId ${String(entry.messageId)} (${parent})`;
    }
    default:
      return String(entry.type);
  }
}

/** Every line of the session, numbered and indented for a fenced block inside a list item. */
function lineListing(entries: SessionEntry[]): string {
  const uuids = uuidsOf(entries);
  const width = String(entries.length).length;
  return entries.map((entry, index) => `    ${String(index + 1).padStart(width)}  ${describeLine(entry, uuids)}`).join('\n');
}

function toolCallList(entries: SessionEntry[]): string[] {
  const blocks = conversationEntries(entries).flatMap(blocksOfEntry);
  const answered = new Set(blocks.filter((block) => block.type === 'tool_result').map((block) => block.tool_use_id));
  return blocks
    .filter((block) => block.type === 'tool_use')
    .map((block) => `- \`${String(block.id)}\` ${String(block.name)}: ${answered.has(block.id) ? 'has its tool_result' : '**no tool_result**'}`);
}

function producedWith(crash: Crash): string {
  return `- Client: \`@anthropic-ai/claude-code\` 2.1.328, native binary, print mode:
  \`claude -p "${PROMPTS[crash.kind]}" --dangerously-skip-permissions --output-format stream-json --verbose --tools Bash,Edit,Read,Write,Glob,Grep,TaskCreate,TaskUpdate,TaskList\`,
  with \`CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING=1\` and a throwaway HOME, against the loopback mock
  API (\`test/e2e/mock-api.ts\`), which streamed each SSE event 10 ms apart.
- Working directory (the session's \`cwd\`): \`${crash.projectDir}\`, a seeded project committed on branch main;
  HOME: \`${crash.home}\`.`;
}

function whatIsHereTail(crash: Crash, changes: string): string {
  return `  - \`sessions/${crash.clientPid}.json\`: the dead client's record, still \`"status":"busy"\`. The \`.key\` file (a peer token) was dropped.
- \`project/\`: the project as it was on disk after the kill, without \`.git\`. Changes against the commit (\`git status --porcelain\`):

\`\`\`
${changes.trimEnd()}
\`\`\`
`;
}

function regenerate(name: string): string {
  return `Regenerate with
\`MAKE_FIXTURE=1 FIXTURES=${name} npx vitest run test/e2e/make-fixture.test.ts\` (\`test/e2e/scenarios.ts\` holds the script).`;
}

async function checkEditOnDisk(crash: Crash): Promise<void> {
  const entries = await readSessionEntries(crash.sessionFile);
  const calls = conversationEntries(entries).flatMap(blocksOfEntry).filter((block) => block.type === 'tool_use');
  expect(calls.map((block) => block.id)).toEqual(['toolu_d_read_math']);
  expect(await readFile(join(crash.projectDir, MATH_FILE), 'utf8')).toContain(EDIT_NEW);
  const backup = join(crash.claudeDir, 'file-history', crash.sessionId, `${backupNameOf(join(crash.projectDir, MATH_FILE))}@v1`);
  expect(await readFile(backup, 'utf8')).not.toContain(EDIT_NEW);
}

async function checkWriteDispatched(crash: Crash): Promise<void> {
  const entries = await readSessionEntries(crash.sessionFile);
  expect(conversationEntries(entries).filter((entry) => entry.type === 'assistant')).toEqual([]);
  const deltas = deltasOf(entries, SUB_FILE);
  expect(deltas).toHaveLength(1);
  expect((deltas[0]!.entry.backup as Backup).backupFileName).toBeNull();
  expect(uuidsOf(entries).has(deltas[0]!.entry.messageId)).toBe(false);
  expect(await readFile(join(crash.projectDir, SUB_FILE), 'utf8')).toBe(SUB_CONTENT);
}

function killTimes(crash: Crash, what: string): string {
  const { lastTurnRequest, triggered, killed } = crash.timings;
  const since = lastTurnRequest === null ? '' : `, ${Math.round(killed - lastTurnRequest)} ms after the request of the stalled turn arrived`;
  return `${killed - triggered} ms after ${what}${since}`;
}

async function editOnDiskReadme(crash: Crash, changes: string): Promise<string> {
  const entries = await readSessionEntries(crash.sessionFile);
  const absolute = join(crash.projectDir, MATH_FILE);
  const backupName = `${backupNameOf(absolute)}@v1`;
  const backups = await readdir(join(crash.claudeDir, 'file-history', crash.sessionId));
  const deltas = deltasOf(entries, MATH_FILE);
  const deltaNote =
    deltas.length === 0
      ? 'and **no `file-history-delta` line**: the backup file below is the only record of the Edit'
      : `but a \`file-history-delta\` line for ${MATH_FILE} (line ${deltas.map((delta) => delta.line).join(', ')}) whose \`messageId\` names the missing assistant entry`;
  return `# crash-edit-on-disk

A genuine crashed session: the real Claude Code 2.1.328 binary, killed with SIGKILL as soon as an Edit
reached the disk. The client ran the Edit while its message was still streaming, so the transcript never
recorded it (scenario d-edit-on-disk-before-next-request of \`docs/real-client-2.1.328.md\`).
${regenerate('crash-edit-on-disk')}

## How it was produced

${producedWith(crash)}
- Turn 1: text + Read(${MATH_FILE}), completed normally.
- Turn 2: text + Edit(${MATH_FILE}: \`return a + b;\` → \`${EDIT_NEW}\`). The mock stopped after the Edit
  block's \`content_block_stop\` and kept the socket open (no \`message_delta\`, no \`message_stop\`);
  2.1.328 runs a tool as soon as its block closes, so the Edit ran, but the message never completed.
- Killed: SIGKILL of the client (pid ${crash.clientPid}) ${killTimes(crash, `a 1 ms poll (and fs.watch) saw the new text in ${MATH_FILE}`)}.
  No process of the run outlived it.

## What is here

- \`claude/\` is the client's \`~/.claude\`, reduced to the session's data:
  - \`projects/${encodeCwd(crash.projectDir)}/${crash.sessionId}.jsonl\`: ${entries.length} lines, every one complete. Its tool calls:
${toolCallList(entries)
  .map((line) => `    ${line}`)
  .join('\n')}

    Turn 2 left no assistant entry (no text, no Edit tool_use), no tool_result, ${deltaNote}. Every line:

    \`\`\`
${lineListing(entries)}
    \`\`\`
  - \`file-history/${crash.sessionId}/\`: ${backups.map((name) => `\`${name}\``).join(', ')}: ${MATH_FILE} before the Edit.
    \`${backupName}\` is the first 16 hex digits of sha256(\`${absolute}\`) and \`@v1\`.
${whatIsHereTail(crash, changes)}`;
}

async function writeDispatchedReadme(crash: Crash, changes: string): Promise<string> {
  const entries = await readSessionEntries(crash.sessionFile);
  const historyDir = join(crash.claudeDir, 'file-history', crash.sessionId);
  const backups = existsSync(historyDir) ? await readdir(historyDir) : [];
  const delta = deltasOf(entries, SUB_FILE)[0];
  const deltaLine = delta === undefined ? 'no `file-history-delta` line' : `line ${delta.line}`;
  return `# crash-write-dispatched

A genuine crashed session: the real Claude Code 2.1.328 binary, killed with SIGKILL after a Write had
created a file. The client ran the Write while its message was still streaming, so the file exists but the
transcript has no assistant entry for it, only a \`file-history-delta\` line pointing at one (scenario
b2-tooluse-block-closed of \`docs/real-client-2.1.328.md\`).
${regenerate('crash-write-dispatched')}

## How it was produced

${producedWith(crash)}
- Turn 1: text + Write(${SUB_FILE}, a new file of ${SUB_CONTENT.split('\n').length - 1} lines). The mock stopped after the Write block's
  \`content_block_stop\` and kept the socket open (no \`message_delta\`, no \`message_stop\`); 2.1.328 runs a
  tool as soon as its block closes, so the Write ran, but the message never completed.
- Killed: SIGKILL of the client (pid ${crash.clientPid}) ${killTimes(crash, `${SUB_FILE} appeared (once its \`file-history-delta\` line was written, and 250 ms more)`)}.
  No process of the run outlived it.

## What is here

- \`claude/\` is the client's \`~/.claude\`, reduced to the session's data:
  - \`projects/${encodeCwd(crash.projectDir)}/${crash.sessionId}.jsonl\`: ${entries.length} lines, every one complete. No assistant
    entry and no tool call at all; ${deltaLine} is the \`file-history-delta\` for ${SUB_FILE}, with
    \`backup.backupFileName: null\` (the file did not exist before) and a \`messageId\` that matches no entry of the file.
    Every line:

    \`\`\`
${lineListing(entries)}
    \`\`\`
  - ${backups.length === 0 ? `no \`file-history/${crash.sessionId}/\`: a new file gets no backup` : `\`file-history/${crash.sessionId}/\`: ${backups.map((name) => `\`${name}\``).join(', ')}`}.
${whatIsHereTail(crash, changes)}`;
}
