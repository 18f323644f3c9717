import rule from '../../src/rules/client-interrupted-result.js';
import { CLIENT_INTERRUPTED_RESULT, healthy, healthyCorpus, REJECTED_TOOL_USE, ruleTester, text, toolResult, toolUse } from './helpers.js';

const BASH = 'toolu_01SlowJobJ7k8L9z0X1c2';
const WRITE = 'toolu_01MarkerW2r3I4t5E6m7K8';

/** What 2.1.328 appends on resume after a crash: its result, then a synthetic "No response requested.". */
function resumedAfterCrash() {
  const t = healthy({ version: '2.1.328' });
  t.user('Run the slow job.');
  t.assistant([text('Running it.'), toolUse(BASH, 'Bash', { command: 'node scripts/slow-job.js' })]);
  return t;
}

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'a result that quotes the text further on',
      session: () => {
        const t = resumedAfterCrash();
        t.result(BASH, `Log line: ${CLIENT_INTERRUPTED_RESULT}`);
        return t.write();
      },
    },
    {
      name: 'an is_error result of another kind (a rejection)',
      session: () => {
        const t = resumedAfterCrash();
        t.result(BASH, REJECTED_TOOL_USE, { isError: true });
        return t.write();
      },
    },
    {
      name: 'a user text (not a tool_result) starting with the text',
      session: () => {
        const t = healthy();
        t.user(CLIENT_INTERRUPTED_RESULT);
        t.assistant(text('That call did not finish.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: "2.1.328 resumed a crashed session: its own result for the running Bash call",
      session: () => {
        const t = resumedAfterCrash();
        t.result(BASH, CLIENT_INTERRUPTED_RESULT, { isError: true, extra: { toolDenialKind: 'interrupted' } });
        t.assistant(text('No response requested.'), { model: '<synthetic>', stop: 'stop_sequence', extra: { madeBy: 'other', isApiErrorMessage: false } });
        t.user('Did the job finish?');
        t.assistant(text('I cannot tell; let me check.'));
        return t.write();
      },
      findings: [{ line: 11, severity: 'notice', message: `Claude Code marked Bash call ${BASH} as interrupted; its outcome is unknown`, related: [10], toolUseId: BASH }],
    },
    {
      name: 'two calls of a parallel batch marked interrupted, as block-array content',
      session: () => {
        const t = healthy({ version: '2.1.328' });
        t.user('Run the job and leave a marker.');
        const id = 'msg_01BatchOfTwoQw1Er2Ty3Ui4';
        t.assistant(toolUse(BASH, 'Bash', { command: 'node scripts/slow-job.js' }), { id });
        t.assistant(toolUse(WRITE, 'Write', { file_path: '/home/user/proj/marker.txt', content: 'done\n' }), { id });
        t.user([toolResult(BASH, [text(CLIENT_INTERRUPTED_RESULT)], true)]);
        t.user([toolResult(WRITE, [text(CLIENT_INTERRUPTED_RESULT)], true)]);
        return t.write();
      },
      findings: [
        { line: 11, severity: 'notice', message: `Bash call ${BASH} as interrupted`, related: [9] },
        { line: 12, severity: 'notice', message: `Write call ${WRITE} as interrupted`, related: [10] },
      ],
    },
  ],
});
