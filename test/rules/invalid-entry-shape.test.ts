import rule from '../../src/rules/invalid-entry-shape.js';
import { corpus, healthy, healthyCorpus, repoFile, ruleTester, text, toolResult, toolUse } from './helpers.js';

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
    },
    {
      name: 'a tool_result whose content is a number',
      session: () => {
        const t = healthy();
        return t.replace(6, t.line(6).replace(/"content":"greet\.js\\nmain\.js"/, '"content":2')).write();
      },
      findings: [{ line: 6, severity: 'warning', message: 'user entry: message.content.0.content' }],
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
    },
    {
      name: 'an object without a type',
      session: () => healthy().entry({ uuid: '0b8e0c52-7d19-4a57-8d0e-3c1f2a9b4e66', note: 'hand-edited' }).write(),
      findings: [{ line: 8, severity: 'warning', message: /^entry has no string "type"$/ }],
    },
  ],
});
