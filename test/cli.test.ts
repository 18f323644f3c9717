import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ccrescue } from './helpers/cli.js';
import { CORPUS } from './helpers/corpus.js';

// A genuine 2.1.4 session copied while its Task call ran: one orphaned tool_use at the end.
const ORPHAN_AT_END = join(CORPUS, 'entireio__cli/4c/02af2759b6/0/full.jsonl');
const ORPHAN_SESSION_ID = '5a3bb1c8-c3ce-466e-b487-24212cbf1da1';
// A genuine healthy 2.1.14 session.
const HEALTHY = join(CORPUS, 'DRMacIver__claude-reliability/snapshot-tests/tests/hello-world-script/transcript.jsonl');

/** A throwaway Claude dir holding one session file under a project folder. */
function claudeDirWith(source: string, sessionId: string, folder = '-tmp-project') {
  const claudeDir = mkdtempSync(join(tmpdir(), 'ccrescue-cli-'));
  const projectFolder = join(claudeDir, 'projects', folder);
  mkdirSync(projectFolder, { recursive: true });
  const file = join(projectFolder, `${sessionId}.jsonl`);
  copyFileSync(source, file);
  return { claudeDir, projectFolder, file };
}

const noStack = (s: string) => expect(s).not.toMatch(/^\s+at /m);

describe('ccrescue recover: exit codes and errors', () => {
  it('a missing file is bad input: exit 2, one line naming the file, no stack trace', () => {
    const r = ccrescue(['recover', '/nonexistent/session.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('/nonexistent/session.jsonl: no such file');
    noStack(r.stderr);
  });

  it('a Codex rollout is refused with the file and line: exit 2', () => {
    const codex = join(CORPUS, 'kvsankar__agent-history/tests/fixtures/real_sessions/codex/session-01.jsonl');
    const r = ccrescue(['recover', codex, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${codex.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: not a Claude Code session \\(this is a Codex CLI rollout\\)`));
    noStack(r.stderr);
  });

  it('an unknown option is bad usage: exit 2', () => {
    expect(ccrescue(['recover', HEALTHY, '--no-such-flag']).code).toBe(2);
  });

  it('an unknown session id under the Claude dir is bad input: exit 2', () => {
    const { claudeDir } = claudeDirWith(HEALTHY, '11111111-2222-4333-8444-555555555555');
    const r = ccrescue(['recover', 'deadbeef', '--claude-dir', claudeDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no session matches "deadbeef"');
  });
});

describe('ccrescue recover --json', () => {
  it('prints exactly one JSON document on stdout', () => {
    const r = ccrescue(['recover', ORPHAN_AT_END, '--dry-run', '--json', '--claude-dir', mkdtempSync(join(tmpdir(), 'cc-'))]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { status: string; snapshot: { findings: { code: string; line: number }[]; active_tool_calls: { tool: string }[] } };
    expect(doc.status).toBe('planned');
    expect(doc.snapshot.findings).toContainEqual(expect.objectContaining({ code: 'orphaned-tool-use', line: 6 }));
    expect(doc.snapshot.active_tool_calls.map((c) => c.tool)).toEqual(['Task']);
  });
});

describe('ccrescue recover: the default writes a new session beside the original', () => {
  it('fresh id, every sessionId rewritten, snapshot beside it, original untouched, resume command printed', () => {
    const { claudeDir, projectFolder, file } = claudeDirWith(ORPHAN_AT_END, ORPHAN_SESSION_ID);
    const original = readFileSync(file);
    const r = ccrescue(['recover', ORPHAN_SESSION_ID.slice(0, 8), '--claude-dir', claudeDir]);
    expect(r.code).toBe(0);
    expect(readFileSync(file).equals(original)).toBe(true);
    const created = readdirSync(projectFolder).filter((n) => n !== basename(file));
    const sessionName = created.find((n) => n.endsWith('.jsonl'))!;
    const newId = basename(sessionName, '.jsonl');
    expect(newId).toMatch(/^[0-9a-f-]{36}$/);
    expect(created).toContain(`${newId}.recovery.json`);
    const text = readFileSync(join(projectFolder, sessionName), 'utf8');
    expect(text).not.toContain(ORPHAN_SESSION_ID);
    expect(text).toContain(`"sessionId":"${newId}"`);
    expect(r.stdout).toContain(`claude --resume ${newId} '[Recovered session]`);
    const snapshot = JSON.parse(readFileSync(join(projectFolder, `${newId}.recovery.json`), 'utf8')) as { session_id: string; repaired_session_id: string; continuation_prompt: string };
    expect(snapshot.session_id).toBe(ORPHAN_SESSION_ID);
    expect(snapshot.repaired_session_id).toBe(newId);
    expect(snapshot.continuation_prompt).toContain('Task');
  });

  it('a healthy session is reported healthy and nothing is written', () => {
    const { claudeDir, projectFolder } = claudeDirWith(HEALTHY, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
    const r = ccrescue(['recover', 'aaaaaaaa', '--claude-dir', claudeDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('healthy: nothing to recover');
    expect(readdirSync(projectFolder)).toEqual(['aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee.jsonl']);
  });

  it('without a session, takes the newest session of the current directory', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ccrescue-cwd-'));
    const { claudeDir } = claudeDirWith(ORPHAN_AT_END, ORPHAN_SESSION_ID, cwd.replace(/[^A-Za-z0-9]/g, '-'));
    const r = ccrescue(['recover', '--dry-run', '--json'], { cwd, env: { CLAUDE_CONFIG_DIR: claudeDir } });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { file: string }).file).toContain(ORPHAN_SESSION_ID);
  });
});

describe('ccrescue recover --in-place', () => {
  it('writes a complete byte-identical backup before replacing the original', () => {
    const { claudeDir, projectFolder, file } = claudeDirWith(ORPHAN_AT_END, ORPHAN_SESSION_ID);
    const original = readFileSync(file);
    const r = ccrescue(['recover', file, '--in-place', '--claude-dir', claudeDir]);
    expect(r.code).toBe(0);
    const backup = readdirSync(projectFolder).find((n) => n.includes('.bak-'))!;
    expect(backup).toMatch(/\.jsonl\.bak-\d{8}T\d{6}Z$/);
    expect(readFileSync(join(projectFolder, backup)).equals(original)).toBe(true);
    const repaired = readFileSync(file, 'utf8');
    expect(repaired.startsWith(original.toString('utf8'))).toBe(true); // untouched lines keep their bytes
    expect(repaired).toContain('connection_lost');
    expect(existsSync(join(projectFolder, `${ORPHAN_SESSION_ID}.recovery.json`))).toBe(true);
    // Recovering the repaired session again finds nothing to do.
    const again = ccrescue(['recover', file, '--dry-run', '--json', '--claude-dir', claudeDir]);
    expect((JSON.parse(again.stdout) as { status: string }).status).toBe('healthy');
  });
});

describe('ccrescue recover --in-place on a crashed session', () => {
  it('the dead client\'s record, older than the repair, no longer counts: a second run finds the session healthy', async () => {
    const { claudeDir, file } = claudeDirWith(ORPHAN_AT_END, ORPHAN_SESSION_ID);
    mkdirSync(join(claudeDir, 'sessions'));
    const record = join(claudeDir, 'sessions', '999999.json');
    writeFileSync(record, JSON.stringify({ pid: 999999, sessionId: ORPHAN_SESSION_ID, cwd: '/tmp/project', status: 'busy' }));
    const before = JSON.parse(ccrescue(['recover', file, '--dry-run', '--json', '--claude-dir', claudeDir]).stdout) as { snapshot: { findings: { code: string }[] } };
    expect(before.snapshot.findings.map((f) => f.code)).toContain('crashed-client');
    expect(ccrescue(['recover', file, '--in-place', '--claude-dir', claudeDir]).code).toBe(0);
    const again = JSON.parse(ccrescue(['recover', file, '--dry-run', '--json', '--claude-dir', claudeDir]).stdout) as { status: string; snapshot: { findings: { code: string }[] } };
    expect(again.snapshot.findings.map((f) => f.code)).not.toContain('crashed-client');
    expect(again.status).toBe('healthy');
    // A client that crashed on the session after that repair is a new crash, and is reported.
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(record, JSON.stringify({ pid: 999999, sessionId: ORPHAN_SESSION_ID, cwd: '/tmp/project', status: 'busy' }));
    const later = JSON.parse(ccrescue(['recover', file, '--dry-run', '--json', '--claude-dir', claudeDir]).stdout) as { snapshot: { findings: { code: string }[] } };
    expect(later.snapshot.findings.map((f) => f.code)).toContain('crashed-client');
  });
});

describe('ccrescue recover: live sessions', () => {
  function withProcessRecord(record: Record<string, unknown>) {
    const setup = claudeDirWith(ORPHAN_AT_END, ORPHAN_SESSION_ID);
    mkdirSync(join(setup.claudeDir, 'sessions'));
    writeFileSync(join(setup.claudeDir, 'sessions', `${String(record.pid)}.json`), JSON.stringify({ sessionId: ORPHAN_SESSION_ID, cwd: '/tmp/project', status: 'busy', ...record }));
    return setup;
  }

  it('refuses a session whose client is running (exit 3) unless --force', () => {
    const { claudeDir, file } = withProcessRecord({ pid: process.pid });
    const refused = ccrescue(['recover', file, '--claude-dir', claudeDir]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`pid ${process.pid}`);
    noStack(refused.stderr);
    expect(ccrescue(['recover', file, '--dry-run', '--force', '--claude-dir', claudeDir]).code).toBe(0);
  });

  it('a reused pid whose start time differs from the record is not the owner: the client crashed', () => {
    const { claudeDir, file } = withProcessRecord({ pid: process.pid, procStart: '1' });
    const r = ccrescue(['recover', file, '--dry-run', '--json', '--claude-dir', claudeDir]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { snapshot: { findings: { code: string }[]; crashed_clients: { pid: number }[] } };
    expect(doc.snapshot.findings.map((f) => f.code)).toContain('crashed-client');
    expect(doc.snapshot.crashed_clients.map((c) => c.pid)).toEqual([process.pid]);
  });
});
