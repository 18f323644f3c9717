import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ccrescue } from './helpers/cli.js';
import { CORPUS } from './helpers/corpus.js';
import { InputError } from '../src/errors.js';
import { DEFAULT_SETTINGS, loadSettings, parseSettings, settingsPath, withFlags, type Settings } from '../src/settings/settings.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'crash-parallel');
const SESSION = join('claude', 'projects', '-tmp-ccrescue-fixture-work-proj', '5fec7deb-813f-4346-8789-314f5d8e99ea.jsonl');
// A genuine 1.0.71 session whose last call, a Read, never got its result.
const READ_ORPHAN = join(CORPUS, 'slopus__happy-cli/src/claude/utils/__fixtures__/task_sdk.jsonl');

const KNOWN_RESILIENCE_KEYS = 'enabled, stream_timeout_ms, max_wait_ms, auto_resume, auto_retry_readonly_tools, auto_retry_mutations';

const roots: string[] = [];
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

async function tempDir(prefix = 'ccrescue-settings-'): Promise<string> {
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  roots.push(dir);
  return dir;
}

/** Writes `text` as a settings file in a fresh directory; returns its absolute path. */
async function settingsFile(text: string, name = 'settings.json'): Promise<string> {
  const file = join(await tempDir(), name);
  await writeFile(file, text);
  return file;
}

/** The InputError that loading `file` throws (fails the test when none is thrown). */
function loadError(file: string): InputError {
  try {
    loadSettings(file, {});
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error(`${file}: expected an InputError, the settings loaded`);
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('defaults', () => {
  it('are the documented values', () => {
    expect(DEFAULT_SETTINGS).toEqual({
      network_resilience: { enabled: true, stream_timeout_ms: 30_000, max_wait_ms: 300_000, auto_resume: true, auto_retry_readonly_tools: true, auto_retry_mutations: false },
    });
  });

  it('an empty object, or an empty network_resilience, gives the defaults', () => {
    expect(parseSettings('{}', 'f.json')).toEqual(DEFAULT_SETTINGS);
    expect(parseSettings('{"network_resilience": {}}', 'f.json')).toEqual(DEFAULT_SETTINGS);
  });

  it('a missing default file gives the defaults and no file', async () => {
    const xdg = await tempDir();
    expect(loadSettings(undefined, { XDG_CONFIG_HOME: xdg })).toEqual({ settings: DEFAULT_SETTINGS, file: null });
  });
});

describe('reading a settings file', () => {
  it('reads every key, and $schema', async () => {
    const doc = {
      $schema: 'https://example.invalid/ccrescue-settings.schema.json',
      network_resilience: { enabled: false, stream_timeout_ms: 5000, max_wait_ms: 60_000, auto_resume: false, auto_retry_readonly_tools: false, auto_retry_mutations: true },
    };
    const file = await settingsFile(json(doc));
    expect(loadSettings(file, {})).toEqual({ settings: doc, file });
  });

  const single: [keyof Settings['network_resilience'], unknown][] = [
    ['enabled', false],
    ['stream_timeout_ms', 1000],
    ['stream_timeout_ms', 3_600_000],
    ['max_wait_ms', 0],
    ['max_wait_ms', 86_400_000],
    ['auto_resume', false],
    ['auto_retry_readonly_tools', false],
    ['auto_retry_mutations', true],
  ];
  it.each(single)('%s = %j alone changes that key and leaves the others at their defaults', async (key, value) => {
    const file = await settingsFile(json({ network_resilience: { [key]: value } }));
    const { settings } = loadSettings(file, {});
    expect(settings.network_resilience).toEqual({ ...DEFAULT_SETTINGS.network_resilience, [key]: value });
  });

  it('accepts a file that starts with a UTF-8 byte order mark', async () => {
    const file = await settingsFile('\uFEFF' + json({ network_resilience: { auto_resume: false } }));
    expect(loadSettings(file, {}).settings.network_resilience.auto_resume).toBe(false);
  });
});

describe('invalid settings files: one InputError naming the file and the key', () => {
  const R = 'network_resilience';
  const cases: { name: string; text: string; message: string }[] = [
    { name: 'unknown top-level key', text: json({ retry: true }), message: `retry: unknown key (known: $schema, network_resilience)` },
    { name: 'two unknown top-level keys', text: json({ a: 1, b: 2 }), message: `a, b: unknown keys (known: $schema, network_resilience)` },
    { name: 'the typo auto_retry_mutation', text: json({ [R]: { auto_retry_mutation: true } }), message: `${R}.auto_retry_mutation: unknown key (known: ${KNOWN_RESILIENCE_KEYS})` },
    { name: 'unknown key beside valid ones', text: json({ [R]: { enabled: true, timeout: 5 } }), message: `${R}.timeout: unknown key (known: ${KNOWN_RESILIENCE_KEYS})` },
    { name: '$schema not a string', text: json({ $schema: 5 }), message: `$schema: expected a string, got 5` },
    { name: 'network_resilience an array', text: json({ [R]: [] }), message: `${R}: expected an object, got []` },
    { name: 'network_resilience null', text: json({ [R]: null }), message: `${R}: expected an object, got null` },
    { name: 'enabled a string', text: json({ [R]: { enabled: 'yes' } }), message: `${R}.enabled: expected a boolean, got "yes"` },
    { name: 'stream_timeout_ms a string', text: json({ [R]: { stream_timeout_ms: '30000' } }), message: `${R}.stream_timeout_ms: expected a number, got "30000"` },
    { name: 'stream_timeout_ms a boolean', text: json({ [R]: { stream_timeout_ms: true } }), message: `${R}.stream_timeout_ms: expected a number, got true` },
    { name: 'stream_timeout_ms too small', text: json({ [R]: { stream_timeout_ms: 999 } }), message: `${R}.stream_timeout_ms: expected at least 1000, got 999` },
    { name: 'stream_timeout_ms negative', text: json({ [R]: { stream_timeout_ms: -5 } }), message: `${R}.stream_timeout_ms: expected at least 1000, got -5` },
    { name: 'max_wait_ms negative', text: json({ [R]: { max_wait_ms: -1 } }), message: `${R}.max_wait_ms: expected at least 0, got -1` },
    { name: 'max_wait_ms not an integer', text: json({ [R]: { max_wait_ms: 1.5 } }), message: `${R}.max_wait_ms: expected an integer, got 1.5` },
    { name: 'stream_timeout_ms too big', text: json({ [R]: { stream_timeout_ms: 3_600_001 } }), message: `${R}.stream_timeout_ms: expected at most 3600000, got 3600001` },
    { name: 'stream_timeout_ms not an integer', text: json({ [R]: { stream_timeout_ms: 1500.5 } }), message: `${R}.stream_timeout_ms: expected an integer, got 1500.5` },
    { name: 'auto_resume a number', text: json({ [R]: { auto_resume: 1 } }), message: `${R}.auto_resume: expected a boolean, got 1` },
    { name: 'auto_retry_readonly_tools a string', text: json({ [R]: { auto_retry_readonly_tools: 'true' } }), message: `${R}.auto_retry_readonly_tools: expected a boolean, got "true"` },
    { name: 'auto_retry_mutations null', text: json({ [R]: { auto_retry_mutations: null } }), message: `${R}.auto_retry_mutations: expected a boolean, got null` },
    { name: 'the file is an array', text: '[]\n', message: `(top level): expected an object, got []` },
    { name: 'the file is a string', text: '"settings"\n', message: `(top level): expected an object, got "settings"` },
    { name: 'the file is null', text: 'null\n', message: `(top level): expected an object, got null` },
  ];

  it.each(cases)('$name', async ({ text, message }) => {
    const file = await settingsFile(text);
    const err = loadError(file);
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe(`${file}: ${message}`);
    expect(err.message).not.toContain('\n');
  });

  it('the same errors come from parseSettings, naming the file it is given', () => {
    expect(() => parseSettings(json({ network_resilience: { auto_retry_mutation: true } }), '/etc/x/settings.json')).toThrow(
      new InputError(`/etc/x/settings.json: network_resilience.auto_retry_mutation: unknown key (known: ${KNOWN_RESILIENCE_KEYS})`),
    );
  });

  const broken: { name: string; text: string; line: number }[] = [
    { name: 'a missing comma', text: '{\n  "network_resilience": {\n    "enabled": true,\n    "auto_resume": false\n    "auto_retry_mutations": true\n  }\n}\n', line: 5 },
    { name: 'a trailing comma', text: '{\n  "network_resilience": {\n    "enabled": true,\n  }\n}\n', line: 4 },
    { name: 'a comment', text: '{\n  // mine\n  "network_resilience": {}\n}\n', line: 2 },
    { name: 'an unquoted key on line 1', text: '{network_resilience: {}}\n', line: 1 },
    { name: 'an empty file', text: '', line: 1 },
  ];
  it.each(broken)('broken JSON ($name) names the file and line $line', async ({ text, line }) => {
    const file = await settingsFile(text);
    const err = loadError(file);
    expect(err.message).toMatch(new RegExp(`^${escape(file)}:${line}: not valid JSON \\(.+\\)$`));
  });

  // Node 20's JSON.parse gives a position counted after the BOM, not a line: the line is counted in
  // the same text, or an error on the first character of a line would be named one line early.
  it('broken JSON after a byte order mark names the right line', async () => {
    const file = await settingsFile('\uFEFF{\n  "network_resilience": {\n    "enabled": true,\n}\n}\n');
    expect(loadError(file).message).toMatch(new RegExp(`^${escape(file)}:4: not valid JSON`));
  });
});

describe('where the settings come from', () => {
  it('$CCRESCUE_SETTINGS wins over XDG_CONFIG_HOME, and is resolved against the working directory', () => {
    expect(settingsPath({ CCRESCUE_SETTINGS: '/etc/cc/s.json', XDG_CONFIG_HOME: '/xdg' })).toEqual({ path: '/etc/cc/s.json', named: true });
    expect(settingsPath({ CCRESCUE_SETTINGS: 'rel/s.json' })).toEqual({ path: resolve('rel/s.json'), named: true });
  });

  it('else $XDG_CONFIG_HOME/ccrescue/settings.json, when XDG_CONFIG_HOME is absolute', () => {
    expect(settingsPath({ XDG_CONFIG_HOME: '/xdg' })).toEqual({ path: '/xdg/ccrescue/settings.json', named: false });
  });

  it('else ~/.config/ccrescue/settings.json (a relative XDG_CONFIG_HOME is ignored, as the spec says)', () => {
    const fallback = { path: join(homedir(), '.config', 'ccrescue', 'settings.json'), named: false };
    expect(settingsPath({})).toEqual(fallback);
    expect(settingsPath({ XDG_CONFIG_HOME: 'relative/config' })).toEqual(fallback);
    expect(settingsPath({ CCRESCUE_SETTINGS: '' })).toEqual(fallback);
  });

  it('loadSettings reads the file under XDG_CONFIG_HOME', async () => {
    const xdg = await tempDir();
    await mkdir(join(xdg, 'ccrescue'));
    const file = join(xdg, 'ccrescue', 'settings.json');
    await writeFile(file, json({ network_resilience: { auto_retry_mutations: true } }));
    const loaded = loadSettings(undefined, { XDG_CONFIG_HOME: xdg });
    expect(loaded.file).toBe(file);
    expect(loaded.settings.network_resilience.auto_retry_mutations).toBe(true);
  });

  it('loadSettings reads the file $CCRESCUE_SETTINGS names', async () => {
    const file = await settingsFile(json({ network_resilience: { stream_timeout_ms: 7000 } }), 'mine.json');
    const loaded = loadSettings(undefined, { CCRESCUE_SETTINGS: file });
    expect(loaded).toEqual({ settings: { network_resilience: { ...DEFAULT_SETTINGS.network_resilience, stream_timeout_ms: 7000 } }, file });
  });

  it('the option wins over $CCRESCUE_SETTINGS', async () => {
    const mine = await settingsFile(json({ network_resilience: { auto_resume: false } }));
    const bad = await settingsFile('not json');
    expect(loadSettings(mine, { CCRESCUE_SETTINGS: bad }).file).toBe(mine);
  });

  it('a named file that is missing is an InputError, by option or by $CCRESCUE_SETTINGS', async () => {
    const missing = join(await tempDir(), 'nope.json');
    expect(() => loadSettings(missing, {})).toThrow(new InputError(`${missing}: cannot read the settings file (ENOENT)`));
    expect(() => loadSettings(undefined, { CCRESCUE_SETTINGS: missing })).toThrow(new InputError(`${missing}: cannot read the settings file (ENOENT)`));
  });

  it('a default file that exists but cannot be read is an error, not the defaults', async () => {
    const xdg = await tempDir();
    await mkdir(join(xdg, 'ccrescue', 'settings.json'), { recursive: true }); // a directory where the file should be
    expect(() => loadSettings(undefined, { XDG_CONFIG_HOME: xdg })).toThrow(InputError);
  });
});

describe('withFlags', () => {
  const file: Settings = { network_resilience: { enabled: false, stream_timeout_ms: 4000, max_wait_ms: 90_000, auto_resume: false, auto_retry_readonly_tools: false, auto_retry_mutations: true } };

  it('no flag leaves the file values', () => {
    expect(withFlags(file, {})).toEqual(file.network_resilience);
    expect(withFlags(file, { wait: undefined, autoResume: undefined, retryReadonly: undefined, retryMutations: undefined })).toEqual(file.network_resilience);
  });

  it('each flag overrides its key, and only that key; the settings given are not changed', () => {
    const before = structuredClone(file);
    expect(withFlags(file, { wait: true })).toEqual({ ...file.network_resilience, enabled: true });
    expect(withFlags(file, { autoResume: true })).toEqual({ ...file.network_resilience, auto_resume: true });
    expect(withFlags(file, { retryReadonly: true })).toEqual({ ...file.network_resilience, auto_retry_readonly_tools: true });
    expect(withFlags(file, { streamTimeoutMs: 5000 })).toEqual({ ...file.network_resilience, stream_timeout_ms: 5000 });
    expect(withFlags(file, { maxWaitMs: 0 })).toEqual({ ...file.network_resilience, max_wait_ms: 0 });
    expect(withFlags(file, { retryMutations: false })).toEqual({ ...file.network_resilience, auto_retry_mutations: false });
    expect(withFlags(DEFAULT_SETTINGS, { retryMutations: true }).auto_retry_mutations).toBe(true);
    expect(file).toEqual(before);
  });
});

interface JsonCall {
  tool_use_id: string;
  tool: string;
  choice?: string;
  chosen_by?: string;
}
interface RecoverJson {
  status: string;
  snapshot: { active_tool_calls: JsonCall[]; continuation_prompt: string | null };
}

describe('ccrescue recover with settings', () => {
  let root: string;
  let args: string[];
  /** An empty XDG_CONFIG_HOME, so that no settings file of this machine is read. */
  let isolated: NodeJS.ProcessEnv;

  beforeAll(async () => {
    root = await tempDir('ccrescue-settings-cli-');
    await cp(FIXTURE, root, { recursive: true });
    args = ['recover', join(root, SESSION), '--dry-run', '--claude-dir', join(root, 'claude'), '--project-dir', join(root, 'project')];
    isolated = { XDG_CONFIG_HOME: await tempDir('ccrescue-xdg-'), CCRESCUE_SETTINGS: '' };
  });

  const oneLine = (stderr: string) => {
    expect(stderr.endsWith('\n')).toBe(true);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toMatch(/Error:|node:internal|\.ts:\d+|\.js:\d+:\d+/);
  };

  /** The choices of the dry run: tool_use_id → [choice, chosen_by]. */
  function choices(extra: string[], env: NodeJS.ProcessEnv = {}) {
    const r = ccrescue([...args, '--json', ...extra], { env: { ...isolated, ...env } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as RecoverJson;
    expect(doc.status).toBe('planned');
    return { calls: Object.fromEntries(doc.snapshot.active_tool_calls.map((c) => [c.tool_use_id, [c.choice, c.chosen_by]])), prompt: doc.snapshot.continuation_prompt ?? '' };
  }

  it('--settings with an unknown key: exit 2, one stderr line naming the file and the key, nothing on stdout', async () => {
    const file = await settingsFile(json({ network_resilience: { auto_retry_mutation: true } }));
    const r = ccrescue([...args, '--settings', file], { env: isolated });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    oneLine(r.stderr);
    expect(r.stderr).toBe(`ccrescue: ${file}: network_resilience.auto_retry_mutation: unknown key (known: ${KNOWN_RESILIENCE_KEYS})\n`);
  });

  it('--settings with broken JSON: exit 2, one line naming the file and the line', async () => {
    const file = await settingsFile('{\n  "network_resilience": {\n    "enabled": true,\n  }\n}\n');
    const r = ccrescue([...args, '--settings', file], { env: isolated });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toMatch(new RegExp(`^ccrescue: ${escape(file)}:4: not valid JSON`));
  });

  it('$CCRESCUE_SETTINGS with a wrong type: exit 2, one line naming the file and the key', async () => {
    const file = await settingsFile(json({ network_resilience: { stream_timeout_ms: '30s' } }));
    const r = ccrescue(args, { env: { ...isolated, CCRESCUE_SETTINGS: file } });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toBe(`ccrescue: ${file}: network_resilience.stream_timeout_ms: expected a number, got "30s"\n`);
  });

  it('an invalid default file under XDG_CONFIG_HOME is read and refused too', async () => {
    const xdg = await tempDir('ccrescue-xdg-');
    await mkdir(join(xdg, 'ccrescue'));
    const file = join(xdg, 'ccrescue', 'settings.json');
    await writeFile(file, json({ network_resilience: { auto_resume: 'no' } }));
    const r = ccrescue(args, { env: { XDG_CONFIG_HOME: xdg, CCRESCUE_SETTINGS: '' } });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toBe(`ccrescue: ${file}: network_resilience.auto_resume: expected a boolean, got "no"\n`);
  });

  it('a named settings file that is missing: exit 2; a missing default file: exit 0 with the defaults', async () => {
    const missing = join(await tempDir(), 'absent.json');
    const r = ccrescue([...args, '--settings', missing], { env: isolated });
    expect(r.code).toBe(2);
    oneLine(r.stderr);
    expect(r.stderr).toBe(`ccrescue: ${missing}: cannot read the settings file (ENOENT)\n`);
    const env = ccrescue(args, { env: { ...isolated, CCRESCUE_SETTINGS: missing } });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(missing);
    expect(choices([]).calls).toEqual({ toolu_h_bash: ['model', 'settings'], toolu_h_write_marker: ['model', 'settings'] });
  });

  it('--settings wins over $CCRESCUE_SETTINGS', async () => {
    const bad = await settingsFile('{oops');
    const good = await settingsFile(json({ network_resilience: { auto_retry_mutations: true } }));
    expect(choices(['--settings', good], { CCRESCUE_SETTINGS: bad }).calls.toolu_h_write_marker).toEqual(['retry', 'settings']);
  });

  it('auto_retry_mutations from the file decides the Write not on disk; the Bash stays with the model', async () => {
    const on = await settingsFile(json({ network_resilience: { auto_retry_mutations: true } }));
    const viaFlag = choices(['--settings', on]);
    expect(viaFlag.calls).toEqual({ toolu_h_bash: ['model', 'settings'], toolu_h_write_marker: ['retry', 'settings'] });
    expect(viaFlag.prompt).toContain('Make this change again; it is not on disk: Write marker.txt.');
    expect(choices([], { CCRESCUE_SETTINGS: on }).calls.toolu_h_write_marker).toEqual(['retry', 'settings']);
  });

  it('--no-retry-mutations overrides a file with auto_retry_mutations true', async () => {
    const on = await settingsFile(json({ network_resilience: { auto_retry_mutations: true } }));
    const r = choices(['--settings', on, '--no-retry-mutations']);
    expect(r.calls.toolu_h_write_marker).toEqual(['model', 'settings']);
    expect(r.prompt).toContain('Make this change again if still wanted; it is not on disk: Write marker.txt.');
  });

  it('--retry-mutations overrides a file with auto_retry_mutations false', async () => {
    const off = await settingsFile(json({ network_resilience: { auto_retry_mutations: false } }));
    expect(choices(['--settings', off]).calls.toolu_h_write_marker).toEqual(['model', 'settings']);
    expect(choices(['--settings', off, '--retry-mutations']).calls.toolu_h_write_marker).toEqual(['retry', 'settings']);
  });

  it('auto_retry_readonly_tools and its flags decide an interrupted Read (genuine 1.0.71 session)', async () => {
    const claudeDir = await tempDir('ccrescue-claude-');
    const readArgs = ['recover', READ_ORPHAN, '--dry-run', '--json', '--claude-dir', claudeDir];
    const readChoice = (extra: string[]) => {
      const r = ccrescue([...readArgs, ...extra], { env: isolated });
      expect(r.code).toBe(0);
      const calls = (JSON.parse(r.stdout) as RecoverJson).snapshot.active_tool_calls;
      expect(calls.map((c) => c.tool)).toEqual(['Read']);
      return [calls[0]!.choice, calls[0]!.chosen_by];
    };
    const off = await settingsFile(json({ network_resilience: { auto_retry_readonly_tools: false } }));
    expect(readChoice([])).toEqual(['retry', 'settings']);
    expect(readChoice(['--no-retry-readonly'])).toEqual(['model', 'settings']);
    expect(readChoice(['--settings', off])).toEqual(['model', 'settings']);
    expect(readChoice(['--settings', off, '--retry-readonly'])).toEqual(['retry', 'settings']);
  });
});
