import rule from '../../src/rules/api-error.js';
import { corpus, healthy, healthyCorpus, ruleTester, text } from './helpers.js';

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'turn_duration and stop_hook_summary system lines',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.system('stop_hook_summary', { hookCount: 1, hookInfos: [], hookErrors: [], preventedContinuation: false, stopReason: '', hasOutput: false, level: 'suggestion' });
        t.system('turn_duration', { durationMs: 5120 });
        return t.write();
      },
    },
    {
      name: 'an API error and its retries inside a sidechain',
      session: () => {
        const t = healthy();
        t.user('Explore.', { isSidechain: true, parent: null });
        t.system('api_error', { level: 'error', retryAttempt: 1, maxRetries: 10 }, { isSidechain: true });
        t.apiError('API Error: 529 Overloaded', { isSidechain: true });
        return t.write();
      },
    },
    {
      name: 'an API error on a branch the user rewound away from',
      session: () => {
        const t = healthy();
        const fork = t.last;
        t.user('Try again.');
        t.apiError('API Error: Connection error.');
        t.user('Different question: the license?', { parent: fork });
        t.assistant(text('MIT.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'corpus 2.1.17: an API Error 500 in the middle of the session (Entire ad/ac80fffbb8)',
      session: corpus('entireio__cli/ad/ac80fffbb8/0/full.jsonl'),
      findings: [{ line: 274, severity: 'notice', message: 'API error recorded: API Error: 500 {"type":"error","error":{"type":"api_error","message":"Internal server error"}' }],
    },
    {
      name: 'corpus 2.1.5: 29 retries for HTTP 529, every one answered in the end (Entire b0/2936744f3b)',
      session: corpus('entireio__cli/b0/2936744f3b/0/full.jsonl'),
      findings: [
        {
          line: 5,
          severity: 'notice',
          message: '29 API retry entries (system/api_error), the last at line 211',
          related: [5, 6, 7, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 28, 29, 30, 31, 62, 63, 64, 65, 66, 67, 68, 146, 147, 209, 210, 211],
        },
      ],
    },
    {
      name: 'corpus 2.0.75: a prompt followed only by 8 retries for HTTP 403',
      session: corpus('codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/single-user-message.jsonl'),
      findings: [{ line: 10, severity: 'notice', message: '8 API retry entries (system/api_error), the last at line 10: the last request was never answered', related: [3, 4, 5, 6, 7, 8, 9, 10] }],
    },
    {
      name: 'the session ends on an API error message',
      session: () => {
        const t = healthy({ version: '2.1.152' });
        t.user('Keep going.');
        t.apiError('API Error: Connection error.');
        return t.write();
      },
      findings: [{ line: 9, severity: 'notice', message: 'the session ends on an API error: API Error: Connection error.' }],
    },
    {
      name: 'retries after the last prompt and no answer',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Keep going.');
        t.retry(1);
        t.retry(2);
        t.retry(3);
        return t.write();
      },
      findings: [{ line: 11, severity: 'notice', message: '3 API retry entries (system/api_error), the last at line 11: the last request was never answered', related: [9, 10, 11] }],
    },
    {
      name: 'one retry, then the answer came: reported at the retry',
      session: () => {
        const t = healthy({ version: '2.1.39' });
        t.user('Keep going.');
        t.retry(1);
        t.assistant(text('Going on.'));
        return t.write();
      },
      findings: [{ line: 9, severity: 'notice', message: '1 API retry entry (system/api_error), the last at line 9' }],
    },
  ],
});
