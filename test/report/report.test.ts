import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, type BugReport } from '../../src/report/report.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { createRedactor } from '../../src/report/redact.js';
import { ccrescue } from '../helpers/cli.js';
import { CORPUS } from '../helpers/corpus.js';
import { CCRESCUE_VERSION } from '../../src/version.js';

// 2.1.5: 29 logged retries of HTTP 529, then the "API Error: 529 … Overloaded" the user saw.
const OVERLOADED = join(CORPUS, 'entireio__cli/b0/2936744f3b/0/full.jsonl');
// 2.0.75 on Bedrock: four orphaned tool_use in mid-file (lines 18, 19, 49, 50) and a stray result at line 21.
const ORPHANS = join(CORPUS, 'codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl');
// A genuine healthy 2.1.14 session.
const HEALTHY = join(CORPUS, 'DRMacIver__claude-reliability/snapshot-tests/tests/hello-world-script/transcript.jsonl');

const report = (file: string, mode: 'default' | 'strict' = 'default') => buildReport({ file, claudeDir: null, redactor: createRedactor({ mode }) });

describe('report', () => {
  it('states the client versions, platform, sizes and counts', async () => {
    const r = await report(OVERLOADED);
    expect(r.schema).toBe('ccrescue.report/1');
    expect(r.generated_by).toBe(`ccrescue ${CCRESCUE_VERSION}`);
    expect(r.session.client_versions).toEqual(['2.1.5']);
    expect(r.session.size).toBe(readFileSync(OVERLOADED).length);
    expect(r.session.lines).toBe(readFileSync(OVERLOADED, 'utf8').split('\n').filter(Boolean).length);
    expect(r.platform.node).toBe(process.version);
    expect(r.counts.entries['system/api_error']).toBe(29);
    expect(r.counts.compactions).toBe(2);
  });

  it('counts entries whose type names an Object.prototype member like any other type', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ccrescue-report-'));
    const file = join(dir, 'proto-types.jsonl');
    const odd = ['__proto__', 'constructor', 'constructor', 'toString', 'hasOwnProperty'].map((type) => JSON.stringify({ type, note: 'unknown types pass through' }));
    writeFileSync(file, [readFileSync(HEALTHY, 'utf8').trimEnd(), ...odd].join('\n') + '\n');
    const r = await report(file);
    const entries = r.counts.entries;
    expect(Object.getPrototypeOf(entries)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(entries, '__proto__')?.value).toBe(1);
    expect(Object.getOwnPropertyDescriptor(entries, 'constructor')?.value).toBe(2);
    expect(Object.getOwnPropertyDescriptor(entries, 'toString')?.value).toBe(1);
    expect(Object.getOwnPropertyDescriptor(entries, 'hasOwnProperty')?.value).toBe(1);
    for (const n of Object.values(entries)) expect(Number.isInteger(n)).toBe(true);
    const total = Object.values(entries).reduce((a, b) => a + b, 0);
    expect(total).toBe(readFileSync(file, 'utf8').split('\n').filter(Boolean).length);
    // The JSON output keeps every key, as an object of counts.
    const json = JSON.parse(JSON.stringify(r)) as BugReport;
    expect(Object.getOwnPropertyDescriptor(json.counts.entries, '__proto__')?.value).toBe(1);
    expect(json.counts.entries.constructor).toBe(2);
    expect(renderMarkdown(r)).toContain('__proto__ 1');
  });

  it('lists the API errors: every logged retry with its status, and the error the user saw', async () => {
    const r = await report(OVERLOADED);
    const retries = r.api_errors.filter((e) => e.kind === 'system/api_error');
    const shown = r.api_errors.filter((e) => e.kind === 'assistant');
    expect(retries).toHaveLength(29);
    expect(new Set(retries.map((e) => e.status))).toEqual(new Set([529]));
    expect(retries[0]!.detail).toMatch(/^retry 1 of 10/);
    expect(shown).toHaveLength(1);
    expect(shown[0]!.detail).toContain('529');
    expect(r.counts.api_errors).toBe(30);
  });

  it('gives the findings with codes and lines, the timeline around the first, and what recover would do', async () => {
    const r = await report(ORPHANS);
    expect(r.healthy).toBe(false);
    expect(r.findings.filter((f) => f.code === 'orphaned-tool-use').map((f) => f.line)).toEqual([18, 19, 49, 50]);
    expect(r.findings.find((f) => f.code === 'orphaned-tool-result')!.line).toBe(21);
    // The timeline starts before the first damaged line and runs to the end of the file.
    const lines = r.timeline.events.map((e) => e.line);
    expect(lines[0]).toBeLessThan(18);
    expect(lines).toContain(18);
    expect(lines.at(-1)).toBe(readFileSync(ORPHANS, 'utf8').trimEnd().split('\n').length);
    const at18 = r.timeline.events.find((e) => e.line === 18)!;
    expect(at18.kind).toBe('assistant');
    expect(at18.what).toMatch(/tool_use \w+ toolu_bdrk_/);
    expect(r.recover_would.interrupted_calls.map((c) => [c.line, c.tool, c.resume_strategy])).toEqual([
      [18, 'Read', 'retry'],
      [19, 'Read', 'retry'],
      [49, 'Write', 'verify'],
      [50, 'Bash', 'ask'],
    ]);
    const inserted = r.recover_would.repairs.filter((a) => a.action === 'insert-after').map((a) => a.detail);
    expect(inserted.join(' ').match(/(Read|Write|Bash) toolu_bdrk_\w+/g)).toHaveLength(4);
  });

  it('a healthy session says so, with nothing for recover to do', async () => {
    const r = await report(HEALTHY);
    expect(r.healthy).toBe(true);
    expect(r.findings).toEqual([]);
    expect(r.recover_would.repairs).toEqual([]);
    expect(renderMarkdown(r)).toContain('Nothing: the session is healthy.');
  });

  it('strict mode keeps the structure of the timeline but no message text', async () => {
    const plain = await report(ORPHANS);
    const strict = await report(ORPHANS, 'strict');
    expect(strict.timeline.events.map((e) => [e.line, e.kind])).toEqual(plain.timeline.events.map((e) => [e.line, e.kind]));
    const prompt = plain.timeline.events.find((e) => e.what.startsWith('prompt: '));
    if (prompt) expect(strict.timeline.events.find((e) => e.line === prompt.line)!.what).not.toBe(prompt.what);
    expect(strict.redaction.mode).toBe('strict');
  });

  it('renders Markdown whose tables survive text with pipes and newlines', async () => {
    const r: BugReport = await report(ORPHANS);
    r.findings[0]!.message = 'a | b\nc';
    const md = renderMarkdown(r);
    expect(md).toContain('a \\| b c');
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) expect(line.endsWith(' |')).toBe(true);
  });
});

describe('ccrescue report (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccrescue-report-'));

  it('prints Markdown by default and one JSON document with --format json', () => {
    const md = ccrescue(['report', ORPHANS]);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^# Claude Code session report: 5c187f31/);
    expect(md.stdout).toContain('## Timeline around the failure');
    const js = ccrescue(['report', ORPHANS, '--format', 'json']);
    expect(js.code).toBe(0);
    expect((JSON.parse(js.stdout) as BugReport).findings.length).toBeGreaterThan(0);
    expect(JSON.parse(ccrescue(['report', ORPHANS, '--json']).stdout)).toMatchObject({ schema: 'ccrescue.report/1' });
  });

  it('refuses unknown formats and modes, and never overwrites with --session-out: exit 2, one line', () => {
    const existing = join(dir, 'exists.jsonl');
    writeFileSync(existing, 'keep me\n');
    for (const args of [['--format', 'xml'], ['--redact', 'off'], ['--session-out', existing], ['--session-out', ORPHANS]]) {
      const r = ccrescue(['report', ORPHANS, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readFileSync(existing, 'utf8')).toBe('keep me\n');
    // A session that is not a Claude Code transcript: refused, and no redacted copy is left behind.
    const codex = join(CORPUS, 'kvsankar__agent-history/tests/fixtures/real_sessions/codex/session-01.jsonl');
    const out = join(dir, 'codex-redacted.jsonl');
    const r = ccrescue(['report', codex, '--session-out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a Claude Code session');
    expect(existsSync(out)).toBe(false);
  });

  it('--session-out writes the redacted session: same lines, same ids, still a valid session', () => {
    const copy = join(dir, 'orphans.jsonl');
    copyFileSync(ORPHANS, copy);
    const out = join(dir, 'orphans-redacted.jsonl');
    const r = ccrescue(['report', copy, '--redact', 'strict', '--session-out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(out);
    const a = readFileSync(copy, 'utf8').split('\n');
    const b = readFileSync(out, 'utf8').split('\n');
    expect(b).toHaveLength(a.length);
    const key = (l: string) => {
      const e = JSON.parse(l) as { uuid?: string; parentUuid?: string; type?: string };
      return [e.type, e.uuid, e.parentUuid];
    };
    expect(b.filter(Boolean).map(key)).toEqual(a.filter(Boolean).map(key));
    // The redacted copy shows the same damage at the same lines.
    const again = JSON.parse(ccrescue(['report', out, '--json']).stdout) as BugReport;
    const original = JSON.parse(ccrescue(['report', copy, '--json']).stdout) as BugReport;
    expect(again.findings.map((f) => [f.code, f.line])).toEqual(original.findings.map((f) => [f.code, f.line]));
  });
});
