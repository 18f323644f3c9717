// `ccrescue resume -i` end to end on a terminal: after ccrescue's own questions, the real interactive 2.1.328
// (its full-screen TUI, not print mode) owns the terminal, sends the resumed request, and the user's keys reach it.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { Term } from '../helpers/pty.js';
import { clientCommand, clientEnv, encodeCwd, endAllRuns, markedProcesses, waitFor } from './client.js';
import type { RecordedRequest } from './mock-api.js';
import { blocksOfEntry, conversationEntries, produceCrash, readSessionEntries, type Crash } from './scenarios.js';
import { blocks, isHealthCheck, mainLoop, messagesOf, textOf, type Message } from './messages.js';

const CRASH_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 180_000;
/** From ccrescue's start to the client's first request: recovery, two health checks 1 s apart, the client's start-up. */
const FIRST_REQUEST_TIMEOUT_MS = 60_000;
const SCREEN_TIMEOUT_MS = 30_000;
const COLS = 200;
const ROWS = 50;
/** What the mock answers every main-loop request with once the crash's script is used up. */
const FINAL_TEXT = 'Resumed OK.';
const FOLLOW_UP = 'thanks, that is all';
const SKIPPED = 'The user chose not to run it again';

const DOWN = '\x1b[B';
const ENTER = '\r';

// ---------------------------------------------------------------------------------------------------------------
// Requests and messages as the client sends them

const lastUser = (r: RecordedRequest): Message => messagesOf(r).filter((m) => m.role === 'user').at(-1)!;
/** What the user typed into a message: its text blocks, without the client's <system-reminder> ones. */
const typedText = (m: Message): string[] => blocks(m).flatMap((b) => (b.type === 'text' && !(b.text ?? '').startsWith('<system-reminder>') ? [b.text ?? ''] : []));

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// The client process, as the operating system sees it

/** The parent pid of a live process. */
function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

const argvOf = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
/** What a process's stdin, stdout and stderr are. */
const stdioOf = (pid: number): string[] => [0, 1, 2].map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));

/** The input box at the bottom of the TUI: the `❯` row between two rules; null when it is not on screen. */
function inputBox(screen: string): string | null {
  const m = /^─{20,}\n❯(.*)\n─{20,}$/m.exec(screen);
  return m ? m[1]!.trim() : null;
}

// ---------------------------------------------------------------------------------------------------------------

describe('ccrescue resume -i hands the terminal to the interactive 2.1.328', () => {
  let crash: Crash;
  let term: Term | undefined;

  beforeAll(async () => {
    crash = await produceCrash('bash-running');
  }, CRASH_TIMEOUT_MS);

  afterAll(async () => {
    if (term !== undefined && term.exitCode === null) {
      try {
        term.proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    endAllRuns();
    await crash?.dispose();
  });

  it(
    'after the call question and the confirm, the TUI sends the repaired history with the prompt, takes the typed follow-up, and /exit ends ccrescue with its code',
    async () => {
      const originalHash = sha256(crash.sessionFile);
      const folder = join(crash.claudeDir, 'projects', encodeCwd(crash.projectDir));
      const bin = clientCommand('2.1.328').command;
      const { env, marker } = clientEnv(crash.home, crash.mock.baseUrl, { TERM: 'xterm-256color' });
      const before = crash.mock.requests.length;
      const since = (): RecordedRequest[] => crash.mock.requests.slice(before);
      const t = (term = new Term(
        process.execPath,
        [BIN, 'resume', crash.sessionId, '-i', '--claude-dir', crash.claudeDir, '--claude-bin', bin, '--', '--dangerously-skip-permissions'],
        { cwd: crash.projectDir, env, cols: COLS, rows: ROWS },
      ));
      /** Polls `predicate`; on timeout, fails with what the terminal shows. */
      const until = async <T>(what: string, predicate: () => T | undefined | false, timeoutMs: number): Promise<T> => {
        try {
          return await waitFor(predicate, timeoutMs, what);
        } catch (error) {
          throw new Error(`${(error as Error).message}; ccrescue ${t.exitCode === null ? 'runs' : `exited ${t.exitCode}`}; the screen:\n${t.screen.capture()}`);
        }
      };

      // ccrescue's questions: the Bash that was running when the client died, then the write.
      const shown = await t.waitFor('? Call 1 of 1: what should the resumed session do?', 30_000);
      expect(shown).toContain('1 tool call was interrupted in ');
      expect(shown).toMatch(/line \d+ {2}Bash {2}\(toolu_c_bash\)\n {2}command: {2}node scripts\/slow-job\.js\n/);
      let menu = await t.waitFor('⏎ select');
      for (let presses = 0; !/\n❯ Skip: don't run it again\n/.test(menu); presses++) {
        expect(presses, `no Skip answer in the menu:\n${menu}`).toBeLessThan(3);
        t.send(DOWN);
        menu = await t.waitFor('⏎ select');
      }
      t.send(ENTER);
      await t.waitFor("✔ Call 1 of 1: what should the resumed session do? Skip: don't run it again");
      await t.waitFor(/\(Y\/n\)/);
      t.send(ENTER);
      await t.waitFor(/✔ Write the repaired session to\s[\s\S]+?\.jsonl\? Yes\n/);
      const snapshotPath = /recovery snapshot: (\S+\.recovery\.json)\n/.exec(await t.waitFor(/recovery snapshot: \S+\.recovery\.json\n/))![1]!;
      const newId = snapshotPath.slice(folder.length + 1, -'.recovery.json'.length);
      expect(snapshotPath).toBe(join(folder, `${newId}.recovery.json`));
      expect(newId).toMatch(/^[0-9a-f-]{36}$/);
      expect(newId).not.toBe(crash.sessionId);
      const snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as {
        repaired_session_id: string;
        continuation_prompt: string;
        active_tool_calls: { tool_use_id: string; choice?: string; chosen_by?: string }[];
      };
      expect(snapshot.repaired_session_id).toBe(newId);
      expect(snapshot.active_tool_calls.find((c) => c.tool_use_id === 'toolu_c_bash')).toMatchObject({ choice: 'skip', chosen_by: 'user' });
      const prompt = snapshot.continuation_prompt.trim();
      expect(prompt).toContain('[Recovered session]');

      // The wait for the API (the mock answers 404, which counts), then the client, started on this terminal.
      await t.waitFor(/check 1: answered \(HTTP 404, \d+ ms\), 1 in a row; next check in 1 s\n/, 10_000);
      await t.waitFor(/check 2: answered \(HTTP 404, \d+ ms\), 2 in a row; the API is back\n/, 10_000);
      await t.waitFor(`starting: ${bin} --resume ${newId} <continuation prompt> (in ${crash.projectDir})\n`, 5_000);

      // The TUI sends the resumed request at once.
      const first = await until('the first main-loop request', () => mainLoop(since())[0], FIRST_REQUEST_TIMEOUT_MS);
      expect(t.exitCode).toBeNull();
      const sent = since();
      expect(sent.slice(0, 2).every(isHealthCheck), 'the two health checks come first').toBe(true);
      expect(sent.slice(2).some(isHealthCheck), 'no health check once the client runs').toBe(false);
      expect(sent.indexOf(first)).toBeGreaterThanOrEqual(2);

      // It is the full-screen client, a child of ccrescue on ccrescue's own terminal, started without -p.
      const client = markedProcesses((m) => m === marker).find((pid) => parentOf(pid) === t.proc.pid && argvOf(pid)[0] === bin);
      expect(client, `no client process under ccrescue (pid ${t.proc.pid})`).toBeDefined();
      expect(argvOf(client!)).toEqual([bin, '--resume', newId, snapshot.continuation_prompt, '--dangerously-skip-permissions']);
      const ccrescueStdio = stdioOf(t.proc.pid);
      expect(ccrescueStdio[0]).toMatch(/^\/dev\/pts\/\d+$/);
      expect(ccrescueStdio.every((f) => f === ccrescueStdio[0])).toBe(true);
      expect(stdioOf(client!)).toEqual(ccrescueStdio);
      await t.waitForScreen(/Claude Code v2\.1\.328/, SCREEN_TIMEOUT_MS);

      // The resumed request: valid, every call answered, the user's decision in the Bash's result, the prompt last.
      expect(first.issues).toEqual([]);
      expect(first.valid).toBe(true);
      const history = messagesOf(first).flatMap(blocks);
      const toolUses = history.filter((b) => b.type === 'tool_use').map((b) => b.id);
      expect(toolUses).toEqual(['toolu_c_bash']);
      expect(history.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id)).toEqual(toolUses);
      expect(textOf(history.find((b) => b.type === 'tool_result' && b.tool_use_id === 'toolu_c_bash')!)).toContain(SKIPPED);
      expect(blocks(lastUser(first)).map(textOf).join('\n')).toContain(prompt);

      // The answer is shown; then the input box is the client's: each key typed shows up in it.
      await t.waitForScreen(`● ${FINAL_TEXT}`, SCREEN_TIMEOUT_MS);
      await until('an empty input box', () => inputBox(t.screen.text()) === '', SCREEN_TIMEOUT_MS);
      for (let i = 1; i <= FOLLOW_UP.length; i++) {
        t.send(FOLLOW_UP[i - 1]!);
        const typed = FOLLOW_UP.slice(0, i).trimEnd();
        await until(`"${typed}" in the input box`, () => inputBox(t.screen.text()) === typed, SCREEN_TIMEOUT_MS);
      }
      const mainLoopBefore = mainLoop(since()).length;
      t.send(ENTER);

      // The follow-up goes to the API as the next turn of the same conversation, and its answer is shown.
      const followUp = await until('the follow-up request', () => mainLoop(since())[mainLoopBefore], SCREEN_TIMEOUT_MS);
      expect(followUp.valid).toBe(true);
      expect(typedText(lastUser(followUp))).toEqual([FOLLOW_UP]);
      const followUpMessages = messagesOf(followUp);
      expect(followUpMessages.at(-2)).toMatchObject({ role: 'assistant' });
      expect(blocks(followUpMessages.at(-2)!).map(textOf).join('')).toBe(FINAL_TEXT);
      expect(followUpMessages.flatMap(blocks).some((b) => textOf(b).includes(prompt))).toBe(true);
      expect(t.exitCode).toBeNull();
      await t.waitForScreen(new RegExp(`❯ ${FOLLOW_UP}\\n[\\s\\S]*● ${FINAL_TEXT.replace('.', '\\.')}`), SCREEN_TIMEOUT_MS);
      await until('an empty input box after the answer', () => inputBox(t.screen.text()) === '', SCREEN_TIMEOUT_MS);

      // /exit ends the client, and ccrescue exits with the client's code.
      t.send('/exit');
      await until('/exit in the input box', () => inputBox(t.screen.text()) === '/exit', SCREEN_TIMEOUT_MS);
      t.send(ENTER);
      expect(await t.exit(30_000)).toBe(0);
      expect(t.screen.text()).toContain(`--resume ${newId}`);
      await until('no process of the run left', () => markedProcesses((m) => m === marker).length === 0, 10_000);

      // Both turns went into the repaired session; the original is untouched.
      const newSession = join(folder, `${newId}.jsonl`);
      expect(existsSync(newSession)).toBe(true);
      const typedTurns = conversationEntries(await readSessionEntries(newSession)).filter(
        (e) => e.type === 'user' && (e.message?.content === FOLLOW_UP || blocksOfEntry(e).some((b) => b.type === 'text' && b.text === FOLLOW_UP)),
      );
      expect(typedTurns).toHaveLength(1);
      expect(sha256(crash.sessionFile)).toBe(originalHash);
    },
    TEST_TIMEOUT_MS,
  );
});
