import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { endAllRuns, makeHome, printModeArgs, runClient, sessionFileOf } from './client.js';
import { startMockApi, type MockApi } from './mock-api.js';
import { blocksOfEntry, conversationEntries, describeExit, readSessionEntries, seedProject } from './scenarios.js';

const FINAL_TEXT = 'The README describes a tiny project for the end-to-end tests.';

describe('Claude Code 2.1.328 against the mock API', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    endAllRuns();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('runs a clean two-turn session: every request valid, the session ends with the final text', async () => {
    const root = await realpath(await mkdtemp(join(tmpdir(), 'ccrescue-smoke-')));
    const projectDir = join(root, 'work', 'proj');
    await seedProject(projectDir);
    const home = await makeHome([projectDir]);
    const mock: MockApi = await startMockApi({
      turns: [
        {
          content: [
            { type: 'text', text: 'Let me read the README.' },
            { type: 'tool_use', id: 'toolu_smoke_read', name: 'Read', input: { file_path: join(projectDir, 'README.md') } },
          ],
        },
        { content: [{ type: 'text', text: FINAL_TEXT }] },
      ],
    });
    cleanups.push(() => mock.close(), () => rm(root, { recursive: true }), () => rm(home, { recursive: true }));

    const run = runClient({ version: '2.1.328', home, cwd: projectDir, apiUrl: mock.baseUrl, args: printModeArgs('2.1.328', 'What does the README say?') });
    const exit = await run.exited;

    expect(exit.code, describeExit(exit)).toBe(0);
    expect(mock.requests.filter((request) => !request.valid)).toEqual([]);
    expect(mock.failures).toEqual([]);
    expect(mock.requests.filter((request) => request.answer === 'turn').map((request) => request.turnIndex)).toEqual([0, 1]);
    const second = mock.requests.find((request) => request.turnIndex === 1)?.body as { messages: { content: unknown }[] };
    expect(JSON.stringify(second.messages.at(-1)?.content)).toContain('A tiny project that the end-to-end tests');

    const sessionFile = sessionFileOf(home, projectDir);
    expect(sessionFile).toBeDefined();
    const conversation = conversationEntries(await readSessionEntries(sessionFile as string));
    const last = conversation.at(-1);
    expect(last?.type).toBe('assistant');
    expect(blocksOfEntry(last ?? {})).toEqual([{ type: 'text', text: FINAL_TEXT }]);
    const results = conversation.flatMap(blocksOfEntry).filter((block) => block.type === 'tool_result');
    expect(results.map((block) => block.tool_use_id)).toEqual(['toolu_smoke_read']);
  });
});
