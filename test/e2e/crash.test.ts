import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endAllRuns, markedProcesses } from './client.js';
import {
  SLOW_JOB,
  blocksOfEntry,
  conversationEntries,
  describeExit,
  produceCrash,
  readSessionEntries,
  resumeCrash,
  type Crash,
  type CrashKind,
  type SessionEntry,
} from './scenarios.js';

const CRASH_TIMEOUT_MS = 120_000;
const INTERRUPTED = "[Tool call interrupted: the session ended before this call's result was recorded, so its outcome is unknown.";

interface Expectation {
  kind: CrashKind;
  /** tool_use ids answered in the file, in the order of the calls. */
  answered: string[];
  /** tool_use ids left without a result; the file's conversation ends with them (and late results of earlier calls). */
  orphans: string[];
}

const scenarios: Expectation[] = [
  { kind: 'bash-running', answered: [], orphans: ['toolu_c_bash'] },
  {
    kind: 'parallel-running',
    answered: ['toolu_h_read_math', 'toolu_h_read_greet', 'toolu_h_edit_math', 'toolu_h_write_notes'],
    orphans: ['toolu_h_bash', 'toolu_h_write_marker'],
  },
];

function toolUses(entries: SessionEntry[]): string[] {
  return entries.flatMap(blocksOfEntry).flatMap((block) => (block.type === 'tool_use' && block.id !== undefined ? [block.id] : []));
}

function toolResults(entries: SessionEntry[]): string[] {
  return entries.flatMap(blocksOfEntry).flatMap((block) => (block.type === 'tool_result' && block.tool_use_id !== undefined ? [block.tool_use_id] : []));
}

describe.each(scenarios)('a 2.1.328 session killed with $kind', ({ kind, answered, orphans }) => {
  let crash: Crash;

  beforeAll(async () => {
    crash = await produceCrash(kind);
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it('ends with the unanswered tool_use entries, every line complete', async () => {
    const conversation = conversationEntries(await readSessionEntries(crash.sessionFile));
    // Parallel Reads finish in either order.
    expect(toolResults(conversation).sort()).toEqual([...answered].sort());
    expect(toolUses(conversation)).toEqual([...answered, ...orphans]);
    const holding = conversation.filter((entry) => blocksOfEntry(entry).some((block) => block.type === 'tool_use' && orphans.includes(block.id ?? '')));
    expect(holding.map((entry) => [entry.type, blocksOfEntry(entry).map((block) => block.id)])).toEqual(orphans.map((id) => ['assistant', [id]]));
    expect(holding.map((entry) => entry.message?.stop_reason)).toEqual(orphans.map(() => 'tool_use'));
    // The turn ends with the orphans: after the first, only results of the earlier parallel calls
    // may still be written (a Read that finishes late lands behind the Bash call's line).
    const after = conversation.slice(conversation.indexOf(holding[0]!)).filter((entry) => !holding.includes(entry));
    for (const entry of after) {
      expect(entry.type).toBe('user');
      for (const block of blocksOfEntry(entry)) expect(answered).toContain(block.tool_use_id);
    }
  });

  it('left the slow job running after the SIGKILL, and the harness ended it', () => {
    expect(crash.leftovers.some((process) => process.cmdline.includes(`node ${SLOW_JOB}`))).toBe(true);
    expect(markedProcesses((marker) => marker === crash.marker)).toEqual([]);
    expect(existsSync(join(crash.projectDir, 'slept.txt'))).toBe(false);
  });

  it("keeps the dead client's sessions record saying busy", async () => {
    const record = JSON.parse(await readFile(join(crash.claudeDir, 'sessions', `${crash.clientPid}.json`), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ pid: crash.clientPid, sessionId: crash.sessionId, cwd: crash.projectDir, status: 'busy' });
  });

  if (kind === 'parallel-running') {
    it('applied the Edit and the first Write on disk, not the Write queued behind Bash', async () => {
      expect(await readFile(join(crash.projectDir, 'src/math.js'), 'utf8')).toContain('return Number(a) + Number(b);');
      expect(existsSync(join(crash.projectDir, 'NOTES.md'))).toBe(true);
      expect(existsSync(join(crash.projectDir, 'marker.txt'))).toBe(false);
      const backups = await readdir(join(crash.claudeDir, 'file-history', crash.sessionId));
      expect(backups).toHaveLength(1);
    });
  }

  // Last: the resume appends to the session file the tests above read.
  it('resumes raw with 2.1.328: one valid request that answers every orphan as interrupted (baseline)', async () => {
    const { exit, requests } = await resumeCrash(crash, 'Please continue.');
    expect(exit.code, describeExit(exit)).toBe(0);
    expect(requests.filter((request) => !request.valid)).toEqual([]);
    const main = requests.filter((request) => request.answer === 'final');
    expect(main).toHaveLength(1);
    const messages = (main[0]?.body as { messages: { role: string; content: unknown }[] }).messages;
    const blocks = messages.flatMap((message) => (Array.isArray(message.content) ? (message.content as Record<string, unknown>[]) : []));
    const interrupted = blocks.filter((block) => block.type === 'tool_result' && String(block.content).startsWith(INTERRUPTED));
    expect(interrupted.map((block) => [block.tool_use_id, block.is_error])).toEqual(orphans.map((id) => [id, true]));
    expect(messages.at(-1)).toMatchObject({ role: 'user', content: [{ type: 'text', text: 'Please continue.' }] });

    const conversation = conversationEntries(await readSessionEntries(crash.sessionFile));
    expect(blocksOfEntry(conversation.at(-1) ?? {})).toEqual([{ type: 'text', text: 'Resumed OK.' }]);
  });
});
