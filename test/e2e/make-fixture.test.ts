// Regenerates fixtures/crash-parallel from a real crash: MAKE_FIXTURE=1 npx vitest run test/e2e/make-fixture.test.ts
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeCwd, endAllRuns } from './client.js';
import { blocksOfEntry, conversationEntries, produceCrash, readSessionEntries, type Crash } from './scenarios.js';

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'crash-parallel');
// A fixed root keeps the project path, and so the project folder name, the same across regenerations.
const CRASH_ROOT = '/tmp/ccrescue-fixture';

describe.runIf(process.env.MAKE_FIXTURE === '1')('fixtures/crash-parallel', () => {
  let crash: Crash | undefined;

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it('is written from a fresh parallel-running crash of 2.1.328', async () => {
    await rm(CRASH_ROOT, { recursive: true, force: true });
    crash = await produceCrash('parallel-running', CRASH_ROOT);
    const changes = execFileSync('git', ['status', '--porcelain'], { cwd: crash.projectDir, encoding: 'utf8' });
    await rm(FIXTURE_DIR, { recursive: true, force: true });
    await copyFixture(crash);
    await writeFile(join(FIXTURE_DIR, 'README.md'), await readme(crash, changes));
    expect(existsSync(join(FIXTURE_DIR, 'claude', 'projects', encodeCwd(crash.projectDir), `${crash.sessionId}.jsonl`))).toBe(true);
  }, 120_000);
});

async function copyFixture(crash: Crash): Promise<void> {
  const claude = join(FIXTURE_DIR, 'claude');
  const projectFolder = join('projects', encodeCwd(crash.projectDir));
  await mkdir(join(claude, projectFolder), { recursive: true });
  await cp(crash.sessionFile, join(claude, projectFolder, basename(crash.sessionFile)));
  for (const folder of [join('file-history', crash.sessionId), join('tasks', crash.sessionId)]) {
    if (existsSync(join(crash.claudeDir, folder))) await cp(join(crash.claudeDir, folder), join(claude, folder), { recursive: true });
  }
  // The sessions/<pid>.<hash>.key files hold a peer token; only the pid record is evidence.
  await cp(join(crash.claudeDir, 'sessions', `${crash.clientPid}.json`), join(claude, 'sessions', `${crash.clientPid}.json`));
  await cp(crash.projectDir, join(FIXTURE_DIR, 'project'), { recursive: true, filter: (source) => basename(source) !== '.git' });
}

async function readme(crash: Crash, changes: string): Promise<string> {
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
