// A lost connection takes the session's recovery snapshot beside its file, in a worker thread:
// the same analysis as `recover --dry-run`, the session's bytes untouched.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { liveSnapshotPath, SnapshotKeeper } from '../../src/guard/snapshot.js';
import { RecoverySnapshot } from '../../src/write/snapshot.js';
import { ccrescue } from '../helpers/cli.js';
import { CORPUS } from '../helpers/corpus.js';
import { fileSha256, tree } from '../helpers/files.js';
import { closeGuards, freePort, send, SSE_HEADERS, startGuard, startUpstream, streamOpening, type Upstream } from './helpers.js';

// A genuine 2.1.4 session copied while its Task call ran: one orphaned tool_use at the end (MANIFEST.md).
const ORPHAN_AT_END = join(CORPUS, 'entireio__cli/4c/02af2759b6/0/full.jsonl');
const SESSION = '5a3bb1c8-c3ce-466e-b487-24212cbf1da1';

let u: Upstream;
beforeAll(async () => {
  // Every request gets the opening of a stream, then silence: the watchdog cuts it.
  u = await startUpstream((_req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(streamOpening(1));
  });
});
afterEach(closeGuards);
const dirs: string[] = [];
afterAll(async () => {
  await u.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function claudeDirWithSession(): { claudeDir: string; file: string } {
  const claudeDir = mkdtempSync(join(tmpdir(), 'ccrescue-guard-'));
  dirs.push(claudeDir);
  const folder = join(claudeDir, 'projects', '-tmp-project');
  mkdirSync(folder, { recursive: true });
  const file = join(folder, `${SESSION}.jsonl`);
  copyFileSync(ORPHAN_AT_END, file);
  return { claudeDir, file };
}

const streamBody = (extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'claude-test', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra, stream: true });

describe('the snapshot of a lost session', () => {
  it('a cut stream writes <id>.recovery.json beside the session: valid, the same analysis as recover --dry-run, the session untouched', async () => {
    const { claudeDir, file } = claudeDirWithSession();
    const before = fileSha256(file);
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 1000, snapshots: new SnapshotKeeper(claudeDir) });
    const a = await send(s.guard.url, { body: streamBody(), headers: { 'x-claude-code-session-id': SESSION } }).answer;
    expect(a.complete).toBe(false);
    const lost = await s.next('lost');
    const target = liveSnapshotPath(file);
    expect(target).toBe(file.replace(/\.jsonl$/, '.recovery.json'));
    expect(lost).toMatchObject({ cause: 'silent', sessionId: SESSION, blocks: 1 });
    expect(lost.snapshot).toEqual({ sessionId: SESSION, file, snapshot: target, phase: expect.any(String), pendingCalls: 1, error: null });

    const written = RecoverySnapshot.parse(JSON.parse(readFileSync(target, 'utf8')));
    expect(written.session_id).toBe(SESSION);
    expect(written.source_file).toBe(file);
    expect(written.disconnect_phase).toBe(lost.snapshot!.phase);
    expect(written.active_tool_calls.map((c) => c.tool)).toEqual(['Task']);

    const cli = ccrescue(['recover', file, '--dry-run', '--json', '--claude-dir', claudeDir]);
    expect(cli.code).toBe(0);
    const expected = (JSON.parse(cli.stdout) as { snapshot: RecoverySnapshot }).snapshot;
    expect(written.findings.map((f) => [f.code, f.line])).toEqual(expected.findings.map((f) => [f.code, f.line]));
    expect(written.findings.map((f) => f.code)).toContain('orphaned-tool-use');
    expect(written.active_tool_calls).toEqual(expected.active_tool_calls);
    // All of it, but for the time and the fresh id a dry run draws for the repaired session.
    const comparable = (x: RecoverySnapshot): unknown => JSON.parse(JSON.stringify({ ...x, created_at: null }).replaceAll(x.repaired_session_id ?? '\0', 'NEW-ID'));
    expect(comparable(written)).toEqual(comparable(expected));

    // The session file's bytes are unchanged; the snapshot is the only file added (the dry run wrote nothing).
    expect(fileSha256(file)).toBe(before);
    expect(Object.keys(tree(claudeDir)).sort()).toEqual([`projects/-tmp-project/${SESSION}.jsonl`, `projects/-tmp-project/${SESSION}.recovery.json`]);
  });

  it('the session named by metadata.user_id (older form) gets its snapshot too', async () => {
    const { claudeDir, file } = claudeDirWithSession();
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 1000, snapshots: new SnapshotKeeper(claudeDir) });
    await send(s.guard.url, { body: streamBody({ metadata: { user_id: `user_abc123_account_11111111-2222-4333-8444-555555555555_session_${SESSION}` } }) }).answer;
    const lost = await s.next('lost');
    expect(lost.snapshot).toMatchObject({ snapshot: liveSnapshotPath(file), error: null });
    expect(existsSync(liveSnapshotPath(file))).toBe(true);
  });

  it('an unknown session: a lost event with the snapshot error, and no file written', async () => {
    const { claudeDir } = claudeDirWithSession();
    const before = tree(claudeDir);
    const unknown = '99999999-8888-4777-8666-555555555555';
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 1000, snapshots: new SnapshotKeeper(claudeDir) });
    await send(s.guard.url, { body: streamBody(), headers: { 'x-claude-code-session-id': unknown } }).answer;
    const lost = await s.next('lost');
    expect(lost).toMatchObject({ cause: 'silent', sessionId: unknown });
    expect(lost.snapshot).toEqual({ sessionId: unknown, file: null, snapshot: null, phase: null, pendingCalls: 0, error: `no session file for ${unknown} under ${join(claudeDir, 'projects')} yet` });
    // Not a plain id (a path, say): never looked up as a file.
    await send(s.guard.url, { body: streamBody(), headers: { 'x-claude-code-session-id': `../../${SESSION}` } }).answer;
    const odd = await s.next('lost', (e) => e.sessionId === `../../${SESSION}`);
    expect(odd.snapshot).toMatchObject({ file: null, snapshot: null });
    await s.guard.close();
    expect(tree(claudeDir)).toEqual(before);
  });

  it('a request without a session: lost with no snapshot', async () => {
    const { claudeDir } = claudeDirWithSession();
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 1000, snapshots: new SnapshotKeeper(claudeDir) });
    await send(s.guard.url, { body: streamBody() }).answer;
    expect(await s.next('lost')).toMatchObject({ sessionId: null, snapshot: null });
  });

  it('concurrent losses of one session coalesce: one snapshot running, one more queued after it', async () => {
    const { claudeDir, file } = claudeDirWithSession();
    const keeper = new SnapshotKeeper(claudeDir);
    const first = keeper.take(SESSION);
    const second = keeper.take(SESSION);
    const third = keeper.take(SESSION);
    expect(second).toBe(third); // folded into the one run queued after the running one
    expect(second).not.toBe(first);
    const outcomes = await Promise.all([first, second, third]);
    for (const o of outcomes) expect(o).toMatchObject({ sessionId: SESSION, snapshot: liveSnapshotPath(file), error: null });
    await keeper.settled();
    // Another session is not held up by this one's.
    const other = keeper.take('99999999-8888-4777-8666-555555555555');
    expect(keeper.take(SESSION)).not.toBe(other);
    await keeper.settled();

    // Through the guard: three streams of the session cut at once, three lost events, one valid file.
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 1000, snapshots: new SnapshotKeeper(claudeDir) });
    await Promise.all([1, 2, 3].map(() => send(s.guard.url, { body: streamBody(), headers: { 'x-claude-code-session-id': SESSION } }).answer));
    await s.guard.close(); // waits for the snapshots under way
    const lost = s.events.filter((e) => e.type === 'lost');
    expect(lost).toHaveLength(3);
    for (const e of lost) expect(e.snapshot).toMatchObject({ snapshot: liveSnapshotPath(file), error: null });
    RecoverySnapshot.parse(JSON.parse(readFileSync(liveSnapshotPath(file), 'utf8')));
  });

  it('an outage snapshots each session that meets it once, not on every retry', async () => {
    const { claudeDir, file } = claudeDirWithSession();
    const port = await freePort();
    const s = await startGuard({ upstream: `http://127.0.0.1:${port}`, maxWaitMs: 300, snapshots: new SnapshotKeeper(claudeDir) });
    const answers = await Promise.all([1, 2].map(() => send(s.guard.url, { body: streamBody(), headers: { 'x-claude-code-session-id': SESSION } }).answer));
    expect(answers.map((a) => a.status)).toEqual([502, 502]);
    await s.guard.close();
    const lost = s.events.filter((e) => e.type === 'lost');
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ cause: 'unreachable', sessionId: SESSION, snapshot: { snapshot: liveSnapshotPath(file), error: null } });
  });
});
