// File forensics on genuine 2.1.328 crashes whose tool ran while its message was still streaming, so the change is
// on disk but the transcript has no call for it (real-client-2.1.328.md §5 d and b2): `ccrescue diff` must find the
// change, `recover` must tell the model about it, and the real client must send that continuation.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccrescue } from '../helpers/cli.js';
import { endAllRuns, markedProcesses, printModeArgs, runClient } from './client.js';
import type { RecordedRequest } from './mock-api.js';
import {
  EDIT_NEW,
  MATH_FILE,
  SUB_CONTENT,
  SUB_FILE,
  blocksOfEntry,
  conversationEntries,
  describeExit,
  produceCrash,
  readSessionEntries,
  type Crash,
  type SessionEntry,
} from './scenarios.js';
import { blocks, mainLoop, messagesOf, textOf } from './messages.js';

const CRASH_TIMEOUT_MS = 120_000;
const RESUME_TIMEOUT_MS = 90_000;

interface UntrackedSideEffect {
  file: string;
  source: 'delta' | 'backup' | 'disk';
  line: number | null;
  evidence: string;
  diff: string;
}

interface DiffReport {
  session_id: string;
  file: string;
  project_dir: string | null;
  files: { file: string; status: string; evidence: string; calls: unknown[]; diff: string | null }[];
  untracked_side_effects: UntrackedSideEffect[];
  processes: unknown[];
  findings: unknown[];
}

interface RecoverReport {
  status: string;
  file: string;
  written: { session: string; snapshot: string; backup: string | null };
  snapshot: { continuation_prompt: string; untracked_side_effects: UntrackedSideEffect[]; repaired_session_id: string };
}

/** `ccrescue diff <session file> --json` on the crash, with its claude dir and project. */
function diffCrash(crash: Crash): DiffReport {
  const r = ccrescue(['diff', crash.sessionFile, '--claude-dir', crash.claudeDir, '--project-dir', crash.projectDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as DiffReport;
}

/** `ccrescue recover <session file> --json`: the default mode writes the repaired copy as a new session. */
function recoverCrash(crash: Crash): RecoverReport {
  const r = ccrescue(['recover', crash.sessionFile, '--claude-dir', crash.claudeDir, '--project-dir', crash.projectDir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const report = JSON.parse(r.stdout) as RecoverReport;
  expect(report.status).toBe('repaired');
  expect(existsSync(report.written.session)).toBe(true);
  return report;
}

/** `claude -p --resume <repaired id> "<continuation prompt>"` with 2.1.328; returns the main-loop requests it sent. */
async function resumeRepaired(crash: Crash, recovered: RecoverReport): Promise<RecordedRequest[]> {
  const before = crash.mock.requests.length;
  const { continuation_prompt: prompt, repaired_session_id: id } = recovered.snapshot;
  const run = runClient({ version: '2.1.328', home: crash.home, cwd: crash.projectDir, apiUrl: crash.mock.baseUrl, args: printModeArgs('2.1.328', prompt, id) });
  const exit = await run.exited;
  expect(exit.code, describeExit(exit)).toBe(0);
  return mainLoop(crash.mock.requests.slice(before));
}

/** The first request after the resume passes the validator and ends with the continuation prompt. */
function expectContinuationSent(requests: RecordedRequest[], prompt: string): string {
  expect(requests.length).toBeGreaterThan(0);
  const first = requests[0]!;
  expect(first.issues).toEqual([]);
  expect(first.valid).toBe(true);
  const messages = messagesOf(first);
  const lastUser = messages.filter((m) => m.role === 'user').at(-1)!;
  const text = blocks(lastUser).map(textOf).join('\n');
  expect(text).toContain(prompt.trim());
  return text;
}

const backupNameOf = (absolutePath: string): string => createHash('sha256').update(absolutePath).digest('hex').slice(0, 16);

const deltaLines = (entries: SessionEntry[], trackingPath: string): SessionEntry[] =>
  entries.filter((entry) => entry.type === 'file-history-delta' && entry.trackingPath === trackingPath);

const toolUseIds = (entries: SessionEntry[]): unknown[] =>
  conversationEntries(entries)
    .flatMap(blocksOfEntry)
    .filter((block) => block.type === 'tool_use')
    .map((block) => block.id);

describe('a real 2.1.328 session killed the moment a streamed Edit reached the disk (edit-on-disk)', () => {
  let crash: Crash;

  beforeAll(async () => {
    crash = await produceCrash('edit-on-disk');
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it('has the edit on disk and its backup in file-history, but no assistant entry for it', async () => {
    const entries = await readSessionEntries(crash.sessionFile);
    expect(toolUseIds(entries)).toEqual(['toolu_d_read_math']);
    expect(await readFile(join(crash.projectDir, MATH_FILE), 'utf8')).toContain(EDIT_NEW);
    const backup = join(crash.claudeDir, 'file-history', crash.sessionId, `${backupNameOf(join(crash.projectDir, MATH_FILE))}@v1`);
    expect(await readFile(backup, 'utf8')).toContain('  return a + b;\n');
    // Usually no delta line either (the kill beats the client's write); a delta line would be a pointer at a missing entry.
    const uuids = new Set(entries.map((entry) => entry.uuid));
    for (const delta of deltaLines(entries, MATH_FILE)) expect(uuids.has(delta.messageId)).toBe(false);
    expect(markedProcesses((marker) => marker === crash.marker)).toEqual([]);
  });

  it('diff --json reports src/math.js as a change no line records, with the edit as its diff', () => {
    const report = diffCrash(crash);
    expect(report.session_id).toBe(crash.sessionId);
    const effect = report.untracked_side_effects.find((e) => e.file === MATH_FILE);
    expect(effect, JSON.stringify(report.untracked_side_effects)).toBeDefined();
    const lines = effect!.diff.split('\n');
    expect(lines).toContain('-  return a + b;');
    expect(lines).toContain(`+  ${EDIT_NEW}`);
  });

  it(
    'recover names the edit in the snapshot and the continuation, and 2.1.328 sends that continuation in a valid request',
    async () => {
      const recovered = recoverCrash(crash);
      const { continuation_prompt: prompt, untracked_side_effects: effects } = recovered.snapshot;
      expect(prompt).toContain(MATH_FILE);
      expect(prompt).toContain('Number(a) + Number(b)');
      expect(effects[0]?.file).toBe(MATH_FILE);
      const sent = expectContinuationSent(await resumeRepaired(crash, recovered), prompt);
      expect(sent).toContain('Number(a) + Number(b)');
    },
    RESUME_TIMEOUT_MS,
  );
});

describe('a real 2.1.328 session killed after a streamed Write created a file (write-dispatched)', () => {
  let crash: Crash;

  beforeAll(async () => {
    crash = await produceCrash('write-dispatched');
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it('has the file on disk and a file-history-delta line pointing at an assistant entry that was never written', async () => {
    const entries = await readSessionEntries(crash.sessionFile);
    expect(conversationEntries(entries).filter((entry) => entry.type === 'assistant')).toEqual([]);
    const deltas = deltaLines(entries, SUB_FILE);
    expect(deltas).toHaveLength(1);
    expect((deltas[0]!.backup as { backupFileName?: unknown }).backupFileName).toBeNull();
    expect(new Set(entries.map((entry) => entry.uuid)).has(deltas[0]!.messageId)).toBe(false);
    expect(await readFile(join(crash.projectDir, SUB_FILE), 'utf8')).toBe(SUB_CONTENT);
    expect(markedProcesses((marker) => marker === crash.marker)).toEqual([]);
  });

  it('diff --json reports src/sub.js from its delta line, as a new file', async () => {
    const entries = await readSessionEntries(crash.sessionFile);
    const deltaLine = entries.findIndex((entry) => entry.type === 'file-history-delta' && entry.trackingPath === SUB_FILE) + 1;
    const report = diffCrash(crash);
    const effect = report.untracked_side_effects.find((e) => e.file === SUB_FILE);
    expect(effect, JSON.stringify(report.untracked_side_effects)).toBeDefined();
    expect(effect!.source).toBe('delta');
    expect(effect!.line).toBe(deltaLine);
    const lines = effect!.diff.split('\n');
    expect(lines.some((line) => line.startsWith('--- ') && line.includes('/dev/null'))).toBe(true);
    for (const line of SUB_CONTENT.trimEnd().split('\n')) expect(lines).toContain(`+${line}`);
    expect(lines.filter((line) => line.startsWith('-') && !line.startsWith('---'))).toEqual([]);
  });

  it(
    'recover names src/sub.js in the continuation, and 2.1.328 sends it in a valid request',
    async () => {
      const recovered = recoverCrash(crash);
      const prompt = recovered.snapshot.continuation_prompt;
      expect(prompt).toContain(SUB_FILE);
      expect(recovered.snapshot.untracked_side_effects.map((e) => e.file)).toContain(SUB_FILE);
      expectContinuationSent(await resumeRepaired(crash, recovered), prompt);
    },
    RESUME_TIMEOUT_MS,
  );
});
