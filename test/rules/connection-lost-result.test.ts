import { join } from 'node:path';
import rule from '../../src/rules/connection-lost-result.js';
import { recover } from '../../src/recover.js';
import { healthy, healthyCorpus, ruleTester, tempDir, text, toolResult, toolUse, type Fixture } from './helpers.js';

const BASH = 'toolu_01SlowJobJ7k8L9z0X1c2';
const LOST =
  "connection_lost: the session ended (the client was killed or lost its connection) before this Bash call's result was recorded. The command `node scripts/slow-job.js` was started; it may have run partly or fully and its side effects are unknown. Check its effects and ask the user before running it again.";

function runningCall() {
  const t = healthy({ version: '2.1.152' });
  t.user('Run the slow job.');
  t.assistant([text('Running it.'), toolUse(BASH, 'Bash', { command: 'node scripts/slow-job.js' })]);
  return t;
}

/** The session ccrescue wrote for a crashed one: analysed again, it says what was recovered. */
async function recoveredByCcrescue(): Promise<Fixture> {
  const fx = await runningCall().write();
  const out = join(await tempDir('recovered-'), 'repaired.jsonl');
  await recover({ file: fx.file, claudeDir: fx.claudeDir, out });
  return { file: out, claudeDir: null };
}

ruleTester(rule, {
  valid: [
    ...healthyCorpus(),
    {
      name: 'a result that mentions connection_lost further on',
      session: () => {
        const t = runningCall();
        t.result(BASH, 'retrying after connection_lost… done');
        return t.write();
      },
    },
    {
      name: 'a prompt that starts with connection_lost',
      session: () => {
        const t = healthy();
        t.user('connection_lost: what does this mean in my log?');
        t.assistant(text('The connection dropped.'));
        return t.write();
      },
    },
  ],
  invalid: [
    {
      name: 'the result ccrescue itself wrote for a call lost in a crash (recover, then analyse the output)',
      session: recoveredByCcrescue,
      findings: [{ line: 11, severity: 'notice', message: `recovered earlier: call ${BASH} was marked connection_lost`, toolUseId: BASH }],
    },
    {
      name: 'a connection_lost result as block-array content, then the conversation went on',
      session: () => {
        const t = runningCall();
        t.user([toolResult(BASH, [text(LOST)], true)]);
        t.assistant(text('I will check whether the job ran.'));
        return t.write();
      },
      findings: [{ line: 11, severity: 'notice', message: `recovered earlier: call ${BASH} was marked connection_lost`, toolUseId: BASH }],
    },
  ],
});
