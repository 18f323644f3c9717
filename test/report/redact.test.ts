import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedactor, marker, redactSessionFile, type Redactor } from '../../src/report/redact.js';
import { analyzeSession } from '../../src/analyze.js';
import { branchMessages } from '../../src/index/api-messages.js';
import { validateMessagesRequest } from '../../src/validate/messages-api.js';
import { CORPUS, corpusFiles } from '../helpers/corpus.js';

const out = mkdtempSync(join(tmpdir(), 'ccrescue-redact-'));
let fileNo = 0;
const tempFile = (name: string) => join(out, `${++fileNo}-${name}`);
afterAll(() => rmSync(out, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Fake secrets. Each is syntactically valid for its kind but random; the literals are assembled
// from pieces so this file holds nothing a secret scanner would flag.

let seed = 0x2f6b1d3;
function rnd(n: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    s += alphabet[(seed >>> 8) % alphabet.length];
  }
  return s;
}
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWYZ'; // no X: placeholders are made of X
const LOWER = 'abcdefghijklmnopqrstuvwyz';
const DIGITS = '0123456789';
const ALNUM = UPPER + LOWER + DIGITS;
const B64URL = ALNUM + '-_';
const HEX = '0123456789abcdef';
/** Random alphanumerics that surely mix upper case, lower case and digits. */
const mixed = (n: number) => 'Q7w' + rnd(n - 3, ALNUM);
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const pemBody = () => Array.from({ length: 6 }, () => rnd(64, ALNUM + '+/')).join('\n');

const USER = 'qzmoraine';
const HOME = `/home/${USER}`;
const OTHER_USER = 'bexleywren';
const WINDOWS_USER = 'Tovaline';

interface Planted {
  kind: string;
  /** The secret itself: must not survive. */
  value: string;
  /** How it appears in text. */
  text: string;
}

function plantedSecrets(): Planted[] {
  const p = (kind: string, value: string, text = value): Planted => ({ kind, value, text });
  const pw = () => 'Pw' + rnd(14, ALNUM) + '!9';
  const awsSecret = mixed(39).replace(/^(.{10})/, '$1/');
  const twilioToken = rnd(32, HEX);
  const dbPw = pw();
  const urlPw = pw();
  const envPw = pw();
  const flagPw = pw();
  const yamlPw = pw();
  const apiKey = mixed(32);
  const jsonKey = mixed(28);
  const pem = ['-----BEGIN RSA ', 'PRIVATE KEY-----\n', pemBody(), '\n-----END RSA ', 'PRIVATE KEY-----'].join('');
  const webhookPath = `T${rnd(8, UPPER + DIGITS)}/B${rnd(10, UPPER + DIGITS)}/${mixed(24)}`;
  return [
    p('anthropic-api-key', ['sk', 'ant', 'api03', rnd(93, ALNUM + '-_') + 'AA'].join('-')),
    p('anthropic-oauth-token', ['sk', 'ant', 'oat01', rnd(95, ALNUM + '-_')].join('-')),
    p('openai-api-key', ['sk', 'proj', mixed(48)].join('-')),
    p('github-token', 'gh' + 'p_' + mixed(36)),
    p('github-token', 'github' + '_pat_' + mixed(22) + '_' + mixed(59)),
    p('gitlab-token', 'gl' + 'pat-' + mixed(20)),
    p('aws-access-key-id', 'AK' + 'IA' + rnd(16, 'ABCDEFGHIJKLMNOPQRSTUVWYZ234567')),
    p('aws-secret-access-key', awsSecret, `aws_secret_access_key = ${awsSecret}`),
    p('google-api-key', 'AI' + 'za' + 'Sy' + rnd(33, B64URL)),
    p('google-oauth-token', 'ya' + '29.' + 'a0' + mixed(70)),
    p('slack-token', ['xo' + 'xb', rnd(12, DIGITS), rnd(13, DIGITS), mixed(24)].join('-')),
    p('slack-webhook', webhookPath, `https://hooks.slack${'.com'}/services/${webhookPath}`),
    p('stripe-key', 'sk' + '_live_' + mixed(24)),
    p('npm-token', 'np' + 'm_' + mixed(36)),
    p('pypi-token', 'py' + 'pi-' + 'AgEIcHlwaS5vcmc' + rnd(70, B64URL)),
    p('huggingface-token', 'h' + 'f_' + 'Qw' + rnd(32, UPPER + LOWER)),
    p('sendgrid-api-key', 'S' + 'G.' + mixed(22) + '.' + mixed(43)),
    p('twilio-api-key', 'S' + 'K' + rnd(32, HEX)),
    p('twilio-credentials', twilioToken, `curl -u A${'C'}${rnd(32, HEX)}:${twilioToken} https://api.twilio.com/2010-04-01/Accounts.json`),
    p('discord-bot-token', 'M' + mixed(23) + '.' + rnd(6, B64URL) + '.' + mixed(27)),
    p('telegram-bot-token', rnd(10, DIGITS).replace(/^0/, '7') + ':AA' + rnd(33, B64URL)),
    p('jwt', [b64url('{"alg":"HS256","typ":"JWT"}'), b64url(`{"sub":"${rnd(10, DIGITS)}","name":"Fake Person","iat":1516239022}`), rnd(43, B64URL)].join('.')),
    p('private-key', pem.split('\n')[2]!, pem),
    p('authorization-header', mixed(40), ''),
    p('url-credentials', urlPw, `https://deploy:${urlPw}@git.example.org/team/repo.git`),
    p('database-url', dbPw, `postgres://app_user:${dbPw}@db.internal:5432/prod`),
    p('password', envPw, `PASSWORD=${envPw}`),
    p('password', flagPw, `mysql --password ${flagPw} -h db.internal`),
    p('password', yamlPw, `  DB_PASS: ${yamlPw}`),
    p('secret', apiKey, `export API_KEY="${apiKey}"`),
    p('secret', jsonKey, `{"api_key": "${jsonKey}", "region": "eu-west-1"}`),
    p('azure-account-key', rnd(86, ALNUM + '+/') + '==', ''),
  ].map((s) => {
    if (s.kind === 'authorization-header') return { ...s, text: `curl -H "Authorization: Bearer ${s.value}" https://api.example.org/v1/items` };
    if (s.kind === 'azure-account-key') return { ...s, text: `DefaultEndpointsProtocol=https;AccountName=fakestore;AccountKey=${s.value};EndpointSuffix=core.windows.net` };
    return s;
  });
}

const SECRETS = plantedSecrets();
const SECRET_KINDS = [...new Set(SECRETS.map((s) => s.kind))];
const PERSONAL_KINDS = ['home-dir', 'user-name', 'other-user-name'];
const secretsText = (list: Planted[]) => list.map((s) => s.text).join('\n');
const PATHS_TEXT = [
  `Notes are in ${HOME}/notes/todo.md and /Users/${OTHER_USER}/Desktop/shared.txt`,
  `the build ran in C:\\Users\\${WINDOWS_USER}\\AppData\\Local\\Temp\\build and committed as ${USER}@example.org`,
].join('\n');

// ---------------------------------------------------------------------------------------------
// Planting into real transcripts

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapStrings(x, f)]));
  return v;
}

/** Appends text to the first string field of an object (depth first), or to the value itself. */
function appendToFirstString(v: unknown, text: string): { value: unknown; done: boolean } {
  if (typeof v === 'string') return { value: v + text, done: true };
  if (Array.isArray(v)) {
    const copy = [...v];
    for (let i = 0; i < copy.length; i++) {
      const r = appendToFirstString(copy[i], text);
      if (r.done) {
        copy[i] = r.value;
        return { value: copy, done: true };
      }
    }
    return { value: v, done: false };
  }
  if (isObj(v)) {
    const copy = { ...v };
    for (const k of Object.keys(copy)) {
      if (['type', 'id', 'tool_use_id', 'uuid', 'name', 'filePath', 'file_path'].includes(k)) continue;
      const r = appendToFirstString(copy[k], text);
      if (r.done) {
        copy[k] = r.value;
        return { value: copy, done: true };
      }
    }
  }
  return { value: v, done: false };
}

interface PlantResult {
  file: string;
  places: string[];
}

/**
 * A copy of a real transcript with the fake secrets planted where they occur in real sessions:
 * the prompt, a Bash command, a written .env file, a tool result and its toolUseResult, a
 * thinking block, a torn line; and the session moved under a fake home directory.
 */
function plant(corpusPath: string): PlantResult {
  const text = readFileSync(join(CORPUS, corpusPath), 'utf8');
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const firstCwd = lines.map((l) => (l.includes('"cwd"') ? (JSON.parse(l) as Json).cwd : undefined)).find((c): c is string => typeof c === 'string')!;
  const homeOf = /^(\/Users\/[^/]+|\/home\/[^/]+)/.exec(firstCwd);
  const move = (s: string) => (homeOf ? s.split(homeOf[1]!).join(HOME) : s.split(firstCwd).join(`${HOME}/work${firstCwd}`));

  const places = new Set<string>();
  const bySpot = (i: number) => SECRETS.filter((_, j) => j % 3 === i % 3);
  let promptLine = -1;
  const entries: (Json | string)[] = lines.map((l) => {
    try {
      return mapStrings(JSON.parse(l), move) as Json;
    } catch {
      return l;
    }
  });
  entries.forEach((e, i) => {
    if (typeof e === 'string') return;
    const message = e.message as Json | undefined;
    const content = message?.content;
    // The first typed prompt: every kind and every path.
    if (!places.has('prompt') && e.type === 'user' && e.isMeta !== true && (typeof content === 'string' || (Array.isArray(content) && content.some((b) => isObj(b) && b.type === 'text')))) {
      const add = `\n\nHere is my setup:\n${secretsText(SECRETS)}\n${PATHS_TEXT}`;
      message!.content = typeof content === 'string' ? content + add : (content as Json[]).map((b, k) => (k === (content as Json[]).findIndex((x) => x.type === 'text') ? { ...b, text: String(b.text) + add } : b));
      places.add('prompt');
      promptLine = i;
      return;
    }
    if (!Array.isArray(content)) return;
    message!.content = content.map((b: unknown) => {
      if (!isObj(b)) return b;
      if (b.type === 'tool_use' && isObj(b.input)) {
        if (b.name === 'Bash' && !places.has('bash') && typeof b.input.command === 'string') {
          places.add('bash');
          const assignments = SECRETS.filter((s) => /^(?:export |PASSWORD=)/.test(s.text)).map((s) => s.text.replace(/^export /, ''));
          const commands = SECRETS.filter((s) => /^(?:mysql|curl) /.test(s.text)).map((s) => s.text);
          return { ...b, input: { ...b.input, command: `${assignments.join(' ')} ${b.input.command} && ${commands.join(' && ')}` } };
        }
        if (b.name === 'Write' && !places.has('write') && typeof b.input.content === 'string') {
          places.add('write');
          return { ...b, input: { ...b.input, content: `${b.input.content}\n# .env\n${secretsText(bySpot(0))}\n` } };
        }
        if (!places.has('tool-input')) {
          const r = appendToFirstString(b.input, `\n${secretsText(bySpot(1))}`);
          if (r.done) {
            places.add('tool-input');
            return { ...b, input: r.value };
          }
        }
      }
      if (b.type === 'tool_result' && !places.has('tool-result')) {
        const r = appendToFirstString(b.content, `\n${secretsText(bySpot(2))}\n${PATHS_TEXT}`);
        if (r.done) {
          places.add('tool-result');
          return { ...b, content: r.value };
        }
      }
      if (b.type === 'thinking' && !places.has('thinking') && typeof b.thinking === 'string') {
        places.add('thinking');
        return { ...b, thinking: `${b.thinking}\nThe user pasted ${secretsText(bySpot(1))}` };
      }
      return b;
    });
    if (e.toolUseResult !== undefined && !places.has('toolUseResult')) {
      const r = appendToFirstString(e.toolUseResult, `\n${secretsText(bySpot(0))}`);
      if (r.done) {
        e.toolUseResult = r.value;
        places.add('toolUseResult');
      }
    }
  });
  expect(promptLine).toBeGreaterThanOrEqual(0);
  // Lines nothing was planted in keep their bytes.
  const outLines = entries.map((e, i) => (typeof e === 'string' || JSON.stringify(e) === JSON.stringify(JSON.parse(lines[i]!)) ? lines[i]! : JSON.stringify(e)));
  // A torn line: a prompt entry cut off mid-write, its secrets before the cut.
  const promptEntry = entries[promptLine] as Json;
  const torn = JSON.stringify({ ...promptEntry, uuid: randomUUID(), message: { role: 'user', content: `${secretsText(SECRETS)}\n${PATHS_TEXT}\nand the rest of a long prompt that was never finished` } });
  outLines.splice(promptLine + 1, 0, torn.slice(0, torn.indexOf('and the rest of a long prompt')));
  places.add('torn-line');
  const file = tempFile('planted.jsonl');
  writeFileSync(file, outLines.join('\n') + (endsWithNewline ? '\n' : ''));
  return { file, places: [...places] };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Every string (keys too) of every line, JSON-unescaped; unparseable lines unescaped by hand. */
function unescapedText(file: string): string {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => {
      try {
        const strings: string[] = [];
        mapStrings(JSON.parse(l), (s) => (strings.push(s), s));
        return strings.join('\n');
      } catch {
        return l.replace(/\\(["\\/nrt])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c as 'n'] ?? c);
      }
    })
    .join('\n');
}

function expectGone(file: string, needles: string[]): void {
  const raw = readFileSync(file, 'utf8');
  const plain = unescapedText(file);
  for (const needle of needles) {
    expect(raw.includes(needle), `raw bytes still hold ${needle.slice(0, 24)}…`).toBe(false);
    expect(raw.includes(JSON.stringify(needle).slice(1, -1)), `raw bytes still hold escaped ${needle.slice(0, 24)}…`).toBe(false);
    expect(plain.includes(needle), `unescaped text still holds ${needle.slice(0, 24)}…`).toBe(false);
  }
}

interface LineIds {
  parsed: boolean;
  uuid?: unknown;
  parentUuid?: unknown;
  blockIds: unknown[];
}

function idsOf(file: string): LineIds[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => {
      try {
        const e = JSON.parse(l) as Json;
        const content = (e.message as Json | undefined)?.content;
        const blocks = Array.isArray(content) ? content.filter(isObj) : [];
        return { parsed: true, uuid: e.uuid, parentUuid: e.parentUuid, blockIds: blocks.map((b) => [b.type, b.id, b.tool_use_id, b.name ?? null]) };
      } catch {
        return { parsed: false, blockIds: [] };
      }
    });
}

const resumeRequest = (messages: ReturnType<typeof branchMessages>) => ({ model: 'claude-test', max_tokens: 1024, messages: [...messages, { role: 'user' as const, content: 'Please continue.' }] });

async function analyzed(file: string) {
  const a = await analyzeSession(file, { claudeDir: null, processes: false });
  try {
    return {
      findings: a.findings.map((f) => `${f.code}@${f.line}`),
      issues: validateMessagesRequest(resumeRequest(branchMessages(a.index, a.loader))),
      messages: branchMessages(a.index, a.loader).length,
    };
  } finally {
    a.loader.close();
  }
}

/**
 * Where two values first differ in shape: keys (data keys such as file paths may be masked), JSON
 * types, array lengths, numbers and booleans, all the way down. Null when they have the same shape.
 */
function shapeDiff(a: unknown, b: unknown, at: string): string | null {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(b) !== kind(a)) return `${at}: ${kind(a)} became ${kind(b)}`;
  if (Array.isArray(a)) {
    if ((b as unknown[]).length !== a.length) return `${at}: ${a.length} items became ${(b as unknown[]).length}`;
    for (let i = 0; i < a.length; i++) {
      const d = shapeDiff(a[i], (b as unknown[])[i], `${at}.${i}`);
      if (d !== null) return d;
    }
  } else if (isObj(a)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b as Json);
    if (kb.length !== ka.length) return `${at}: ${ka.length} keys became ${kb.length}`;
    for (let i = 0; i < ka.length; i++) {
      const k = ka[i]!;
      // Keys that are data (file paths of file-history backups, questions) are masked like any text.
      if (kb[i] !== k && !/[\\/~\s]/.test(k) && !at.endsWith('.trackedFileBackups')) return `${at}: key ${k} became ${kb[i]}`;
      const d = shapeDiff(a[k], (b as Json)[kb[i]!], `${at}.${k}`);
      if (d !== null) return d;
    }
  } else if ((typeof a === 'number' || typeof a === 'boolean') && a !== b) return `${at}: ${String(a)} became ${String(b)}`;
  return null;
}

const expectSameShape = (a: unknown, b: unknown, at: string) => expect(shapeDiff(a, b, at)).toBeNull();

const SOURCES = [
  'DRMacIver__claude-reliability/snapshot-tests/tests/python-to-rust-port/transcript.jsonl', // 2.1.14
  'slopus__happy-cli/src/claude/utils/__fixtures__/permission-prompt-aborted-with-interrupt.jsonl', // 1.0.51
  'slopus__happy-cli/src/claude/utils/__fixtures__/1-continue-run-ls-tool.jsonl', // 1.0.56
  'entireio__cli/f4/bd19c39902/0/full.jsonl', // 2.1.3
  'entireio__cli/9f/e3cfdef74d/0/full.jsonl', // 2.1.33
];

const PLANTED_NEEDLES = [...SECRETS.map((s) => s.value), USER, OTHER_USER, WINDOWS_USER];

async function redactPlanted(source: string, mode: 'default' | 'strict') {
  const planted = plant(source);
  const redactor = createRedactor({ mode, home: HOME, user: USER });
  const target = tempFile(`redacted-${mode}.jsonl`);
  const result = await redactSessionFile(planted.file, target, redactor);
  return { planted, target, redactor, result };
}

async function expectFaithful(planted: string, target: string, result: { lines: number; redacted: number }) {
  const before = readFileSync(planted, 'utf8');
  const after = readFileSync(target, 'utf8');
  expect(after.split('\n').length).toBe(before.split('\n').length);
  expect(result.lines).toBe(before.split('\n').length - (before.endsWith('\n') ? 1 : 0));
  expect(after.endsWith('\n')).toBe(before.endsWith('\n'));
  expect(idsOf(target)).toEqual(idsOf(planted));
  const [a, b] = await Promise.all([analyzed(planted), analyzed(target)]);
  expect(b.findings).toEqual(a.findings);
  expect(b.messages).toBe(a.messages);
  expect(a.issues).toEqual([]);
  expect(b.issues).toEqual([]);
}

// ---------------------------------------------------------------------------------------------

describe('secrets in text', () => {
  it.each(SECRETS.map((s) => [s.kind, s] as const))('%s', (kind, s) => {
    const r = createRedactor({ mode: 'default', home: HOME, user: USER });
    const before = `Before. ${s.text} After.`;
    const after = r.text(before);
    expect(after).not.toContain(s.value);
    expect(after).toContain(marker(kind));
    expect(after.startsWith('Before. ')).toBe(true);
    expect(after.endsWith(' After.')).toBe(true);
    expect(r.counts.get(kind)).toBeGreaterThan(0);
    // The same text as it stands in a raw JSONL line (JSON-escaped), as a damaged line is redacted.
    const escaped = JSON.stringify(before).slice(1, -1);
    const afterRaw = createRedactor({ mode: 'default', home: HOME, user: USER }).text(escaped);
    expect(afterRaw).not.toContain(JSON.stringify(s.value).slice(1, -1));
    expect(afterRaw).toContain(marker(kind));
  });

  it('covers at least 20 kinds of secrets', () => {
    expect(SECRET_KINDS.length).toBeGreaterThanOrEqual(20);
  });

  it('keeps the scheme and host of a URL with credentials', () => {
    const r = createRedactor({ mode: 'default', home: HOME, user: USER });
    expect(r.text('git clone https://deploy:Xy7pq2Lm9z@git.example.org/team/repo.git')).toBe('git clone https://[REDACTED:url-credentials]@git.example.org/team/repo.git');
    expect(r.text('DATABASE_URL=mysql://root:S3cr3tPw0rd@127.0.0.1:3306/app')).toBe('DATABASE_URL=mysql://[REDACTED:database-url]@127.0.0.1:3306/app');
  });

  it('redacts a PEM block written with real newlines, escaped newlines, or cut off', () => {
    const r = createRedactor({ mode: 'default', home: HOME, user: USER });
    const pem = SECRETS.find((s) => s.kind === 'private-key')!.text;
    expect(r.text(`key:\n${pem}\nend`)).toBe(`key:\n${marker('private-key')}\nend`);
    expect(r.text(JSON.stringify(pem))).toBe(`"${marker('private-key')}"`);
    const cut = JSON.stringify(pem).slice(0, 200);
    expect(r.text(cut)).toBe(`"${marker('private-key')}`);
  });

  it('leaves ids, hashes, timestamps, placeholders and ordinary code alone', () => {
    const r = createRedactor({ mode: 'default', home: HOME, user: USER });
    const untouched = [
      'toolu_01PKfvC84zTHnFnxjuoazGo5 msg_01H9V6TtzNYTPeVuiyiMoY7A req_011CXL3GYhpKsjEj3xzhBiSF toolu_bdrk_01HJA22cJkbnyh36WjEK1xxn',
      '7303a99b-16a3-4bd6-b212-1acc3003f158 2026-01-21T06:20:46.065Z b1a2df0b90ad6c58@v2 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'commit 4e49f16a86de76d9b0dc3ea2b8526677abe89f52 sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX AWS_SECRET_ACCESS_KEY=REDACTED password: ${DB_PASSWORD} token: <your-token>',
      'const token = await getToken(); password = input("x"); self.token = token; max_tokens: 1024; apiKey: string;',
      'The token: is here. Password: required. Use a bearer token for auth.',
      '"input_tokens":3,"cache_creation_input_tokens":3315,"output_tokens":1,"service_tier":"standard"',
      'env.OPENAI_API_KEY = apiKeyValue; apiKey: accessKeyId || ""; config.secret = credentials.additionalConfig?.secret as string',
    ];
    for (const s of untouched) expect(r.text(s)).toBe(s);
    expect([...r.counts.keys()]).toEqual([]);
  });
});

describe('personal data', () => {
  it('replaces the home directory by ~ and user names consistently', () => {
    const r = createRedactor({ mode: 'default', home: HOME, user: USER });
    expect(r.text(`cd ${HOME}/proj && cat ${HOME}/.bashrc`)).toBe('cd ~/proj && cat ~/.bashrc');
    expect(r.text(`file://${HOME}/x.html`)).toBe('file://~/x.html');
    expect(r.text(`/Users/${OTHER_USER}/a /Users/${OTHER_USER}/b /home/${USER}2/c`)).toBe('/Users/<user2>/a /Users/<user2>/b /home/<user3>/c');
    expect(r.text(`C:\\Users\\${WINDOWS_USER}\\x and C:\\\\Users\\\\${WINDOWS_USER}\\\\y`)).toBe('C:\\Users\\<user4>\\x and C:\\\\Users\\\\<user4>\\\\y');
    expect(r.text(`~/.claude/projects/-home-${USER}-proj/s.jsonl by ${USER}@example.org`)).toBe('~/.claude/projects/-home-<user>-proj/s.jsonl by <user>@example.org');
    // A home path does not match a longer sibling, and generic names stay.
    expect(r.text(`/home/${USER}x/a /home/user/project /Users/Shared/x https://example.org${HOME}/x`)).toBe('/home/<user5>/a /home/user/project /Users/Shared/x https://example.org/home/<user>/x');
    expect(r.counts.get('home-dir')).toBe(3);
  });

  it('does not treat a common user name as a word', () => {
    const r = createRedactor({ mode: 'default', home: '/root', user: 'root' });
    expect(r.text('the root cause is in /root/app and the user wants it')).toBe('the root cause is in ~/app and the user wants it');
  });
});

describe('damaged lines', () => {
  const r = () => createRedactor({ mode: 'default', home: HOME, user: USER });
  const token = SECRETS[0]!.value;
  const entry = (text: string, cwd = `${HOME}/p`) => JSON.stringify({ parentUuid: null, type: 'user', message: { role: 'user', content: text }, uuid: '7303a99b-16a3-4bd6-b212-1acc3003f158', cwd });

  it('splits glued records, redacts each, and keeps the line unparseable the same way', () => {
    const glued = entry(`key ${token}`) + entry('plain') + '{"type":"summ';
    const red = r().rawLine(glued);
    expect(red).not.toContain(token);
    expect(red).toContain(marker('anthropic-api-key'));
    expect(red.endsWith('{"type":"summ')).toBe(true);
    const [first, second] = red.split('}{"parentUuid"');
    expect((JSON.parse(`${first}}`) as Json).cwd).toBe('~/p');
    expect((JSON.parse(`{"parentUuid"${second!.slice(0, second!.lastIndexOf('{"type"'))}`) as Json).uuid).toBe('7303a99b-16a3-4bd6-b212-1acc3003f158');
  });

  it('keeps NUL bytes and invalid UTF-8 bytes where they were', async () => {
    const file = tempFile('damaged.jsonl');
    const nul = Buffer.concat([Buffer.alloc(12), Buffer.from(entry(`x ${token}`))]);
    const badUtf8 = Buffer.concat([Buffer.from(entry(`y ${token} `).slice(0, -3)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const plain = Buffer.from(entry('nothing to redact here', '/srv/app'));
    writeFileSync(file, Buffer.concat([nul, Buffer.from('\n\n'), badUtf8, Buffer.from('\n'), plain]));
    const target = tempFile('damaged-redacted.jsonl');
    const res = await redactSessionFile(file, target, r());
    expect(res).toEqual({ lines: 4, redacted: 2 });
    const bytes = readFileSync(target);
    const lines = bytes.toString('latin1').split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]!.startsWith('\0'.repeat(12) + '{')).toBe(true);
    expect(lines[1]).toBe('');
    expect(Buffer.from(lines[2]!, 'latin1').includes(Buffer.from([0xc3, 0x28, 0xff]))).toBe(true);
    expect(lines[3]).toBe(plain.toString()); // exact bytes, and still no trailing newline
    expect(bytes.includes(Buffer.from(token))).toBe(false);
    expect(bytes.includes(Buffer.from(USER))).toBe(false);
  });

  it('masks a torn line in strict mode but keeps its keys, ids and punctuation', () => {
    const torn = entry(`a long prompt with ${token} and more words`).slice(0, -40);
    const red = createRedactor({ mode: 'strict', home: HOME, user: USER }).rawLine(torn);
    expect(red.length).toBeLessThan(torn.length); // the token became a shorter marker
    expect(red).toContain('"parentUuid":null,"type":"user","message":{"role":"user","content":"x xxxx xxxxxx xxxx [REDACTED:anthropic-api-key]');
    expect(red).not.toContain('prompt');
    expect(red.replace(marker('anthropic-api-key'), '').replace(/[^{}[\]":,]/g, '')).toBe(torn.replace(token, '').replace(/[^{}[\]":,]/g, ''));
  });
});

describe('strict mode', () => {
  const signature = 'EqoBCkYIBRgCKkB' + mixed(120) + '+/==';
  const assistant = {
    parentUuid: '7303a99b-16a3-4bd6-b212-1acc3003f158',
    isSidechain: false,
    type: 'assistant',
    cwd: `${HOME}/proj`,
    gitBranch: 'feature/secret-plan',
    message: {
      id: 'msg_01QKpe2q6QARVjWrUor2aAoW',
      type: 'message',
      role: 'assistant',
      model: 'claude-opus-4-5-20251101',
      content: [
        { type: 'thinking', thinking: 'Private reasoning about the merger.', signature },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' + mixed(60) },
        { type: 'text', text: '<command-name>/deploy</command-name> Shipping 42 widgets.' },
        { type: 'tool_use', id: 'toolu_01PKfvC84zTHnFnxjuoazGo5', name: 'Bash', input: { command: 'rm -rf build', timeout: 120000, run_in_background: false } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 3, output_tokens: 12, service_tier: 'standard' },
    },
    requestId: 'req_011CXL3GYhpKsjEj3xzhBiSF',
    uuid: 'e5d50b27-060a-4ec3-98ad-393ef9ddcf45',
    timestamp: '2026-01-21T06:21:21.906Z',
    version: '2.1.14',
  };

  it('masks content to the same shape and keeps ids, types, names, numbers and metadata', () => {
    const r = createRedactor({ mode: 'strict', home: HOME, user: USER });
    const red = r.entry(assistant) as typeof assistant;
    expectSameShape(assistant, red, 'entry');
    const [thinking, redacted, text, tool] = red.message.content as Json[];
    expect(thinking).toEqual({ type: 'thinking', thinking: 'xxxxxxx xxxxxxxxx xxxxx xxx xxxxxx.', signature: expect.stringMatching(/^[x0+/=]+$/) });
    expect((thinking!.signature as string).length).toBe(signature.length);
    expect(redacted!.data).toMatch(/^[x0]+$/);
    expect(text!.text).toBe('<command-name>/xxxxxx</command-name> xxxxxxxx 00 xxxxxxx.');
    expect(tool).toEqual({ type: 'tool_use', id: 'toolu_01PKfvC84zTHnFnxjuoazGo5', name: 'Bash', input: { command: 'xx -xx xxxxx', timeout: 120000, run_in_background: false } });
    expect(red.cwd).toBe('~/xxxx');
    expect(red.gitBranch).toBe('xxxxxxx/xxxxxx-xxxx');
    for (const k of ['parentUuid', 'type', 'requestId', 'uuid', 'timestamp', 'version'] as const) expect(red[k]).toBe(assistant[k]);
    expect({ ...red.message, content: [] }).toEqual({ ...assistant.message, content: [] });
  });

  it('keeps signatures, blobs and ids byte for byte in default mode', () => {
    const r = createRedactor({ mode: 'default', home: HOME, user: USER });
    const red = r.entry(assistant) as typeof assistant;
    expect(red.message).toEqual(assistant.message);
    expect(red.cwd).toBe('~/proj');
  });

  it('keeps the texts a report is about: interrupts, client markers, API errors', () => {
    const r = createRedactor({ mode: 'strict', home: HOME, user: USER });
    const user = (content: unknown) => ({ type: 'user', message: { role: 'user', content } });
    const text = (e: unknown) => JSON.stringify((r.entry(e) as { message: { content: unknown } }).message.content);
    expect(text(user([{ type: 'text', text: '[Request interrupted by user for tool use]' }]))).toBe('[{"type":"text","text":"[Request interrupted by user for tool use]"}]');
    expect(text(user([{ type: 'tool_result', tool_use_id: 'toolu_01A', is_error: true, content: '[Tool call interrupted: the client stopped] partial output here' }]))).toBe(
      '[{"type":"tool_result","tool_use_id":"toolu_01A","is_error":true,"content":"[Tool call interrupted: the client stopped] xxxxxxx xxxxxx xxxx"}]',
    );
    expect(text(user([{ type: 'tool_result', tool_use_id: 'toolu_01B', content: [{ type: 'text', text: 'connection_lost: the session ended before this Bash call. More here.' }] }]))).toContain('connection_lost: the session ended before this Bash call. xxxx xxxx.');
    const apiError = { type: 'assistant', isApiErrorMessage: true, message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: 'API Error: 400 {"type":"error","error":{"type":"invalid_request_error","message":"messages.3: `tool_use` ids were found without `tool_result` blocks"}}' }] } };
    expect(r.entry(apiError)).toEqual(apiError);
    const retry = { type: 'system', subtype: 'api_error', level: 'error', error: { status: 529, message: 'Overloaded', requestId: 'req_011CX' }, retryAttempt: 2 };
    expect(r.entry(retry)).toEqual(retry);
  });

  it('masks a glued line whose first record lost its start, keeping both records readable as JSON', () => {
    const r = createRedactor({ mode: 'strict', home: HOME, user: USER });
    const line = 'ing the rest of my prompt","type":"text"}]},"uuid":"7303a99b-16a3-4bd6-b212-1acc3003f158"}{"type":"summary","summary":"Fixed the login bug","leafUuid":"e5d50b27-060a-4ec3-98ad-393ef9ddcf45"}';
    expect(r.rawLine(line)).toBe('xxx xxx xxxx xx xx xxxxxx","type":"text"}]},"uuid":"7303a99b-16a3-4bd6-b212-1acc3003f158"}{"type":"summary","summary":"xxxxx xxx xxxxx xxx","leafUuid":"e5d50b27-060a-4ec3-98ad-393ef9ddcf45"}');
  });
});

describe.each([
  'codemie-ai__codemie-code/tests/integration/conversations/fixtures/sessions/5c187f31.jsonl', // orphaned tool_use and tool_result
  'entireio__cli/37/995ebed6e4/2/full.jsonl', // glued records
  'entireio__cli/5a/c45bc32212/0/full.jsonl', // glued records
  'entireio__cli/b0/2936744f3b/0/full.jsonl', // API errors
  'slopus__happy-cli/src/claude/utils/__fixtures__/task_sdk.jsonl', // tool call cut off at the end
])('damaged corpus session %s', (name) => {
  it.each(['default', 'strict'] as const)('%s mode keeps every finding and every id', async (mode) => {
    const source = join(CORPUS, name);
    const target = tempFile(`${mode}.jsonl`);
    await redactSessionFile(source, target, createRedactor({ mode, home: '/home/nobody-here', user: 'nobody-here' }));
    expect(idsOf(target)).toEqual(idsOf(source));
    const [a, b] = await Promise.all([analyzed(source), analyzed(target)]);
    expect(b.findings).toEqual(a.findings);
    expect(b.issues).toEqual(a.issues);
  });
});

describe.each(SOURCES)('planted secrets in %s', (source) => {
  it('default mode removes every planted value and keeps ids, chain, pairing, findings and a valid resume', async () => {
    const { planted, target, redactor, result } = await redactPlanted(source, 'default');
    expect(planted.places).toEqual(expect.arrayContaining(['prompt', 'tool-result', 'toolUseResult', 'torn-line']));
    expect(planted.places.some((p) => ['bash', 'write', 'tool-input'].includes(p))).toBe(true);
    if (readFileSync(join(CORPUS, source), 'utf8').includes('"type":"thinking"')) expect(planted.places).toContain('thinking');
    expectGone(target, PLANTED_NEEDLES);
    for (const kind of [...SECRET_KINDS, ...PERSONAL_KINDS]) expect(redactor.counts.get(kind), kind).toBeGreaterThan(0);
    expect(result.redacted).toBeGreaterThan(0);
    await expectFaithful(planted.file, target, result);
    // Lines with nothing to redact keep their exact bytes.
    const before = readFileSync(planted.file, 'utf8').split('\n');
    const after = readFileSync(target, 'utf8').split('\n');
    const same = before.filter((l, i) => l === after[i]).length;
    expect(same).toBe(before.length - result.redacted);
  });

  it('strict mode also masks all content while keeping the JSON shape', async () => {
    const { planted, target, redactor, result } = await redactPlanted(source, 'strict');
    expectGone(target, PLANTED_NEEDLES);
    for (const kind of SECRET_KINDS) expect(redactor.counts.get(kind), kind).toBeGreaterThan(0);
    await expectFaithful(planted.file, target, result);

    const before = readFileSync(planted.file, 'utf8').split('\n');
    const after = readFileSync(target, 'utf8').split('\n');
    const words = new Set<string>();
    before.forEach((l, i) => {
      let a: unknown;
      try {
        a = JSON.parse(l);
      } catch {
        return;
      }
      expectSameShape(a, JSON.parse(after[i]!), `line ${i + 1}`);
      // Distinctive words of the conversation: prompts, replies, thinking, tool results.
      const e = a as Json;
      const content = (e.message as Json | undefined)?.content;
      const texts = typeof content === 'string' ? [content] : Array.isArray(content) ? content.filter(isObj).flatMap((b) => [b.text, b.thinking, b.content].filter((t): t is string => typeof t === 'string')) : [];
      for (const t of texts) for (const w of t.match(/[A-Za-z]{9,}/g) ?? []) words.add(w);
    });
    // Words that name tools, models or client texts are kept on purpose.
    const kept = /interrupted|Request|Caveat|continued|conversation|proceed|claude|previous/i;
    const distinctive = [...words].filter((w) => !kept.test(w));
    expect(distinctive.length).toBeGreaterThan(5);
    const raw = readFileSync(target, 'utf8');
    const survivors = distinctive.filter((w) => new RegExp(`(?<![A-Za-z])${w}(?![A-Za-z])`).test(raw));
    expect(survivors).toEqual([]);
    // Client markers stay readable.
    if (before.some((l) => l.includes('[Request interrupted by user'))) expect(raw).toContain('[Request interrupted by user');
  });
});

describe('false positives on the whole corpus', () => {
  const ID_KEYS = new Set(['uuid', 'parentUuid', 'id', 'tool_use_id', 'timestamp', 'sessionId', 'requestId', 'messageId', 'leafUuid', 'logicalParentUuid', 'signature']);
  const idValues = (v: unknown, keys = ID_KEYS, out: string[] = []): string[] => {
    if (Array.isArray(v)) v.forEach((x) => idValues(x, keys, out));
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) (keys.has(k) && typeof x === 'string' ? out.push(`${k}=${x}`) : idValues(x, keys, out));
    return out;
  };
  // Strict mode masks signatures (the masked thinking no longer matches them); everything else stays.
  const STRICT_KEPT = new Set([...ID_KEYS].filter((k) => k !== 'signature'));

  it('strict mode keeps every id and the JSON shape of every corpus line', () => {
    const redactor = createRedactor({ mode: 'strict', home: '/home/nobody-here', user: 'nobody-here' });
    const problems: string[] = [];
    for (const f of corpusFiles()) {
      readFileSync(f.path, 'utf8')
        .split('\n')
        .forEach((l, i) => {
          let entry: unknown;
          try {
            entry = JSON.parse(l);
          } catch {
            if (l.trim() !== '') redactor.rawLine(l);
            return;
          }
          const red = redactor.entry(entry);
          const d = shapeDiff(entry, red, `${f.name}:${i + 1}`);
          if (d !== null) problems.push(d);
          if (JSON.stringify(idValues(red, STRICT_KEPT)) !== JSON.stringify(idValues(entry, STRICT_KEPT))) problems.push(`${f.name}:${i + 1}: ids changed`);
        });
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('default mode changes no id, timestamp or signature, and few lines', async () => {
    const redactor: Redactor = createRedactor({ mode: 'default', home: '/home/nobody-here', user: 'nobody-here' });
    const changedLines: string[] = [];
    let total = 0;
    for (const f of corpusFiles()) {
      const target = tempFile('corpus.jsonl');
      await redactSessionFile(f.path, target, redactor);
      const before = readFileSync(f.path);
      const after = readFileSync(target);
      if (before.equals(after)) {
        total += before.toString('utf8').split('\n').length;
        continue;
      }
      const a = before.toString('utf8').split('\n');
      const b = after.toString('utf8').split('\n');
      expect(b.length, f.name).toBe(a.length);
      total += a.length;
      a.forEach((l, i) => {
        if (l === b[i]) return;
        const kinds = [...new Set(b[i]!.match(/\[REDACTED:[a-z0-9-]+\]|<user\d*>|~\//g) ?? [])];
        changedLines.push(`${f.name}:${i + 1} ${kinds.join(' ')}`);
        try {
          expect(idValues(JSON.parse(b[i]!)), `${f.name}:${i + 1}`).toEqual(idValues(JSON.parse(l)));
        } catch (err) {
          if (!(err instanceof SyntaxError)) throw err;
        }
      });
    }
    const secretLines = changedLines.filter((l) => l.includes('[REDACTED:'));
    console.log(`redacting the corpus changed ${changedLines.length} of ${total} lines (user names in paths), ${secretLines.length} with a secret marker:\n${secretLines.join('\n')}`);
    console.log(`counts: ${JSON.stringify(Object.fromEntries(redactor.counts))}`);
    // Every change is a user name in a path or a recognised secret; none in ids.
    expect(changedLines.every((l) => / (\[REDACTED|<user|~\/)/.test(l))).toBe(true);
    const secrets = [...redactor.counts].filter(([k]) => !PERSONAL_KINDS.includes(k)).reduce((n, [, c]) => n + c, 0);
    expect(secrets).toBeLessThanOrEqual(5);
  }, 120_000);
});
