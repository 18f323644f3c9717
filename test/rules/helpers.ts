// Shared machinery of the per-rule tables: a builder for small, realistic Claude Code transcripts,
// the corpus and fixture paths, and the ESLint-style runner (`valid` / `invalid` tables).

import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeSession } from '../../src/analyze.js';
import { recover } from '../../src/recover.js';
import { branchMessages, type ApiMessage } from '../../src/index/api-messages.js';
import { atLeast } from '../../src/index/version.js';
import { validateMessagesRequest } from '../../src/validate/messages-api.js';
import type { Finding, Rule, Severity } from '../../src/rules/types.js';

// ---------------------------------------------------------------------------------------------
// Paths

export const REPO = resolve(import.meta.dirname, '..', '..');
/** The shared corpus of real transcripts (/work/shared/corpus; MANIFEST.md says which file holds what). */
export const CORPUS = resolve(REPO, '..', 'shared', 'corpus');

/** A session as the tests hand it to the analyser: the file and the Claude dir beside it (null: none). */
export interface Fixture {
  file: string;
  claudeDir: string | null;
  /** Where the session's files are on disk, when not its cwd. */
  projectDir?: string;
}

/** A real transcript of the corpus, used in place (analysis and `recover --out` never write to it). */
export const corpus = (path: string) => (): Fixture => {
  const file = join(CORPUS, path);
  if (!existsSync(file)) throw new Error(`corpus file missing: ${file}`);
  return { file, claudeDir: null };
};

/** A checked-in fixture of fixtures/rules/<code>/, or any repo path. */
export const repoFile = (path: string, claudeDir: string | null = null) => (): Fixture => {
  const file = join(REPO, path);
  if (!existsSync(file)) throw new Error(`fixture missing: ${file}`);
  return { file, claudeDir: claudeDir === null ? null : join(REPO, claudeDir) };
};

let root: Promise<string> | null = null;
/** A fresh directory under this test file's temp root (removed after the file's tests). */
export async function tempDir(prefix = 'case-'): Promise<string> {
  root ??= mkdtemp(join(tmpdir(), 'ccrescue-rules-')).then((d) => realpath(d));
  return mkdtemp(join(await root, prefix));
}

async function removeTempRoot(): Promise<void> {
  if (root) await rm(await root, { recursive: true, force: true });
  root = null;
}

/** `line` as bytes, with `marker` replaced by raw `bytes` (NULs, invalid UTF-8: never stored as text). */
export function withBytes(line: string, marker: string, bytes: number[] | Buffer): Buffer {
  const at = line.indexOf(marker);
  if (at === -1) throw new Error(`withBytes: ${marker} not in the line`);
  return Buffer.concat([Buffer.from(line.slice(0, at), 'utf8'), Buffer.from(bytes), Buffer.from(line.slice(at + marker.length), 'utf8')]);
}

/** A pid no process has: above the largest pid_max Linux allows (2^22). */
export const DEAD_PID = 4_194_304 + 12_345;

// ---------------------------------------------------------------------------------------------
// Content blocks, in the shapes Claude Code writes them

export type Block = Record<string, unknown>;
export const text = (value: string): Block => ({ type: 'text', text: value });
export const thinking = (value: string, signature = `Eu8B${randomBytes(24).toString('base64')}`): Block => ({ type: 'thinking', thinking: value, signature });
export const toolUse = (id: string, name: string, input: Record<string, unknown>): Block => ({ type: 'tool_use', id, name, input });
export const toolResult = (id: string, content: string | Block[], isError = false): Block => ({
  tool_use_id: id,
  type: 'tool_result',
  content,
  ...(isError ? { is_error: true } : {}),
});

export const INTERRUPTED_BY_USER = '[Request interrupted by user]';
export const INTERRUPTED_FOR_TOOL_USE = '[Request interrupted by user for tool use]';
export const REJECTED_TOOL_USE =
  "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, the new_string was NOT written to the file). STOP what you are doing and wait for the user to tell you how to proceed.";
/** Claude Code 2.1.328's own result for a call a crash cut off (docs/real-client-2.1.328.md §1). */
export const CLIENT_INTERRUPTED_RESULT =
  "[Tool call interrupted: the session ended before this call's result was recorded, so its outcome is unknown. Check whether it took effect before relying on it or running it again.]";

const base62 = (n: number) => {
  const chars = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(n)].map((b) => chars[b % 62]).join('');
};
export const messageId = () => `msg_01${base62(22)}`;

// ---------------------------------------------------------------------------------------------
// The transcript builder

export interface EntryOptions {
  /** parentUuid; by default the uuid of the previous chain entry (Claude Code writes one linear chain). */
  parent?: string | null;
  uuid?: string;
  isSidechain?: boolean;
  isMeta?: boolean;
  version?: string;
  /** Further top-level fields (isCompactSummary, toolUseResult…). */
  extra?: Record<string, unknown>;
}

export interface AssistantOptions extends EntryOptions {
  /** message.id; a fresh msg_… by default. Pass the id of an earlier line to continue its message. */
  id?: string;
  /** stop_reason of every block line; by default what the version writes for a complete message. */
  stop?: string | null;
  model?: string;
}

export interface TranscriptOptions {
  version?: string;
  sessionId?: string;
  cwd?: string;
  /** ISO time of the first entry; each later entry is one second after the previous one. */
  start?: string;
}

/**
 * Builds a session file line by line, with the envelope Claude Code writes (uuid, parentUuid,
 * sessionId, timestamp, version, cwd, gitBranch, userType). Every method appends exactly one
 * physical line, except `assistant`, which writes one line per content block, as Claude Code does.
 */
export class Transcript {
  readonly sessionId: string;
  readonly version: string;
  readonly cwd: string;
  /** uuid of the last chain entry: the default parent of the next one. */
  last: string | null = null;
  /** The same for sidechain entries (a subagent's own chain inside the file, 1.0.x). */
  private lastSidechain: string | null = null;
  private readonly lines: (string | Buffer)[] = [];
  private clock: number;
  private readonly toolUseOwner = new Map<string, string>();

  constructor(o: TranscriptOptions = {}) {
    this.sessionId = o.sessionId ?? randomUUID();
    this.version = o.version ?? '2.1.39';
    this.cwd = o.cwd ?? '/home/user/proj';
    this.clock = Date.parse(o.start ?? '2026-02-11T20:36:00.000Z');
  }

  /** Number of lines written so far: the line number of the last line. */
  get lineCount(): number {
    return this.lines.length;
  }

  /** The line number the next line will get. */
  get next(): number {
    return this.lines.length + 1;
  }

  private tick(): string {
    const t = new Date(this.clock).toISOString();
    this.clock += 1000;
    return t;
  }

  private envelope(type: string, o: EntryOptions): Record<string, unknown> {
    return {
      parentUuid: o.parent !== undefined ? o.parent : o.isSidechain ? this.lastSidechain : this.last,
      isSidechain: o.isSidechain ?? false,
      userType: 'external',
      cwd: this.cwd,
      sessionId: this.sessionId,
      version: o.version ?? this.version,
      gitBranch: 'main',
      type,
    };
  }

  private chain(entry: Record<string, unknown>, o: EntryOptions): string {
    const uuid = o.uuid ?? randomUUID();
    Object.assign(entry, { uuid, timestamp: this.tick() }, o.isMeta ? { isMeta: true } : {}, o.extra ?? {});
    this.lines.push(JSON.stringify(entry));
    if (o.isSidechain) this.lastSidechain = uuid;
    else this.last = uuid;
    return uuid;
  }

  /** A user entry: a typed prompt (string content) or an array of blocks. Returns its uuid. */
  user(content: string | Block[], o: EntryOptions = {}): string {
    const entry = this.envelope('user', o);
    entry.message = { role: 'user', content };
    if (typeof content === 'string' && !o.isMeta) entry.permissionMode = 'default';
    return this.chain(entry, o);
  }

  /** A tool-result carrier: one tool_result block, with toolUseResult and sourceToolAssistantUUID. */
  result(toolUseId: string, content: string, o: EntryOptions & { isError?: boolean } = {}): string {
    const entry = this.envelope('user', o);
    entry.message = { role: 'user', content: [toolResult(toolUseId, content, o.isError)] };
    const owner = this.toolUseOwner.get(toolUseId);
    return this.chain(entry, { ...o, extra: { toolUseResult: o.isError ? `Error: ${content}` : { stdout: content, stderr: '', interrupted: false }, ...(owner ? { sourceToolAssistantUUID: owner } : {}), ...o.extra } });
  }

  /**
   * One API response: one line per block, all with the same message.id and requestId. Returns the
   * uuid of its last line.
   */
  assistant(blocks: Block | Block[], o: AssistantOptions = {}): string {
    const list = Array.isArray(blocks) ? blocks : [blocks];
    const id = o.id ?? messageId();
    const requestId = `req_011C${base62(20)}`;
    const version = o.version ?? this.version;
    const complete = list.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
    // From 2.1.100 on every block line carries the final stop_reason; older clients wrote null.
    const stop = o.stop !== undefined ? o.stop : atLeast(version, '2.1.100') ? complete : null;
    let uuid = '';
    const write = (content: Block[]) => {
      const entry = this.envelope('assistant', o);
      entry.message = {
        model: o.model ?? 'claude-opus-4-6',
        id,
        type: 'message',
        role: 'assistant',
        content,
        stop_reason: stop,
        stop_sequence: null,
        usage: { input_tokens: 3, cache_creation_input_tokens: 512, cache_read_input_tokens: 17842, output_tokens: 24, service_tier: 'standard' },
      };
      entry.requestId = requestId;
      uuid = this.chain(entry, o);
      for (const b of content) if (b.type === 'tool_use' && typeof b.id === 'string') this.toolUseOwner.set(b.id, uuid);
    };
    if (list.length === 0) write([]);
    for (const b of list) write([b]);
    return uuid;
  }

  /** Claude Code's synthetic assistant line recording an API failure (C15). */
  apiError(message: string, o: EntryOptions = {}): string {
    const entry = this.envelope('assistant', o);
    entry.message = {
      id: randomUUID(),
      container: null,
      model: '<synthetic>',
      role: 'assistant',
      stop_reason: 'stop_sequence',
      stop_sequence: '',
      type: 'message',
      usage: { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      content: [text(message)],
    };
    return this.chain(entry, { ...o, extra: { error: 'unknown', isApiErrorMessage: true, ...o.extra } });
  }

  /** A system entry (api_error retry, compact_boundary, turn_duration, local_command…). */
  system(subtype: string, fields: Record<string, unknown> = {}, o: EntryOptions = {}): string {
    const entry = { ...this.envelope('system', o), subtype, ...fields };
    return this.chain(entry, o);
  }

  /** One system/api_error retry entry, as 2.1.x writes while it retries a failed request. */
  retry(attempt: number, status = 529): string {
    const requestID = `req_011C${base62(20)}`;
    return this.system('api_error', {
      level: 'error',
      error: { status, headers: {}, requestID, error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: requestID } },
      retryInMs: 500 * 2 ** attempt,
      retryAttempt: attempt,
      maxRetries: 10,
    });
  }

  /** A compaction: compact_boundary (parentUuid null) and the isCompactSummary user entry after it. */
  compact(summary = 'This session is being continued from a previous conversation that ran out of context. The conversation is summarized below:\nThe user asked for a refactor.'): string {
    const before = this.last;
    this.system('compact_boundary', { content: 'Conversation compacted', level: 'info', logicalParentUuid: before, compactMetadata: { trigger: 'auto', preTokens: 155000 } }, { parent: null });
    return this.user(summary, { extra: { isCompactSummary: true, isVisibleInTranscriptOnly: true } });
  }

  /** A line that is not in the chain (summary, file-history-snapshot, last-prompt, queue-operation…). */
  entry(value: unknown): this {
    this.lines.push(JSON.stringify(value));
    return this;
  }

  /** A file-history-snapshot line for the prompt `messageId`. */
  snapshot(messageRef: string): this {
    return this.entry({ type: 'file-history-snapshot', messageId: messageRef, snapshot: { messageId: messageRef, trackedFileBackups: {}, timestamp: new Date(this.clock).toISOString() }, isSnapshotUpdate: false });
  }

  /** A last-prompt pin (2.1.145+) on `leafUuid`. */
  lastPrompt(lastPrompt: string, leafUuid = this.last): this {
    return this.entry({ type: 'last-prompt', lastPrompt, leafUuid, sessionId: this.sessionId });
  }

  /** A line written as given: text, or exact bytes (NULs, invalid UTF-8). */
  raw(line: string | Buffer): this {
    this.lines.push(line);
    return this;
  }

  /**
   * Cuts the last line written, as a crash mid-append does: to `at` characters, or just after the
   * first occurrence of `at` when it is a string.
   */
  cutLast(at: number | string): this {
    const line = this.lines[this.lines.length - 1];
    if (typeof line !== 'string') throw new Error('cutLast: no text line to cut');
    const end = typeof at === 'number' ? at : line.indexOf(at) + at.length;
    if (end <= 0 || end >= line.length) throw new Error(`cutLast: ${JSON.stringify(at)} does not cut the line`);
    this.lines[this.lines.length - 1] = line.slice(0, end);
    return this;
  }

  /** The text of line `n` (1-based), to damage it or glue it to another. */
  line(n: number): string {
    const line = this.lines[n - 1];
    if (typeof line !== 'string') throw new Error(`line ${n} is not a text line`);
    return line;
  }

  /** Replaces line `n` (1-based) with other text or bytes. */
  replace(n: number, line: string | Buffer): this {
    if (n < 1 || n > this.lines.length) throw new Error(`no line ${n}`);
    this.lines[n - 1] = line;
    return this;
  }

  /** Removes line `n` (1-based): the lines after it move up one. */
  remove(n: number): this {
    if (n < 1 || n > this.lines.length) throw new Error(`no line ${n}`);
    this.lines.splice(n - 1, 1);
    return this;
  }

  /** The file's bytes: lines joined by `\n`, with a final newline unless told otherwise. */
  bytes(trailingNewline = true): Buffer {
    const parts: Buffer[] = [];
    this.lines.forEach((line, i) => {
      parts.push(typeof line === 'string' ? Buffer.from(line, 'utf8') : line);
      if (i < this.lines.length - 1 || trailingNewline) parts.push(Buffer.from('\n'));
    });
    return Buffer.concat(parts);
  }

  /**
   * Writes the session as `<claude>/projects/-home-user-proj/<sessionId>.jsonl` in a fresh temp
   * directory, with `sessions/<pid>.json` process records if given.
   */
  async write(o: { trailingNewline?: boolean; clients?: Record<string, unknown>[] } = {}): Promise<Fixture> {
    const claudeDir = join(await tempDir(), 'claude');
    const projectDir = join(claudeDir, 'projects', this.cwd.replace(/[^A-Za-z0-9]/g, '-'));
    await mkdir(projectDir, { recursive: true });
    const file = join(projectDir, `${this.sessionId}.jsonl`);
    await writeFile(file, this.bytes(o.trailingNewline ?? true));
    if (o.clients) {
      await mkdir(join(claudeDir, 'sessions'));
      for (const c of o.clients) await writeFile(join(claudeDir, 'sessions', `${String(c.pid)}.json`), JSON.stringify(c));
    }
    return { file, claudeDir };
  }
}

/** A healthy two-turn conversation to build damage on: prompt, answer, prompt with a tool call, answer. */
export function healthy(o: TranscriptOptions = {}): Transcript {
  const t = new Transcript(o);
  t.user('What does this project do?');
  t.assistant(text('It is a small CLI that prints a greeting.'));
  t.user('List the source files.');
  t.assistant([text('Listing them.'), toolUse('toolu_01ListFilesXq3LwT8N5bUp', 'Bash', { command: 'ls src', description: 'List source files' })]);
  t.result('toolu_01ListFilesXq3LwT8N5bUp', 'greet.js\nmain.js');
  t.assistant(text('There are two: greet.js and main.js.'));
  return t;
}

// ---------------------------------------------------------------------------------------------
// The tables

export interface ValidCase {
  name: string;
  session: () => Fixture | Promise<Fixture>;
  /**
   * A known bug outside src/rules makes this case fail today: it runs as `it.fails`, so the table
   * says loudly (by failing) when the bug is fixed and the mark must go.
   */
  knownBug?: string;
}

export interface ExpectedFinding {
  line: number;
  severity: Severity;
  /** A substring of the finding's message, or a pattern it matches. */
  message: string | RegExp;
  related?: number[];
  toolUseId?: string;
}

export interface InvalidCase extends ValidCase {
  findings: ExpectedFinding[];
  /** For rules with a fix: the repair is checked unless this says why it cannot succeed. */
  noRecovery?: string;
  /** Further checks on the messages a client would send from the repaired session. */
  repaired?: (messages: ApiMessage[]) => void;
}

export interface RuleTables {
  valid: ValidCase[];
  invalid: InvalidCase[];
}

/** The findings of one code in a session, as the CLI reports them. */
export async function findingsOf(code: string, fx: Fixture): Promise<Finding[]> {
  const a = await analyzeSession(fx.file, { claudeDir: fx.claudeDir, ...(fx.projectDir ? { projectDir: fx.projectDir } : {}) });
  a.loader.close();
  return a.findings.filter((f) => f.code === code);
}

function expectedShape(code: string, e: ExpectedFinding) {
  return {
    code,
    line: e.line,
    severity: e.severity,
    message: typeof e.message === 'string' ? expect.stringContaining(e.message) : expect.stringMatching(e.message),
    ...(e.related ? { related: e.related } : {}),
    ...(e.toolUseId ? { toolUseId: e.toolUseId } : {}),
  };
}

/**
 * Repairs a copy (`recover --out`) and checks that the rule's finding is gone, that the repaired
 * branch is a valid Messages API request, and that a second recover finds nothing to repair. The
 * repaired file is judged on its own (no Claude dir): process records name the original session.
 */
export async function expectRepaired(code: string, fx: Fixture, check?: (messages: ApiMessage[]) => void): Promise<void> {
  const dir = await tempDir('out-');
  const out = join(dir, 'repaired.jsonl');
  const first = await recover({ file: fx.file, claudeDir: fx.claudeDir, out, ...(fx.projectDir ? { projectDir: fx.projectDir } : {}) });
  expect(first.status).toBe('repaired');
  expect(first.written.session).toBe(out);

  // The copy lies outside Claude Code's folder for its cwd: the project dir the first run used is named.
  const projectDir = first.analysis.projectDir ?? undefined;
  const again = await analyzeSession(out, { claudeDir: null, ...(projectDir ? { projectDir } : {}) });
  try {
    expect(again.findings.filter((f) => f.code === code)).toEqual([]);
    const messages = branchMessages(again.index, again.loader);
    check?.(messages);
    if (messages.length === 0 || messages[messages.length - 1]!.role === 'assistant') messages.push({ role: 'user', content: [text('Please continue.')] });
    expect(validateMessagesRequest({ model: 'm', max_tokens: 1, messages })).toEqual([]);
  } finally {
    again.loader.close();
  }

  const second = await recover({ file: out, claudeDir: null, out: join(dir, 'second.jsonl'), ...(projectDir ? { projectDir } : {}) });
  expect(second.analysis.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
  expect(second.status).toBe('healthy');
}

/** Runs a rule's tables: every valid case has no finding of its code, every invalid case exactly the listed ones. */
export function ruleTester(rule: Rule, tables: RuleTables): void {
  const { code } = rule.meta;
  afterAll(removeTempRoot);

  describe(code, () => {
    it('has cases on both sides', () => {
      expect(tables.valid.length).toBeGreaterThan(0);
      expect(tables.invalid.length).toBeGreaterThan(0);
      const names = [...tables.valid, ...tables.invalid].map((c) => c.name);
      expect(new Set(names).size).toBe(names.length);
    });

    describe('valid', () => {
      for (const c of tables.valid) {
        (c.knownBug ? it.fails : it)(c.knownBug ? `${c.name} [known bug: ${c.knownBug}]` : c.name, async () => {
          const fx = await c.session();
          expect(await findingsOf(code, fx)).toEqual([]);
        });
      }
    });

    describe('invalid', () => {
      for (const c of tables.invalid) {
        (c.knownBug ? it.fails : it)(c.knownBug ? `${c.name} [known bug: ${c.knownBug}]` : c.name, async () => {
          const fx = await c.session();
          const found = await findingsOf(code, fx);
          expect(found).toEqual(c.findings.map((e) => expect.objectContaining(expectedShape(code, e))));
          if (rule.meta.fix && c.noRecovery === undefined) await expectRepaired(code, fx, c.repaired);
          else if (c.repaired) throw new Error(`${c.name}: repaired() given, but the session is not repaired here`);
        });
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Real sessions with no finding at all, one or two per client generation (the `valid` side of every table)

const DAAAIN = 'daaain__claude-code-log/test/test_data/real_projects';
export const HEALTHY_CORPUS: readonly { version: string; what: string; path: string }[] = [
  { version: '1.0.24', what: 'first 1.0.x session', path: `${DAAAIN}/-Users-dain-workspace-claude-code-log-sample/fe869ecb-c176-478f-9734-7e4b8ef12cff.jsonl` },
  { version: '1.0.56', what: '1.0.x session with tool calls', path: `${DAAAIN}/-Users-dain-workspace-claude-code-log-sample/12a546d1-83a7-49a6-abba-5400db340b43.jsonl` },
  { version: '1.0.128', what: 'last 1.0.x', path: `${DAAAIN}/-Users-dain-workspace-danieldemmel-me-next/4379d1bf-ccb1-414e-a856-9791b73f3af2.jsonl` },
  { version: '2.0.74', what: 'main session beside its warm-up agent files', path: 'kfischer-okarin__scripts-and-tools/src/claude-history/test/fixtures/claude-projects/-Users-user-project/0d3b22c1-ba90-4fd3-b8d2-056ffc626725.jsonl' },
  { version: '2.0.76', what: 'compacted session', path: 'codemie-ai__codemie-code/tests/integration/session/fixtures/session-624a4a58.jsonl' },
  { version: '2.1.5', what: 'Entire copy (no final newline)', path: 'entireio__cli/82/94a9921cfd/0/full.jsonl' },
  { version: '2.1.14', what: 'snapshot-test recording', path: 'DRMacIver__claude-reliability/snapshot-tests/tests/hello-world-script/transcript.jsonl' },
  { version: '2.1.19', what: 'Entire copy ending on a complete line without newline', path: 'entireio__cli/10/a740e118e0/0/full.jsonl' },
  { version: '2.1.39', what: 'compacted session with hooks and thinking', path: 'marot__spotter/test/fixtures/transcripts/258c7280-ae70-4798-800f-63464d01a85d.jsonl' },
  { version: '2.1.42', what: 'session with hook progress', path: `${DAAAIN}/-experiments-ideas/03eb5929-52b3-4b13-ada3-b93ae35806b8.jsonl` },
  { version: '2.1.114', what: 'session with attachments and last-prompt lines', path: `${DAAAIN}/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl` },
  { version: '2.1.114', what: 'subagent file (every entry a sidechain)', path: `${DAAAIN}/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1/subagents/agent-a4ca7529859c158c2.jsonl` },
  { version: '2.1.152', what: 'sdk-cli session with a last-prompt pin', path: 'kvsankar__agent-history/tests/fixtures/real_sessions/claude/session-01.jsonl' },
];

/** The healthy corpus sessions as `valid` cases. */
export function healthyCorpus(): ValidCase[] {
  return HEALTHY_CORPUS.map((c) => ({ name: `corpus ${c.version}: ${c.what}`, session: corpus(c.path) }));
}
