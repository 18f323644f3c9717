import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccrescue } from '../helpers/cli.js';
import { endAllRuns, printModeArgs, runClient } from './client.js';
import { describeExit, produceCrash, PROMPTS, type Crash } from './scenarios.js';
import { mainLoop, messagesOf } from './messages.js';

const CRASH_TIMEOUT_MS = 120_000;
const RESUME_TIMEOUT_MS = 90_000;

// Fake credentials in their real formats, typed by the user into the prompt the client records.
const SECRETS = {
  anthropic: ['sk-ant-api03-', 'Zq8fQm2LrT5vXw9KpN3bHc7dJ4sGy6aE1uRi0oWl', '-x7Q2mV8nB4cK6zF1hT9pL3wR5yD0sA2gJ8eU4iO-AAAA'].join(''),
  github: ['ghp_', 'R7kQ2xN9vB4mZ8tL3wP6yH1cF5dJ0sG2aE7u'].join(''),
  aws: ['AKIA', 'Q3ZT7WN4KX2PL8RM'].join(''),
  password: 'hunter2-Correct-Horse',
};
const PROMPT = `${PROMPTS['bash-running']} The deploy uses ANTHROPIC_API_KEY=${SECRETS.anthropic} and GITHUB_TOKEN=${SECRETS.github}, AWS key ${SECRETS.aws}, and the database postgres://admin:${SECRETS.password}@db.internal:5432/app.`;

describe('a real 2.1.328 crash with secrets in its prompt: report, redacted session, resume', () => {
  let crash: Crash;
  let sessionOut: string;
  let report: string;

  beforeAll(async () => {
    crash = await produceCrash('bash-running', undefined, PROMPT);
    // The client recorded what the user typed, secrets included.
    const original = readFileSync(crash.sessionFile, 'utf8');
    for (const secret of Object.values(SECRETS)) expect(original).toContain(secret);
    sessionOut = join(dirname(crash.sessionFile), 'redacted-for-maintainer.jsonl');
    // HOME is the crash root, so the project path is the user's own path the report must hide.
    const r = ccrescue(['report', crash.sessionId, '--claude-dir', crash.claudeDir, '--redact', 'strict', '--session-out', sessionOut], { env: { HOME: crash.root } });
    expect(r.code, r.stderr).toBe(0);
    report = r.stdout;
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    endAllRuns();
    await crash?.dispose();
  });

  it('the report names the failure and holds neither the secrets nor the home path', () => {
    expect(report).toContain('# Claude Code session report');
    expect(report).toContain('2.1.328');
    expect(report).toContain('`orphaned-tool-use`');
    expect(report).toContain('tool_execution');
    for (const secret of Object.values(SECRETS)) expect(report).not.toContain(secret);
    expect(report).not.toContain(crash.root);
  });

  it('the redacted session holds no secret and no home path, and keeps every id', () => {
    const redacted = readFileSync(sessionOut, 'utf8');
    const original = readFileSync(crash.sessionFile, 'utf8');
    for (const secret of Object.values(SECRETS)) expect(redacted).not.toContain(secret);
    expect(redacted).not.toContain(crash.root);
    expect(redacted).not.toContain('The deploy uses'); // strict: the prompt's words are gone too
    const ids = (text: string) => text.split('\n').filter(Boolean).map((l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      return [e.type, e.uuid, e.parentUuid, e.sessionId];
    });
    expect(ids(redacted)).toEqual(ids(original));
  });

  it('recovered and resumed, the redacted session makes 2.1.328 send a valid request', async () => {
    const rec = ccrescue(['recover', sessionOut, '--claude-dir', crash.claudeDir, '--json']);
    expect(rec.code, rec.stderr).toBe(0);
    const doc = JSON.parse(rec.stdout) as { status: string; snapshot: { repaired_session_id: string; continuation_prompt: string } };
    expect(doc.status).toBe('repaired');
    const before = crash.mock.requests.length;
    const run = runClient({ version: '2.1.328', home: crash.home, cwd: crash.projectDir, apiUrl: crash.mock.baseUrl, args: printModeArgs('2.1.328', doc.snapshot.continuation_prompt, doc.snapshot.repaired_session_id) });
    const exit = await run.exited;
    expect(exit.code, describeExit(exit)).toBe(0);
    const requests = mainLoop(crash.mock.requests.slice(before));
    const first = requests[0]!;
    expect(first.issues).toEqual([]);
    const messages = messagesOf(first);
    const sent = JSON.stringify(messages);
    for (const secret of Object.values(SECRETS)) expect(sent).not.toContain(secret);
    // The interrupted Bash call reaches the model with its connection_lost result, under its own id.
    const blocks = messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content));
    expect(blocks.some((b) => b.type === 'tool_use' && b.id === 'toolu_c_bash')).toBe(true);
    expect(blocks.some((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_c_bash')).toBe(true);
  }, RESUME_TIMEOUT_MS);
});
