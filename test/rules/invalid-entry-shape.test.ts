import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeSession } from '../../src/analyze.js';
import { branchMessages } from '../../src/index/api-messages.js';
import { recover } from '../../src/recover.js';
import rule, { KEPT } from '../../src/rules/invalid-entry-shape.js';
import { validateMessagesRequest } from '../../src/validate/messages-api.js';
import { corpus, healthy, healthyCorpus, repoFile, ruleTester, tempDir, text, thinking, toolResult, toolUse, type Block } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'the real 2.1.328 crash: attachments, file-history-delta and tools-used lines',
      session: repoFile('fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl'),
    },
    {
      name: 'entry types this tool does not know pass untouched, whatever they hold',
      session: () => healthy().entry({ type: 'pr-link', prNumber: '17', prUrl: 42 }).entry({ type: 'ai-title', aiTitle: ['x'] }).write(),
    },
    {
      name: 'a summary line has no uuid and no sessionId',
      session: () => {
        const t = healthy();
        return t.entry({ type: 'summary', summary: 'Greeting CLI overview', leafUuid: t.last }).write();
      },
    },
    {
      name: 'tool_result without content, with a block-array content, and a redacted_thinking block',
      session: () => {
        const t = healthy();
        t.user('Check both.');
        t.assistant([{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4' }, toolUse('toolu_01CheckA7vYq2LmZpR4s', 'Bash', { command: 'true' }), toolUse('toolu_01CheckB3nWe8KxTq5Jd', 'Bash', { command: 'echo ok' })]);
        t.user([{ tool_use_id: 'toolu_01CheckA7vYq2LmZpR4s', type: 'tool_result' }]);
        t.user([toolResult('toolu_01CheckB3nWe8KxTq5Jd', [text('ok')])]);
        t.assistant(text('Both ran.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 2.0.75: a Bedrock error body stored as the assistant message (no role)',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/unknown-operation-error.jsonl'),
      findings: [{ line: 3, severity: 'warning', message: 'assistant entry: message.role: Invalid input: expected "assistant"' }],
    },
    {
      name: 'a tool_use whose input is a string, not an object',
      session: () => {
        const t = healthy();
        t.user('Run it.');
        t.assistant(toolUse('toolu_01RunItQw3Rt6Yu8Io1Pa', 'Bash', {}));
        t.result('toolu_01RunItQw3Rt6Yu8Io1Pa', 'ok');
        return t.replace(9, t.line(9).replace('"input":{}', '"input":"npm test"')).write();
      },
      findings: [{ line: 9, severity: 'warning', message: 'assistant entry: message.content.0.input' }],
      // The call is left out; its result, which now answers nothing, is kept as text.
      repaired: (messages) => {
        expect(messages.flatMap((m) => m.content).some((b) => (b as Block).type === 'tool_use' && (b as Block).id === 'toolu_01RunItQw3Rt6Yu8Io1Pa')).toBe(false);
        expect(JSON.stringify(messages)).toContain('[Result of tool call toolu_01RunItQw3Rt6Yu8Io1Pa, whose call is missing from this session:]');
      },
    },
    {
      name: 'a tool_result whose content is a number',
      session: () => {
        const t = healthy();
        return t.replace(6, t.line(6).replace(/"content":"greet\.js\\nmain\.js"/, '"content":2')).write();
      },
      findings: [{ line: 6, severity: 'warning', message: 'user entry: message.content.0.content' }],
      // The result keeps answering its call, its content written as JSON text.
      repaired: (messages) => {
        const result = messages.flatMap((m) => m.content).find((b) => (b as Block).type === 'tool_result') as Block;
        expect(result).toEqual({ tool_use_id: 'toolu_01ListFilesXq3LwT8N5bUp', type: 'tool_result', content: '2' });
      },
    },
    {
      name: 'a tool_result whose tool_use_id key lost a byte, alone on its line',
      session: () => {
        const t = healthy();
        return t.replace(6, t.line(6).replace('"tool_use_id":', '"tool_use_i":')).write();
      },
      findings: [{ line: 6, severity: 'warning', message: 'user entry: message.content.0.tool_use_id' }],
      // The block is left out, and with it the entry; the call it answered gets a connection_lost result.
      repaired: (messages) => {
        const results = messages.flatMap((m) => m.content).filter((b) => (b as Block).type === 'tool_result') as Block[];
        expect(results).toHaveLength(1);
        expect(results[0]!.tool_use_id).toBe('toolu_01ListFilesXq3LwT8N5bUp');
        expect(String(results[0]!.content)).toMatch(/^connection_lost/);
      },
    },
    {
      name: 'a thinking block without its signature, and a text block whose text is a number',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Think first.');
        t.assistant([{ type: 'thinking', thinking: 'Two files.' }, text('Thought about it.')]);
        t.user('And again.');
        t.assistant([thinking('One import.'), { type: 'text', text: 42 }, text('Done.')]);
        return t.write();
      },
      findings: [
        { line: 9, severity: 'warning', message: 'assistant entry: message.content.0.signature' },
        { line: 13, severity: 'warning', message: 'assistant entry: message.content.0.text' },
      ],
      // The API refuses a thinking block without a signature: Claude Code itself retries without it.
      repaired: (messages) => {
        const blocks = messages.flatMap((m) => m.content) as Block[];
        expect(blocks.filter((b) => b.type === 'thinking')).toHaveLength(1);
        expect(blocks.some((b) => b.type === 'text' && typeof b.text !== 'string')).toBe(false);
        expect(blocks.filter((b) => b.type === 'text').map((b) => b.text)).toContain('Thought about it.');
      },
    },
    {
      name: 'a response whose only block has the wrong shape is removed like a blank one, its child linked past it',
      session: () => {
        const t = healthy();
        t.user('Say something.');
        t.assistant({ type: 'text', text: null });
        t.user('Hello?');
        t.assistant(text('Hi.'));
        return t.write();
      },
      findings: [{ line: 9, severity: 'warning', message: 'assistant entry: message.content.0.text' }],
      repaired: (messages) => {
        expect(messages.slice(-3).map((m) => [m.role, (m.content as Block[]).map((b) => b.text)])).toEqual([
          ['assistant', ['There are two: greet.js and main.js.']],
          ['user', ['Say something.', 'Hello?']],
          ['assistant', ['Hi.']],
        ]);
      },
    },
    {
      name: 'a thinking block without its thinking text (CL 2.1.234)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Think first.');
        t.assistant([{ type: 'thinking', signature: 'EqQBCkYIBxgCKkBw' }, text('Thought about it.')]);
        return t.write();
      },
      findings: [{ line: 9, severity: 'warning', message: 'assistant entry: message.content.0.thinking' }],
    },
    {
      name: 'a user entry without uuid, an attachment without its attachment, a snapshot without messageId',
      session: () => {
        const t = healthy();
        t.user('Hello again.');
        t.replace(8, t.line(8).replace(/"uuid":"[^"]+",/, ''));
        t.entry({ parentUuid: t.last, isSidechain: false, type: 'attachment', uuid: '5d0c8a4e-1f7b-4c1e-9a55-0d6e2b7f3a10', timestamp: '2026-02-11T20:40:00.000Z' });
        t.entry({ type: 'file-history-snapshot', snapshot: { trackedFileBackups: {} }, isSnapshotUpdate: false });
        return t.write();
      },
      findings: [
        { line: 8, severity: 'warning', message: 'user entry: uuid' },
        { line: 9, severity: 'warning', message: 'attachment entry: attachment' },
        { line: 10, severity: 'warning', message: 'file-history-snapshot entry: messageId' },
      ],
      noRecovery: "the entries' own fields are wrong: they are kept as they are, and named",
    },
    {
      name: 'an entry whose own fields are wrong is kept and named, its malformed block left out all the same',
      session: () => {
        const t = healthy();
        t.user('Run it.');
        t.assistant([text('Running.'), toolUse('toolu_01KeptVwq3Rt6Yu8Io1Pa', 'Bash', {})]);
        t.result('toolu_01KeptVwq3Rt6Yu8Io1Pa', 'ok');
        return t.replace(10, t.line(10).replace('"version":"2.1.39"', '"version":2139').replace('"input":{}', '"input":"npm test"')).write();
      },
      findings: [{ line: 10, severity: 'warning', message: 'assistant entry: version' }],
      noRecovery: 'the version of the wrong type stays, named (see the repair tests below)',
    },
    {
      name: 'an object without a type',
      session: () => healthy().entry({ uuid: '0b8e0c52-7d19-4a57-8d0e-3c1f2a9b4e66', note: 'hand-edited' }).write(),
      findings: [{ line: 8, severity: 'warning', message: /^entry has no string "type"$/ }],
      noRecovery: 'an entry without a type is kept as it is, and named',
    },
  ],
});

describe('invalid-entry-shape repair', () => {
  it('leaves out a malformed block of an entry it keeps for its own wrong field, and names both', async () => {
    const t = healthy();
    t.user('Run it.');
    t.assistant(text('Running.'));
    t.result('toolu_01KeptVwq3Rt6Yu8Io1Pa', 'ok');
    t.assistant(text('It ran.'));
    // One line holding the text and a call whose input is a string, with a version of the wrong type.
    const entry = JSON.parse(t.line(9)) as { version: unknown; message: { content: unknown[] } };
    entry.version = 2139;
    entry.message.content.push({ ...toolUse('toolu_01KeptVwq3Rt6Yu8Io1Pa', 'Bash', {}), input: 'npm test' });
    const fx = await t.replace(9, JSON.stringify(entry)).write();
    const out = join(await tempDir('out-'), 'repaired.jsonl');
    const first = await recover({ file: fx.file, claudeDir: fx.claudeDir, out });
    expect(first.analysis.findings.filter((f) => f.code === 'invalid-entry-shape')).toEqual([expect.objectContaining({ line: 9, kind: KEPT })]);
    expect(first.plan.actions.filter((a) => a.action === 'edit-record').map((a) => [(a as { at: { line: number } }).at.line, a.detail])).toEqual([
      [9, 'a tool_use block of the wrong shape left out (kept in the snapshot)'],
      [10, 'result for missing call toolu_01KeptVwq3Rt6Yu8Io1Pa kept as text'],
    ]);
    expect(first.plan.lostAndFound).toEqual([{ line: 9, reason: 'tool_use block of the wrong shape left out', text: JSON.stringify(entry.message.content[1]) }]);

    const again = await analyzeSession(out, { claudeDir: null });
    try {
      // Kept and named: the entry's own wrong field is still reported, and is all that is.
      expect(again.findings.filter((f) => f.severity !== 'notice')).toEqual([expect.objectContaining({ code: 'invalid-entry-shape', line: 9, message: 'assistant entry: version: Invalid input: expected string, received number', kind: KEPT })]);
      const messages = branchMessages(again.index, again.loader);
      expect((messages.flatMap((m) => m.content) as Block[]).filter((b) => b.type === 'tool_use').map((b) => b.id)).toEqual(['toolu_01ListFilesXq3LwT8N5bUp']);
      expect(validateMessagesRequest({ model: 'm', max_tokens: 1, messages: [...messages, { role: 'user', content: [text('Please continue.')] }] })).toEqual([]);
    } finally {
      again.loader.close();
    }
  });

  it('writes a session whose blocks are well formed byte for byte as it was', async () => {
    const t = healthy();
    t.user('Think first.');
    t.assistant([thinking('Two files.'), text('Thought about it.')]);
    const fx = await t.write();
    const out = join(await tempDir('out-'), 'copy.jsonl');
    const r = await recover({ file: fx.file, claudeDir: fx.claudeDir, out });
    expect(r.status).toBe('healthy');
    expect(readFileSync(out).equals(readFileSync(fx.file))).toBe(true);
  });
});
