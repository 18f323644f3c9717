import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recover } from '../src/recover.js';
import { analyzeSession } from '../src/analyze.js';
import { branchMessages } from '../src/index/api-messages.js';
import { validateMessagesRequest } from '../src/validate/messages-api.js';
import { InputError } from '../src/errors.js';
import { corpusFiles, KNOWN_DAMAGED } from './helpers/corpus.js';

const files = corpusFiles();
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const out = mkdtempSync(join(tmpdir(), 'ccrescue-corpus-'));

/** The request a client builds from a branch: its messages, then the new prompt. */
function resumeRequest(messages: ReturnType<typeof branchMessages>) {
  return { model: 'claude-test', max_tokens: 1024, messages: [...messages, { role: 'user' as const, content: 'Please continue.' }] };
}


// Recordings with API errors: noticed, but healthy (the transcript is intact and resumes as it is).
const KNOWN_NOTICES: Record<string, string[]> = {
  'codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/single-user-message.jsonl': ['api-error'],
  'entireio__cli/b0/2936744f3b/0/full.jsonl': ['api-error'],
  'entireio__cli/ad/ac80fffbb8/0/full.jsonl': ['api-error'],
};

describe('every corpus transcript', () => {
  it('holds the files the manifest lists', () => {
    expect(files.length).toBeGreaterThan(200);
    for (const name of Object.keys(KNOWN_DAMAGED)) expect(files.map((f) => f.name)).toContain(name);
  });

  it.each(files.filter((f) => f.foreign).map((f) => [f.name, f]))('%s is refused as not a Claude Code session', async (_name, f) => {
    await expect(recover({ file: f.path, claudeDir: null, dryRun: true })).rejects.toThrow(InputError);
  });

  it.each(files.filter((f) => !f.foreign).map((f) => [f.name, f]))('%s', async (name, f) => {
    const before = sha(f.path);
    const dry = await recover({ file: f.path, claudeDir: null, dryRun: true });
    expect(['healthy', 'planned']).toContain(dry.status);
    expect(JSON.parse(JSON.stringify(dry.snapshot)).schema).toBe('ccrescue.recovery/1');
    for (const code of KNOWN_DAMAGED[name] ?? []) expect(dry.snapshot.findings.map((x) => x.code)).toContain(code);
    if (KNOWN_DAMAGED[name]) expect(dry.status).toBe('planned');
    for (const code of KNOWN_NOTICES[name] ?? []) expect(dry.snapshot.findings.filter((x) => x.severity === 'notice').map((x) => x.code)).toContain(code);

    const target = join(out, `${createHash('md5').update(name).digest('hex')}.jsonl`);
    const written = await recover({ file: f.path, claudeDir: null, out: target });
    expect(sha(f.path)).toBe(before); // the original is never touched
    if (dry.status === 'healthy') {
      // A healthy session is copied byte for byte.
      expect(readFileSync(target).equals(readFileSync(f.path))).toBe(true);
      return;
    }
    expect(written.status).toBe('repaired');
    const again = await analyzeSession(target, { claudeDir: null });
    try {
      if (!f.handMade) {
        expect(again.findings.filter((x) => x.severity !== 'notice')).toEqual([]);
        expect(validateMessagesRequest(resumeRequest(branchMessages(again.index, again.loader)))).toEqual([]);
      }
    } finally {
      again.loader.close();
    }
  });
});
