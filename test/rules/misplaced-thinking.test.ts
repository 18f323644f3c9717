import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionLine } from '../../src/plan/actions.js';
import { recover } from '../../src/recover.js';
import rule from '../../src/rules/misplaced-thinking.js';
import { healthy, healthyCorpus, messageId, ruleTester, tempDir, text, thinking, toolUse, type Block } from './helpers.js';

const redacted = (): Block => ({ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4' });
const blocks = (messages: { content: unknown[] }[]) => messages.flatMap((m) => m.content) as Block[];

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'thinking between the blocks of a response that starts with thinking (2.1.15x: thinking, tool_use, thinking, text)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Check, then answer.');
        t.assistant([thinking('First the files.'), toolUse('toolu_01CheckQw3Rt6Yu8Io1PaZx', 'Bash', { command: 'ls' })]);
        t.result('toolu_01CheckQw3Rt6Yu8Io1PaZx', 'a.js');
        t.assistant([thinking('One file.'), text('Only a.js.'), thinking(''), text('Nothing else.')]);
        return t.write();
      },
    },
    {
      name: 'a whitespace text line before the thinking line (2.1.3x): clients drop it before sending',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Think it over.');
        t.assistant([text('\n\n'), thinking('Two files, one import.'), text('It is simple.')]);
        return t.write();
      },
    },
    {
      name: 'a response that stopped after its thinking is unfinished-turn\'s to report',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Think it over.');
        t.assistant([thinking('Two files, one import.')]);
        return t.write();
      },
    },
    {
      name: 'a response cut off before an API error, then the retry with its thinking: the cut-off note ends the first turn',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Explain main.js.');
        t.assistant(text('main.js calls'));
        t.apiError('API Error: Connection error.');
        t.assistant([thinking('Start again.'), text('main.js calls greet.')]);
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'a response [text, redacted_thinking] (the B17 counterexample)',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Say something.');
        t.assistant([text('x'), redacted()]);
        t.user('Go on.');
        t.assistant(text('Going on.'));
        return t.write();
      },
      findings: [{ line: 10, severity: 'error', message: 'redacted_thinking block after text in its assistant message (line 9): thinking must come first', related: [9] }],
      repaired: (messages) => {
        expect(blocks(messages).some((b) => b.type === 'redacted_thinking')).toBe(false);
        expect(messages.slice(-4).map((m) => m.content)).toEqual([[text('Say something.')], [text('x')], [text('Go on.')], [text('Going on.')]]);
      },
    },
    {
      name: 'text written before the thinking of the same line (a replay put it first, CC#20705): every thinking block of the message goes',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Think first.');
        const id = messageId();
        t.assistant([text('Hmm.')], { id });
        t.assistant([thinking('Two files.'), text('Done.'), thinking('And a test.'), text('Tested.')], { id });
        return t.write();
      },
      findings: [
        { line: 10, severity: 'error', message: 'thinking block after text in its assistant message (line 9)' },
        { line: 12, severity: 'error', message: 'thinking block after text in its assistant message (line 9)' },
      ],
      repaired: (messages) => expect(messages.at(-1)).toEqual({ role: 'assistant', content: [text('Hmm.'), text('Done.'), text('Tested.')] }),
    },
    {
      name: 'a complete response that ends on thinking: the trailing thinking goes',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Think twice.');
        t.assistant([thinking('Once.'), text('Answer.'), thinking('Twice.')]);
        t.user('And?');
        t.assistant(text('That is all.'));
        return t.write();
      },
      findings: [{ line: 11, severity: 'error', message: 'thinking block ends its assistant message: the final block cannot be thinking' }],
      repaired: (messages) => {
        const answer = messages.find((m) => m.role === 'assistant' && (m.content as Block[]).some((b) => b.text === 'Answer.'))!;
        expect((answer.content as Block[]).map((b) => b.type)).toEqual(['thinking', 'text']);
      },
    },
    {
      name: 'a complete response with nothing but thinking (stop_reason end_turn) is removed, kept in the snapshot',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Think only.');
        t.assistant([thinking('Nothing to say.')]);
        t.user('Well?');
        t.assistant(text('Nothing to add.'));
        return t.write();
      },
      findings: [{ line: 9, severity: 'error', message: 'thinking block ends its assistant message' }],
      repaired: (messages) => {
        expect(blocks(messages).some((b) => b.type === 'thinking')).toBe(false);
        expect(messages.slice(-2)).toEqual([
          { role: 'user', content: [text('Think only.'), text('Well?')] },
          { role: 'assistant', content: [text('Nothing to add.')] },
        ]);
      },
    },
  ],
});

describe('block repairs of one line, together', () => {
  it('leaves out an unknown block, an orphan server result and misplaced thinking in one edit, each named and kept; the other lines keep their bytes', async () => {
    const t = healthy({ version: '2.1.152' });
    t.user('Say something.');
    t.assistant(text('x'));
    t.user([text('Go on.'), text('')]);
    t.assistant(text('Going on.'));
    const R = redacted();
    const unknown = { type: 'constructor' };
    const orphan = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_01GoneQw3Rt6Yu8Io1PaZ', content: [] };
    const entry = JSON.parse(t.line(9)) as { message: { content: unknown[] } };
    entry.message.content.push(unknown, orphan, R);
    t.replace(9, JSON.stringify(entry));
    const fx = await t.write();
    const out = join(await tempDir('out-'), 'repaired.jsonl');
    const result = await recover({ file: fx.file, claudeDir: fx.claudeDir, out });
    expect(result.analysis.findings.filter((f) => f.severity !== 'notice').map((f) => [f.code, f.line])).toEqual([
      ['orphaned-server-tool-result', 9],
      ['unknown-block-type', 9],
      ['misplaced-thinking', 9],
      ['blank-content', 10],
    ]);
    expect(result.plan.actions.map((a) => [a.action, actionLine(a), a.detail])).toEqual([
      [
        'edit-record',
        9,
        'a block of type "constructor", which the API does not know, left out (kept in the snapshot); a web_search_tool_result block without its server_tool_use before it left out (kept in the snapshot); a redacted_thinking block out of place left out (kept in the snapshot)',
      ],
      ['edit-record', 10, 'an empty text block beside other content left out (kept in the snapshot)'],
    ]);
    expect(result.plan.lostAndFound).toEqual([
      { line: 9, reason: 'block of type "constructor", which the API does not know, left out', text: JSON.stringify(unknown) },
      { line: 9, reason: 'web_search_tool_result block without its server_tool_use before it left out', text: JSON.stringify(orphan) },
      { line: 9, reason: 'redacted_thinking block out of place left out', text: JSON.stringify(R) },
      { line: 10, reason: 'empty text block beside other content left out', text: JSON.stringify(text('')) },
    ]);
    const before = readFileSync(fx.file, 'utf8').split('\n');
    const after = readFileSync(out, 'utf8').split('\n');
    expect(after).toHaveLength(before.length);
    after.forEach((line, i) => {
      if (i === 8) expect(JSON.parse(line)).toEqual({ ...JSON.parse(before[i]!), message: { ...JSON.parse(before[i]!).message, content: [text('x')] } });
      else if (i === 9) expect((JSON.parse(line) as { message: { content: unknown } }).message.content).toEqual([text('Go on.')]);
      else expect(line).toBe(before[i]);
    });
  });
});
