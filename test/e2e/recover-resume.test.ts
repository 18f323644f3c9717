import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccrescue } from '../helpers/cli.js';
import { endAllRuns, printModeArgs, runClient, type ClientVersion } from './client.js';
import { blocksOfEntry, conversationEntries, describeExit, produceCrash, readSessionEntries, type Crash, type CrashKind } from './scenarios.js';
import type { RecordedRequest } from './mock-api.js';
import { blocks, mainLoop, messagesOf, textOf } from './messages.js';

const CRASH_TIMEOUT_MS = 120_000;
const RESUME_TIMEOUT_MS = 90_000;
const CLIENT_INTERRUPTED = '[Tool call interrupted';

interface Recovered {
  newId: string;
  prompt: string;
  file: string;
  orphans: string[];
}

/** Runs `ccrescue recover` on the crashed session (or another session file) exactly as a user would. */
function recoverCrash(crash: Crash, session: string = crash.sessionId): Recovered {
  const r = ccrescue(['recover', session, '--claude-dir', crash.claudeDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const doc = JSON.parse(r.stdout) as {
    status: string;
    written: { session: string };
    snapshot: { repaired_session_id: string; continuation_prompt: string; active_tool_calls: { tool_use_id: string; status: string }[] };
  };
  expect(doc.status).toBe('repaired');
  return {
    newId: doc.snapshot.repaired_session_id,
    prompt: doc.snapshot.continuation_prompt,
    file: doc.written.session,
    orphans: doc.snapshot.active_tool_calls.filter((c) => c.status === 'pending_result').map((c) => c.tool_use_id),
  };
}

/** Resumes the repaired session with a real client; returns the main-loop requests it sent. */
async function resume(crash: Crash, recovered: Recovered, version: ClientVersion): Promise<RecordedRequest[]> {
  const before = crash.mock.requests.length;
  const run = runClient({ version, home: crash.home, cwd: crash.projectDir, apiUrl: crash.mock.baseUrl, args: printModeArgs(version, recovered.prompt, recovered.newId) });
  const exit = await run.exited;
  expect(exit.code, describeExit(exit)).toBe(0);
  return mainLoop(crash.mock.requests.slice(before));
}

async function originalToolUseIds(crash: Crash): Promise<string[]> {
  // Only user/assistant entries: 2.1.328's api-request-blob entries hold copies of sent messages.
  const entries = conversationEntries(await readSessionEntries(crash.sessionFile));
  return entries.flatMap(blocksOfEntry).flatMap((b) => (b.type === 'tool_use' && b.id ? [b.id] : []));
}

describe.each<CrashKind>(['bash-running', 'parallel-running'])('a real 2.1.328 session killed with %s, recovered, then resumed', (kind) => {
  let crash: Crash;
  let toolUseIds: string[];

  beforeAll(async () => {
    crash = await produceCrash(kind);
    toolUseIds = await originalToolUseIds(crash);
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it('2.1.328 sends a valid request with every call answered by our connection_lost results and the continuation', async () => {
    const recovered = recoverCrash(crash);
    expect(recovered.orphans.length).toBeGreaterThan(0);
    const requests = await resume(crash, recovered, '2.1.328');
    const first = requests[0]!;
    expect(first.issues).toEqual([]);
    expect(first.valid).toBe(true);
    const messages = messagesOf(first);
    const sentBlocks = messages.flatMap(blocks);
    // Every tool call of the original reaches the model, each with its result.
    expect(sentBlocks.filter((b) => b.type === 'tool_use').map((b) => b.id)).toEqual(toolUseIds);
    expect(new Set(sentBlocks.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id))).toEqual(new Set(toolUseIds));
    for (const id of recovered.orphans) {
      const result = sentBlocks.find((b) => b.type === 'tool_result' && b.tool_use_id === id)!;
      expect(result.is_error).toBe(true);
      expect(textOf(result)).toMatch(/^connection_lost: /);
    }
    // The client found nothing to patch: no "[Tool call interrupted" of its own, in the request or the file.
    expect(JSON.stringify(messages)).not.toContain(CLIENT_INTERRUPTED);
    expect(await readFile(recovered.file, 'utf8')).not.toContain(CLIENT_INTERRUPTED);
    // The continuation prompt is the last user message.
    const lastUser = messages.filter((m) => m.role === 'user').at(-1)!;
    expect(blocks(lastUser).map(textOf).join('\n')).toContain('[Recovered session]');
  }, RESUME_TIMEOUT_MS);

  it.each<ClientVersion>(['1.0.128', '2.0.37', '2.1.9'])('%s sends a valid first request on the repaired session', async (version) => {
    const recovered = recoverCrash(crash);
    const requests = await resume(crash, recovered, version);
    expect(requests.length).toBeGreaterThan(0);
    const first = requests[0]!;
    expect(first.issues).toEqual([]);
    const sentBlocks = messagesOf(first).flatMap(blocks);
    for (const id of recovered.orphans) {
      expect(sentBlocks.some((b) => b.type === 'tool_result' && b.tool_use_id === id && textOf(b).startsWith('connection_lost'))).toBe(true);
    }
  }, RESUME_TIMEOUT_MS);

  if (kind === 'parallel-running') {
    it('keeps a delivered Edit whose result line was torn mid-history, with what the disk says', async () => {
      // Tear the Edit's result line in half, as a crash during that append would; 2.1.328 drops that turn.
      const lines = (await readFile(crash.sessionFile, 'utf8')).split('\n');
      const at = lines.findIndex((l) => l.includes('"tool_use_id":"toolu_h_edit_math"') && l.includes('"type":"user"'));
      expect(at).toBeGreaterThan(0);
      lines[at] = lines[at]!.slice(0, Math.floor(lines[at]!.length / 2));
      const torn = join(dirname(crash.sessionFile), 'torn-copy.jsonl');
      await writeFile(torn, lines.join('\n'));
      const recovered = recoverCrash(crash, torn);
      expect(recovered.orphans).toContain('toolu_h_edit_math');
      const requests = await resume(crash, recovered, '2.1.328');
      expect(requests[0]!.issues).toEqual([]);
      const sentBlocks = messagesOf(requests[0]!).flatMap(blocks);
      expect(sentBlocks.filter((b) => b.type === 'tool_use').map((b) => b.id)).toEqual(toolUseIds);
      const editResult = sentBlocks.find((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_h_edit_math')!;
      expect(textOf(editResult)).toMatch(/^connection_lost: .*already has this change/);
    }, RESUME_TIMEOUT_MS);
  }
});
