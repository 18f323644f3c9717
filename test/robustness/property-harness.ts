// The harness of test/robustness/property.test.ts: the real sessions it damages, and one case run
// through `recover` with every invariant checked.

import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { recover, type RecoverResult } from '../../src/recover.js';
import { analyzeSession } from '../../src/analyze.js';
import { branchMessages } from '../../src/index/api-messages.js';
import { validateMessagesRequest } from '../../src/validate/messages-api.js';
import { ForeignFormatError, RecoveryFailed } from '../../src/errors.js';
import { RULES } from '../../src/rules/registry.js';
import { repairable, type Finding } from '../../src/rules/types.js';
import { CORPUS } from '../helpers/corpus.js';
import { joinLines, splitLines } from './damage.js';

// ---------------------------------------------------------------------------------------------
// The sessions: healthy genuine recordings of several client versions (MANIFEST.md).

export interface Session {
  name: string;
  bytes: Buffer;
  id: string;
  /** Lines of the original that are conversation entries (user/assistant with a uuid), as latin1 keys. */
  chainLines: Set<string>;
}

const PICKS: { name: string; path: string; lines?: number }[] = [
  { name: '1.0.56 Bash', path: 'slopus__happy-cli/src/claude/utils/__fixtures__/1-continue-run-ls-tool.jsonl' },
  { name: '1.0.98 parallel', path: 'd-kimuson__claude-code-viewer/mock-global-claude-dir/projects/sample-project/1af7fc5e-8455-4414-9ccd-011d40f70b2a.jsonl' },
  { name: '2.0.64 checkpoints', path: 'codemie-ai__codemie-code/tests/integration/session/fixtures/claude/-tmp-private/4c2ddfdc-b619-4525-8d03-1950fb1b0257.jsonl' },
  { name: '2.0.74 thinking', path: 'kfischer-okarin__scripts-and-tools/src/claude-history/test/fixtures/claude-projects/-Users-user-project/b3edadab-bca0-4054-9b41-f7ffa6941260.jsonl' },
  { name: '2.1.14 parallel', path: 'DRMacIver__claude-reliability/snapshot-tests/tests/coverage-test-fix/transcript.jsonl' },
  { name: '2.1.22 thinking+parallel', path: 'entireio__cli/5c/1039ad85f4/0/full.jsonl' },
  { name: '2.1.38 hooks', path: 'marot__spotter/test/fixtures/transcripts/short.jsonl' },
  { name: '2.1.152 last-prompt', path: 'kvsankar__agent-history/tests/fixtures/real_sessions/claude/session-01.jsonl' },
  // The file as it stood on disk after its 71st line (Claude Code only appends): a compaction, API
  // errors, thinking and a parallel batch, in 320 KB rather than 3 MB.
  { name: '2.1.5 compaction', path: 'entireio__cli/b0/2936744f3b/0/full.jsonl', lines: 71 },
];

export function loadSession(pick: (typeof PICKS)[number]): Session {
  let bytes: Buffer = readFileSync(join(CORPUS, pick.path));
  if (pick.lines !== undefined) {
    const l = splitLines(bytes);
    bytes = joinLines({ lines: l.lines.slice(0, pick.lines), trailingNewline: true });
  }
  const chainLines = new Set<string>();
  let id: string | undefined;
  for (const line of splitLines(bytes).lines) {
    const entry = JSON.parse(line.toString('utf8')) as Record<string, unknown>;
    id ??= typeof entry.sessionId === 'string' ? entry.sessionId : undefined;
    if ((entry.type === 'user' || entry.type === 'assistant') && typeof entry.uuid === 'string') chainLines.add(line.toString('latin1'));
    // A cwd that exists here would make file forensics depend on this machine.
    if (typeof entry.cwd === 'string' && existsSync(entry.cwd)) throw new Error(`${pick.path}: its cwd ${entry.cwd} exists on this machine`);
  }
  return { name: pick.name, bytes, id: id ?? randomUUID(), chainLines };
}

export const SESSIONS: Session[] = PICKS.map(loadSession);

// ---------------------------------------------------------------------------------------------
// One case

export const ROOT = mkdtempSync(join(tmpdir(), 'ccrescue-property-'));
let caseNo = 0;

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const META = new Map(RULES.map((r) => [r.meta.code, r.meta]));
/** A finding no repair takes away: its rule has no fix, or the fix leaves its kind as it is. */
const unfixable = (f: Finding) => !repairable(META.get(f.code)!, f);
const PROTO_KEYS = Reflect.ownKeys(Object.prototype).map(String).sort();
const ARRAY_PROTO_KEYS = Reflect.ownKeys(Array.prototype).map(String).sort();

function resumeRequest(messages: ReturnType<typeof branchMessages>) {
  return { model: 'claude-test', max_tokens: 1024, messages: [...messages, { role: 'user' as const, content: 'Please continue.' }] };
}

export type Outcome = 'repaired' | 'healthy' | 'planned' | 'refused-foreign' | 'failed';

/** Tallies of what the cases of one property came to, printed at its end. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(key: string) {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  toString() {
    return [...this.counts].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
  }
}

function checkPrototypes(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Reflect.ownKeys(Object.prototype).map(String).sort()).toEqual(PROTO_KEYS);
  expect(Reflect.ownKeys(Array.prototype).map(String).sort()).toEqual(ARRAY_PROTO_KEYS);
  expect(Object.getPrototypeOf(Object.prototype)).toBeNull();
}

/** Whether some line of the original's conversation survived intact: then the file is a Claude Code transcript. */
function holdsOriginalEntry(session: Session, damaged: Buffer): boolean {
  return splitLines(damaged).lines.some((line) => session.chainLines.has(line.toString('latin1')));
}

export interface CaseOptions {
  mode: 'out' | 'new-session';
  /**
   * `full` (default): every invariant. `safety`: no crash, only the contract's errors, the original
   * untouched, no pollution, and the output read again without a crash; not whether the repair is complete.
   */
  level?: 'full' | 'safety';
  tally?: Tally;
}

/**
 * Writes the damaged bytes into a Claude dir layout, recovers them and checks every invariant.
 * Throws (an expect failure) on the first one broken.
 */
export async function checkCase(session: Session, damaged: Buffer | ((fd: number) => void), opts: CaseOptions): Promise<Outcome> {
  const dir = join(ROOT, `c${++caseNo}`);
  const claudeDir = join(dir, 'claude');
  const projectFolder = join(claudeDir, 'projects', '-x');
  mkdirSync(projectFolder, { recursive: true });
  const file = join(projectFolder, `${session.id}.jsonl`);
  if (typeof damaged === 'function') {
    const fd = openSync(file, 'w');
    try {
      damaged(fd);
    } finally {
      closeSync(fd);
    }
  } else writeFileSync(file, damaged);
  const before = sha(readFileSync(file));
  const out = opts.mode === 'out' ? join(dir, 'out.jsonl') : undefined;
  try {
    let result: RecoverResult;
    try {
      result = await recover({ file, claudeDir, force: true, ...(out ? { out } : {}) });
    } catch (err) {
      checkPrototypes();
      expect(sha(readFileSync(file))).toBe(before);
      const outcome = refusal(err, file, session, damaged);
      opts.tally?.add(outcome);
      return outcome;
    }
    checkPrototypes();
    expect(sha(readFileSync(file)), 'the original was changed').toBe(before);
    const outcome: Outcome = result.status;
    opts.tally?.add(outcome);
    if (result.status === 'healthy') {
      expect(result.analysis.findings.filter((f) => f.severity !== 'notice')).toEqual([]);
      if (out) {
        // A healthy session is copied byte for byte.
        expect(result.written.session).toBe(resolve(out));
        expect(sha(readFileSync(out)), 'the healthy copy differs').toBe(before);
      } else expect(result.written.session).toBeNull();
    } else {
      expect(result.status).toBe('repaired');
      expect(result.written.session).not.toBeNull();
      expect(JSON.parse(readFileSync(result.written.snapshot!, 'utf8')).schema).toBe('ccrescue.recovery/1');
    }
    const written = result.written.session ?? (result.status === 'healthy' ? file : null);
    if (written) await checkRepaired(written, claudeDir, result, opts.level ?? 'full');
    checkPrototypes();
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An error from recover: only the contract's, as one line naming the file. */
function refusal(err: unknown, file: string, session: Session, damaged: Buffer | ((fd: number) => void)): Outcome {
  if (!(err instanceof ForeignFormatError || err instanceof RecoveryFailed)) {
    throw new Error(`recover crashed instead of repairing or refusing: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  const message = err.message;
  expect(message, 'the error message is one line').not.toMatch(/\n/);
  expect(message, 'the error message names the file').toContain(err instanceof RecoveryFailed ? resolve(ROOT) : file);
  if (err instanceof RecoveryFailed) {
    // Nothing here fails to write: a RecoveryFailed can only wrap an exception of the code itself.
    throw new Error(`recover failed (exit 1) on a writable temp dir: ${message}`);
  }
  expect(err.exitCode).toBe(2);
  if (typeof damaged !== 'function') {
    expect(holdsOriginalEntry(session, damaged), `refused as not a Claude Code session although an original entry line survived: ${message}`).toBe(false);
  }
  return 'refused-foreign';
}

/** The repaired (or healthy) session: nothing left to repair, and the branch a client sends passes the validator. */
async function checkRepaired(target: string, claudeDir: string, first: RecoverResult, level: 'full' | 'safety'): Promise<void> {
  const again = await analyzeSession(target, { claudeDir });
  try {
    if (level === 'safety') return;
    const left = again.findings.filter((f) => f.severity !== 'notice');
    // Findings no repair takes away (the rule has no fix, or its fix leaves their kind) stay; each
    // must already have been in the damaged file.
    const unfixableBefore = new Map<string, number>();
    for (const f of first.analysis.findings) if (f.severity !== 'notice' && unfixable(f)) unfixableBefore.set(f.code, (unfixableBefore.get(f.code) ?? 0) + 1);
    const fixableLeft = left.filter((f) => !unfixable(f));
    expect(fixableLeft, `the repaired session still has something to repair: ${fixableLeft.map((f) => f.code).join(', ')}`).toEqual([]);
    const unfixableLeft = new Map<string, number>();
    for (const f of left) unfixableLeft.set(f.code, (unfixableLeft.get(f.code) ?? 0) + 1);
    for (const [code, n] of unfixableLeft) expect(n, `${code}: the repair added findings it cannot repair`).toBeLessThanOrEqual(unfixableBefore.get(code) ?? 0);
    const issues = validateMessagesRequest(resumeRequest(branchMessages(again.index, again.loader)));
    expect(issues, `the Messages API would refuse the repaired branch: ${issues.map((i) => i.rule).join(', ')} (findings left: ${left.map((f) => f.code).join(', ') || 'none'})`).toEqual([]);
  } finally {
    again.loader.close();
  }
}

