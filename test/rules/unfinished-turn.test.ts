import { expect } from 'vitest';
import rule from '../../src/rules/unfinished-turn.js';
import { corpus, healthy, healthyCorpus, INTERRUPTED_BY_USER, repoFile, ruleTester, text, thinking, toolUse } from './helpers.js';

const MSG = 'msg_01CutOffQz8Xw7Vu6Ts5Rq4Po';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'corpus 2.1.17: an API Error 500 mid-session (Entire ad/ac80fffbb8)',
      session: corpus('entireio__cli/ad/ac80fffbb8/0/full.jsonl'),
    },
    {
      name: 'the real 2.1.328 crash: complete messages with stop_reason tool_use',
      session: repoFile('fixtures/crash-parallel/claude/projects/-tmp-ccrescue-fixture-work-proj/5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl'),
    },
    {
      name: 'a 2.1.39 session ending on text with stop_reason null (clients before 2.1.100 never wrote one)',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Summarise.');
        t.assistant(text('A greeting CLI with two files.'), { stop: null });
        return t.write();
      },
    },
    {
      name: 'version boundary: 2.1.99 ending on text with stop_reason null is not judged',
      session: () => {
        const t = healthy({ version: '2.1.99' });
        t.user('Summarise.');
        t.assistant(text('A greeting CLI with two files.'), { stop: null });
        return t.write();
      },
    },
    {
      name: 'a 2.1.152 session ending on thinking then text, stop_reason end_turn',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Summarise.');
        t.assistant([thinking('Short answer.'), text('A greeting CLI.')]);
        return t.write();
      },
    },
    {
      name: 'partial text, then the user interrupted (C16: the user stopped it, no stream was lost)',
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Write a long essay.');
        t.assistant(text('Once upon a time'), { stop: null });
        t.user([text(INTERRUPTED_BY_USER)]);
        return t.write();
      },
    },
    {
      name: 'a 2.1.328 tool call with stop_reason null whose result was written',
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Run it.');
        t.assistant(toolUse('toolu_01RunItQw3Rt6Yu8Io1Pa', 'Bash', { command: 'npm start' }), { stop: null });
        t.result('toolu_01RunItQw3Rt6Yu8Io1Pa', 'Hello, world');
        return t.write();
      },
    },
    {
      name: "Claude Code's synthetic \"No response requested.\" at the end",
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.assistant(text('No response requested.'), { model: '<synthetic>', stop: 'stop_sequence', extra: { madeBy: 'other', isApiErrorMessage: false } });
        return t.write();
      },
    },
    {
      name: 'an assistant line with no blocks at all is blank-content, not a response that stopped after thinking',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Go on.');
        t.assistant([]);
        return t.write();
      },
    },
    {
      name: 'a thinking-only response on a branch the user rewound away from',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        const fork = t.last;
        t.user('Think hard about it.');
        t.assistant(thinking('Hmm, where to start…'));
        t.user('Simpler question: how many files?', { parent: fork });
        t.assistant(text('Two.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'the final response got no further than thinking (2.1.29: one thinking line)',
      session: () => {
        const t = healthy({ version: '2.1.29' });
        t.user('Plan the refactor.');
        t.assistant(thinking('First split main.js, then…'), { id: MSG });
        return t.write();
      },
      findings: [{ line: 9, severity: 'warning', message: `response ${MSG} stopped after its thinking: no text or tool call was recorded`, related: [9] }],
    },
    {
      name: 'the final response got no further than thinking (2.1.39: a whitespace text line, then the thinking line)',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Plan the refactor.');
        t.assistant([text('\n\n'), thinking('First split main.js, then…')], { id: MSG });
        return t.write();
      },
      findings: [{ line: 10, severity: 'warning', message: `response ${MSG} stopped after its thinking: no text or tool call was recorded`, related: [9, 10] }],
      repaired: (messages) => expect(messages.at(-1)).toEqual({ role: 'user', content: [text('Plan the refactor.')] }),
    },
    {
      name: 'corpus 2.1.29: a thinking-only response before a lost hook line (Entire 00/c9e2351016)',
      session: corpus('entireio__cli/00/c9e2351016/3/full.jsonl'),
      findings: [{ line: 50, severity: 'warning', message: 'response msg_019obZ4zcaGr7G6pNAmpdp62 stopped after its thinking', related: [50] }],
    },
    {
      name: 'corpus 2.1.29: a thinking-only response mid-session, then a Task left running (Entire ec/38b74f08e3)',
      session: corpus('entireio__cli/ec/38b74f08e3/3/full.jsonl'),
      findings: [{ line: 205, severity: 'warning', message: 'response msg_01DjRn7HzPDJJs93FpvSUe1J stopped after its thinking', related: [205] }],
    },
    {
      name: 'stop_reason null on the last response of a 2.1.328 session (version-aware: 2.1.100+ writes it)',
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Summarise.');
        t.assistant(text('The CLI reads a name and'), { id: MSG, stop: null });
        return t.write();
      },
      findings: [{ line: 9, severity: 'warning', message: `response ${MSG} has no stop_reason: the stream ended before message_stop` }],
    },
    {
      name: 'version boundary: stop_reason null on the last response of a 2.1.100 session',
      session: () => {
        const t = healthy({ version: '2.1.100' });
        t.user('Summarise.');
        t.assistant(text('A greeting'), { id: MSG, stop: null });
        return t.write();
      },
      findings: [{ line: 9, severity: 'warning', message: `response ${MSG} has no stop_reason` }],
    },
    {
      name: 'partial text followed by an API error (stream idle timeout, 2.1.39)',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Explain greet.js.');
        t.assistant(text('greet.js exports a single function that'), { id: MSG });
        t.apiError('API Error: Stream idle timeout - partial response received');
        return t.write();
      },
      findings: [{ line: 9, severity: 'warning', message: `response ${MSG} stopped mid-stream: an API error (line 10) followed its partial content`, related: [10] }],
    },
    {
      name: 'a 2.1.152 response of two block lines cut off after the thinking and some text',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Explain main.js.');
        t.assistant([thinking('It imports greet.'), text('main.js imports')], { id: MSG, stop: null });
        return t.write();
      },
      findings: [{ line: 10, severity: 'warning', message: `response ${MSG} has no stop_reason` }],
    },
  ],
});

