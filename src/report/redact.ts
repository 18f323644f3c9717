// Redaction of session transcripts for bug reports.
//
// Default mode replaces secrets and personal data and nothing else, so a redacted session still
// reproduces the failure: ids, chain, tool pairing, signatures and all text around a secret stay.
// Secrets become `[REDACTED:<kind>]`; the home directory becomes `~`; the user name becomes
// `<user>` and other users' names found in paths `<user2>`, `<user3>`… (the same name always
// gets the same placeholder, so equal paths stay equal).
//
// Strict mode also masks every piece of content: message and thinking text, tool input values,
// tool output (tool_result content, toolUseResult), progress data, summaries, prompts, titles,
// paths (cwd included) and branch names. A masked string keeps its shape: every letter becomes
// `x`, every digit `0`, and everything else stays (whitespace, newlines, punctuation, emoji,
// `~`, lone surrogates), so a maintainer sees where text was, how long it was and how it was
// laid out. Redaction markers, XML-style tags (`<command-name>`, `<system-reminder>`…) and the
// client's own structural texts stay readable: `[Request interrupted by user…]`,
// `[Tool call interrupted…`, `connection_lost…` (first sentence), stock tool-rejection texts,
// and whole `API Error…` texts (with the error entries' `error` objects), since those are what a
// report is about. JSON types and structure never change: keys stay (except keys that are
// themselves paths, such as file-history backups, which are masked), numbers and booleans stay,
// and ids, types, roles, models, stop reasons, timestamps, versions, tool names and the like stay.
//
// Thinking signatures: default mode keeps them byte for byte (the session then resumes against the
// real API exactly as before). Strict mode masks them like text (letters `x`, digits `0`, `+/=`
// kept; an empty signature stays empty): the masked thinking no longer matches its signature, so
// no signature could make the request valid again, and a real signature carries the thinking in
// encrypted form. A maintainer still sees which blocks were signed and how long each signature
// was. `redacted_thinking` data and base64 media are masked the same way.

import { isUtf8 } from 'node:buffer';
import { homedir, userInfo } from 'node:os';
import { readLines } from '../read/line-reader.js';
import { AtomicFile } from '../write/atomic-file.js';
import { salvageLine } from '../read/salvage.js';

export type RedactMode = 'default' | 'strict';

export interface RedactOptions {
  mode: RedactMode;
  /** The home directory to replace by `~` (default: `os.homedir()`). */
  home?: string;
  /** The user name to replace by `<user>` (default: `os.userInfo().username`). */
  user?: string;
}

export interface Redactor {
  readonly mode: RedactMode;
  /** How many replacements of each kind were made (secret kinds, `home-dir`, `user-name`, `other-user-name`, and in strict mode `masked-text`). */
  readonly counts: Map<string, number>;
  /** Secrets and personal data replaced in any text. */
  text(s: string): string;
  /** Secrets alone replaced: for the transcript's structural strings (ids, entry types, versions, tool names), which personal-data rules must not reword. */
  secrets(s: string): string;
  /** A redacted deep copy of a parsed session entry (or any JSON value). */
  entry(obj: unknown): unknown;
  /** A physical line that is not JSON (torn, glued, NUL bytes), redacted keeping its damage shape. */
  rawLine(s: string): string;
}

export const marker = (kind: string) => `[REDACTED:${kind}]`;
const MARKER_RE = /\[REDACTED:[a-z0-9-]+\]/;

// ---------------------------------------------------------------------------------------------
// Secrets

interface SecretRule {
  kind: string;
  /** Cheap substrings of which at least one must occur for the rule to run. */
  hints?: readonly string[];
  /**
   * A global pattern. The named group `s` is the secret; text matched before it (group `p`) and
   * after it (group `q`) is kept. Without `s` the whole match is the secret.
   */
  re: RegExp;
  /** Further check of a match; false leaves it alone. */
  accept?: (secret: string, groups: Record<string, string | undefined>) => boolean;
  /** The kind, when it depends on the match. */
  kindOf?: (groups: Record<string, string | undefined>) => string;
}

/** Values that are obviously not real secrets: placeholders, masks, templates. */
function isPlaceholder(v: string): boolean {
  if (MARKER_RE.test(v)) return true;
  if (/x{4,}|X{4,}|\*{3,}|\.{3,}|…|#{4,}|REDACTED|EXAMPLE|[Ee]xample|[Pp]laceholder|[Yy]our[-_ ]?[A-Za-z]|YOUR[-_]|<[^>]*>|\$\{|\{\{|%[A-Za-z_]+%|^\$[A-Za-z_(]/.test(v)) return true;
  if (/^(.)\1+$/.test(v)) return true; // one character repeated
  return false;
}

// Token start: not inside a word. In raw JSON text an escape (`\n`, `\t`, `\r`) ends the word before.
const B = String.raw`(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))`;
const E = String.raw`(?![A-Za-z0-9_])`; // token end
const Q = String.raw`\\{0,7}["'\`]`; // a quote, possibly JSON-escaped (once or more)

const hasMixedAlnum = (s: string) => /[0-9]/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s);

const SECRET_RULES: SecretRule[] = [
  {
    kind: 'private-key',
    hints: ['-----BEGIN'],
    // With real newlines or JSON-escaped `\n`; a block cut off before its END line is redacted to the end of the string.
    re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|(?:\\.|[^"\\])*)/g,
  },
  {
    kind: 'anthropic-api-key',
    hints: ['sk-ant-'],
    re: new RegExp(`${B}sk-ant-(?<t>[a-z]+)\\d{2}-[A-Za-z0-9_-]{20,}`, 'g'),
    kindOf: (g) => (g.t === 'oat' || g.t === 'ort' ? 'anthropic-oauth-token' : 'anthropic-api-key'),
  },
  { kind: 'openrouter-api-key', hints: ['sk-or-'], re: new RegExp(`${B}sk-or-v\\d-[A-Za-z0-9]{32,}${E}`, 'g') },
  {
    kind: 'openai-api-key',
    hints: ['sk-'],
    re: new RegExp(`(?:(?<![A-Za-z0-9_-])|(?<=\\\\[nrt]))sk-(?!ant-|or-)(?:proj-|svcacct-|admin-|None-)?(?<s0>[A-Za-z0-9_-]{20,})(?![A-Za-z0-9_-])`, 'g'),
    accept: (_s, g) => hasMixedAlnum(g.s0 ?? ''),
  },
  { kind: 'github-token', hints: ['gh'], re: new RegExp(`${B}gh[pousr]_[A-Za-z0-9]{30,255}${E}`, 'g') },
  { kind: 'github-token', hints: ['github_pat_'], re: new RegExp(`${B}github_pat_[A-Za-z0-9_]{22,255}${E}`, 'g') },
  { kind: 'gitlab-token', hints: ['gl'], re: new RegExp(`${B}gl(?:pat|dt|rt|ptt|cbt|soat)-[A-Za-z0-9_-]{20,}`, 'g') },
  {
    kind: 'aws-access-key-id',
    re: /(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    kind: 'aws-secret-access-key',
    hints: ['ecret', 'ECRET'],
    re: new RegExp(`(?<p>(?:(?<![A-Za-z0-9])|(?<=\\\\[nrt]))(?:aws_?)?secret_?(?:access_?)?key(?:_?id)?(?:${Q})?\\s*(?:=|:)\\s*(?:${Q})?)(?<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])`, 'gi'),
  },
  { kind: 'google-api-key', hints: ['AIza'], re: new RegExp(`${B}AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])`, 'g') },
  { kind: 'google-oauth-token', hints: ['ya29.'], re: new RegExp(`${B}ya29\\.[0-9A-Za-z_-]{20,}`, 'g') },
  { kind: 'google-oauth-token', hints: ['1//0'], re: /(?:(?<![A-Za-z0-9/])|(?<=\\[nrt]))1\/\/0[0-9A-Za-z_-]{40,}/g },
  { kind: 'google-oauth-client-secret', hints: ['GOCSPX-'], re: new RegExp(`${B}GOCSPX-[A-Za-z0-9_-]{20,}`, 'g') },
  { kind: 'slack-webhook', hints: ['hooks.slack.com'], re: /(?<p>https?:\/\/hooks\.slack\.com\/)(?<s>(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{8,})/g },
  { kind: 'slack-token', hints: ['xox', 'xapp-'], re: new RegExp(`${B}(?:xox[abeoprs]-[A-Za-z0-9-]{10,}|xapp-\\d-[A-Za-z0-9-]{10,})`, 'g') },
  { kind: 'stripe-key', hints: ['_live_', '_test_', 'whsec_'], re: new RegExp(`${B}(?:(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,})${E}`, 'g') },
  { kind: 'npm-token', hints: ['npm_'], re: new RegExp(`${B}npm_[A-Za-z0-9]{36}${E}`, 'g') },
  { kind: 'pypi-token', hints: ['pypi-'], re: new RegExp(`${B}pypi-Ag[A-Za-z0-9_-]{50,}`, 'g') },
  { kind: 'huggingface-token', hints: ['hf_', 'api_org_'], re: new RegExp(`${B}(?:hf|api_org)_[A-Za-z0-9]{30,}${E}`, 'g'), accept: (s) => /[A-Z]/.test(s) && /[a-z]/.test(s.slice(3)) },
  { kind: 'sendgrid-api-key', hints: ['SG.'], re: new RegExp(`${B}SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{30,50}${E}`, 'g') },
  { kind: 'twilio-credentials', hints: ['AC'], re: /(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))AC[0-9a-f]{32}:[0-9a-f]{32}(?![A-Za-z0-9])/g },
  { kind: 'twilio-api-key', hints: ['SK'], re: /(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))SK[0-9a-fA-F]{32}(?![A-Za-z0-9])/g },
  { kind: 'discord-webhook', hints: ['/api/webhooks/'], re: /(?<p>https?:\/\/(?:[a-z]+\.)?discord(?:app)?\.com\/api\/webhooks\/)(?<s>\d+\/[A-Za-z0-9_-]{20,})/g },
  {
    kind: 'discord-bot-token',
    re: /(?:(?<![A-Za-z0-9_.-])|(?<=\\[nrt]))[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_.-])/g,
    accept: (s) => hasMixedAlnum(s),
  },
  { kind: 'telegram-bot-token', hints: [':AA'], re: /(?:(?<=bot)|(?<![A-Za-z0-9_:.-])|(?<=\\[nrt]))\d{8,10}:AA[A-Za-z0-9_-]{33}(?![A-Za-z0-9_-])/g },
  { kind: 'groq-api-key', hints: ['gsk_'], re: new RegExp(`${B}gsk_[A-Za-z0-9]{48,}${E}`, 'g') },
  { kind: 'xai-api-key', hints: ['xai-'], re: new RegExp(`${B}xai-[A-Za-z0-9]{60,}${E}`, 'g') },
  { kind: 'replicate-token', hints: ['r8_'], re: new RegExp(`${B}r8_[A-Za-z0-9]{37}${E}`, 'g') },
  { kind: 'shopify-token', hints: ['shp'], re: new RegExp(`${B}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}${E}`, 'g') },
  { kind: 'digitalocean-token', hints: ['_v1_'], re: new RegExp(`${B}do[opr]_v1_[a-f0-9]{64}${E}`, 'g') },
  { kind: 'databricks-token', hints: ['dapi'], re: new RegExp(`${B}dapi[a-f0-9]{32}(?:-\\d)?${E}`, 'g') },
  { kind: 'linear-api-key', hints: ['lin_'], re: new RegExp(`${B}lin_(?:api|oauth)_[A-Za-z0-9]{40}${E}`, 'g') },
  { kind: 'postman-api-key', hints: ['PMAK-'], re: new RegExp(`${B}PMAK-[a-f0-9]{24}-[a-f0-9]{34}${E}`, 'g') },
  { kind: 'age-secret-key', hints: ['AGE-SECRET-KEY-'], re: /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/g },
  { kind: 'jwt', hints: ['eyJ'], re: /(?:(?<![A-Za-z0-9_-])|(?<=\\[nrt]))eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?![A-Za-z0-9_-])/g },
  {
    kind: 'azure-account-key',
    hints: ['Key='],
    re: /(?<p>(?:AccountKey|SharedAccessKey|AccessKey)=)(?<s>[A-Za-z0-9+/]{20,}={0,2})/g,
  },
  { kind: 'azure-sas-signature', hints: ['sig='], re: /(?<p>[?&]sig=)(?<s>[A-Za-z0-9%+/=]{20,})/g },
  {
    kind: 'url-credentials',
    hints: ['://'],
    // scheme://user:password@host: scheme and host stay.
    re: /(?<p>(?<sch>[A-Za-z][A-Za-z0-9+.-]*):\/\/)(?<s>[^\s:/@"'\\<>]+:[^\s/@"'\\<>]+)(?<q>@[A-Za-z0-9[])/g,
    accept: (s) => !isPlaceholder(s.slice(s.indexOf(':') + 1)) && !/^\$/.test(s),
    kindOf: (g) => (/^(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|couchdb|neo4j(?:\+s)?|jdbc:[a-z]+)$/i.test(g.sch ?? '') ? 'database-url' : 'url-credentials'),
  },
  {
    kind: 'authorization-header',
    hints: ['uthorization', 'UTHORIZATION'],
    re: new RegExp(`(?<p>authorization(?:${Q})?\\s*[:=]\\s*(?:${Q})?(?:(?<sch>bearer|basic|token|digest|negotiate|bot)\\s+)?)(?<s>[A-Za-z0-9._~+/=:-]{8,})`, 'gi'),
    accept: (s, g) => g.sch !== undefined || /[0-9+/=]/.test(s),
  },
  { kind: 'bearer-token', hints: ['earer'], re: /(?<p>(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))[Bb]earer\s+)(?<s>[A-Za-z0-9._~+/-]{16,}=*)/g, accept: (s) => /[0-9]/.test(s) },
  {
    kind: 'cli-credentials',
    hints: ['-u', '--user'],
    // curl -u user:password
    re: /(?<p>(?:(?<![A-Za-z0-9_-])|(?<=\\[nrt]))(?:-u|--user)\s+(?:\\{0,3}["'])?[^\s:"'\\[\]]+:)(?<s>[^\s"'\\]{3,})/g,
  },
];

// Names whose value is a secret in assignments (`PASSWORD=…`, `"api_key": "…"`, `apiKey: '…'`).
const PASSWORD_WORDS = new Set(['password', 'passwd', 'passphrase', 'pass', 'pwd', 'pw']);
const SECRET_LAST_WORDS = new Set(['secret', 'token', 'apikey', 'credential']);
const SECRET_PAIRS = new Set(['api key', 'secret key', 'private key', 'access key', 'account key', 'master key', 'signing key', 'encryption key', 'client secret', 'app secret', 'auth token', 'access token', 'refresh token', 'session token', 'bot token', 'api token', 'auth key', 'app key', 'license key', 'webhook secret', 'shared secret']);
/** Alone, these are too often a command, code or prose: they need a qualifier (`DB_PASS`) unless they are a JSON key or a flag. */
const NEEDS_QUALIFIER = new Set(['pwd', 'pass', 'pw']);

/** Words of an identifier: split at `_`, `-`, `.`, and lower→Upper case changes; lower-cased. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_.\-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** A token, key or secret value looks random; placeholder-like words (`proxy-handled`, `dev_key`) do not. */
const looksRandom = (v: string) => /[0-9]/.test(v) || (/[A-Z]/.test(v) && /[a-z]/.test(v)) || /[^A-Za-z0-9_\-. ]/.test(v) || (v.length >= 32 && !/[ ]/.test(v));

/** The kind a name's value is redacted as, or null when the name does not name a secret. */
function secretNameKind(name: string, bare = false): 'password' | 'secret' | null {
  const words = wordsOf(name);
  const last = words[words.length - 1];
  if (last === undefined) return null;
  const pair = words.slice(-2).join(' ');
  if (!bare && words.length === 1 && NEEDS_QUALIFIER.has(last)) return null;
  if (PASSWORD_WORDS.has(last)) return 'password';
  if (SECRET_LAST_WORDS.has(last) || SECRET_PAIRS.has(pair)) return 'secret';
  if (words.length >= 2 && words[words.length - 2] === 'secret' && (last === 'value' || last === 'string')) return 'secret';
  return null;
}

const SECRET_NAME_HINT = /pass|pwd|pw\b|secret|token|key|credential/i;

const CODE_WORDS = new Set(['string', 'str', 'number', 'int', 'bool', 'boolean', 'bytes', 'any', 'unknown', 'never', 'object', 'none', 'null', 'nil', 'undefined', 'true', 'false', 'optional', 'secret', 'secretstr', 'await', 'new', 'this', 'self', 'require', 'function', 'async', 'typeof', 'yield', 'return', 'const', 'let', 'var', 'required', 'os', 'env', 'process', 'input', 'getpass', 'prompt', 'password', 'token', 'type', 'default']);

/** Whether an unquoted assignment value looks like code rather than a literal secret. */
function looksLikeCode(value: string, name: string, next: string, spaced: boolean): boolean {
  if (next === '(' || next === '[' || next === '.') return true;
  if (spaced && /^[A-Za-z_$][\w$]*$/.test(value)) return true; // `key = otherVariable`
  if (CODE_WORDS.has(value.toLowerCase())) return true;
  if (/^[A-Za-z_$][\w$]*(?:[?!]?\.[A-Za-z_$][\w$]*)+$/.test(value)) return true; // attribute access
  if (/^[a-z]+(?:[A-Z][a-z]*)+$/.test(value)) return true; // a camelCase variable
  if (/^\d+$/.test(value)) return true; // counts, ports, sizes
  if (wordsOf(value).join('') === wordsOf(name).join('')) return true; // token=token
  return false;
}

const ASSIGNMENT_RE = new RegExp(
  // An identifier (maybe quoted, maybe JSON-escaped), `=`, `:=` or `:`, then a quoted or bare value.
  String.raw`(?<p>(?:(?<![A-Za-z0-9_$])|(?<=\\[nrt]))(?<q1>\\{0,7}["'])?(?<name>[A-Za-z_][A-Za-z0-9_.-]{0,80})\k<q1>\s*(?<sep>:=|=|:)[ \t]*(?<q2>\\{0,7}["'\x60])?)` +
    String.raw`(?<s>(?:(?!\k<q2>)[^\n\r])+?(?=\k<q2>)|[^\s"'\x60,;|<>(){}\[\]\\=*$%&][^\s"'\x60,;|<>(){}\[\]\\]*)`,
  'g',
);

/** `--password value`, `--api-key=value` and the like on command lines. */
const FLAG_RE = /(?<p>(?:(?<![A-Za-z0-9_-])|(?<=\\[nrt]))--(?<name>[A-Za-z][A-Za-z0-9-]*)(?:=|[ \t]+)(?<q>\\{0,7}["'])?)(?<s>(?:(?!\k<q>)[^\n\r])+?(?=\k<q>)|[^\s"'\\-][^\s"'\\;&|)]*)/g;

// ---------------------------------------------------------------------------------------------
// Strict-mode masking

/** Keys whose string values are ids, references, timestamps or types: never masked (ids are not even searched for secrets). */
const KEEP_ANYWHERE = new Set([
  'type', 'id', 'uuid', 'parentUuid', 'logicalParentUuid', 'leafUuid', 'sessionId', 'messageId', 'requestId', 'tool_use_id',
  'toolUseID', 'parentToolUseID', 'sourceToolAssistantUUID', 'sourceToolUseID', 'promptId', 'agentId', 'timestamp',
  'media_type', 'backupFileName', 'backupTime', 'signatureType', 'hookEvent', 'hookName',
]);
/** Keys of entry, message and usage metadata: kept outside content. */
const KEEP_META = new Set([
  'role', 'model', 'stop_reason', 'stop_sequence', 'stopReason', 'version', 'userType', 'entrypoint', 'subtype', 'level',
  'permissionMode', 'operation', 'slug', 'service_tier', 'trigger', 'error', 'status', 'speed', 'inference_geo', 'userModel',
]);
/** Containers whose direct fields are still metadata. */
const META_CONTAINERS = new Set(['message', 'usage', 'cache_creation', 'server_tool_use', 'compactMetadata', 'caller', 'thinkingMetadata', 'context_management']);
/** Keys never run through text redaction: ids and opaque blobs. */
const ID_KEYS = new Set([
  'id', 'uuid', 'parentUuid', 'logicalParentUuid', 'leafUuid', 'sessionId', 'messageId', 'requestId', 'tool_use_id', 'toolUseID',
  'parentToolUseID', 'sourceToolAssistantUUID', 'sourceToolUseID', 'promptId', 'agentId', 'timestamp', 'backupFileName', 'backupTime',
]);
const OPAQUE_KEYS = new Set(['signature', 'data', 'base64']);
const TOOL_BLOCK_TYPES = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use']);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const API_ID_RE = /^(?:toolu|srvtoolu|msg|req|call)_[A-Za-z0-9_]{8,}$/;
const ISO_TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?$/;
const HEX_ID_RE = /^[0-9a-f]{7,64}(?:@v\d+)?$/;
const BASE64_BLOB_RE = /^[A-Za-z0-9+/_-]{1024,}={0,2}$/;
const isIdLike = (s: string) => UUID_RE.test(s) || API_ID_RE.test(s) || ISO_TIME_RE.test(s) || HEX_ID_RE.test(s);

/** The client's own texts that stay readable in strict mode: the part of the string kept. */
const KEPT_PREFIXES: RegExp[] = [
  /^API Error[\s\S]*/,
  /^\[Request interrupted by user[^\]\n]*\]?/,
  /^\[Tool call interrupted[^\]\n]*\]?/,
  /^connection_lost[^.\n]*\.?/,
  /^The user doesn't want to (?:proceed with this tool use|take this action right now)\./,
  /^No response requested\./,
  /^Interrupted by user/,
  /^Caveat: The messages below were generated by the user while running local commands\./,
  /^This session is being continued from a previous conversation[^.\n]*\./,
];
/** Kept inside masked text: redaction markers and XML-style tags the client wraps text in. */
const KEPT_TOKENS = /\[REDACTED:[a-z0-9-]+\]|<\/?[A-Za-z][\w-]*>/g;
const KEPT_TOKENS_ESCAPED = /\[REDACTED:[a-z0-9-]+\]|<\/?[A-Za-z][\w-]*>|\\u[0-9a-fA-F]{4}|\\./g;

const maskRun = (s: string) => s.replace(/[\p{L}\p{M}]/gu, 'x').replace(/\p{N}/gu, '0');

/** Letters → `x`, digits → `0`, all else kept; markers and tags kept; with `escaped`, JSON escapes kept too. */
function maskText(s: string, escaped = false): string {
  let kept = '';
  for (const re of KEPT_PREFIXES) {
    const m = re.exec(s);
    if (m) {
      kept = m[0];
      break;
    }
  }
  const rest = s.slice(kept.length);
  const tokens = escaped ? KEPT_TOKENS_ESCAPED : KEPT_TOKENS;
  let out = kept;
  let from = 0;
  tokens.lastIndex = 0;
  for (let m = tokens.exec(rest); m !== null; m = tokens.exec(rest)) {
    out += maskRun(rest.slice(from, m.index)) + m[0];
    from = m.index + m[0].length;
  }
  return out + maskRun(rest.slice(from));
}

// ---------------------------------------------------------------------------------------------
// Personal data

const GENERIC_NAMES = new Set([
  'user', 'users', 'username', 'root', 'admin', 'administrator', 'runner', 'ubuntu', 'debian', 'ec2-user', 'node', 'app', 'dev',
  'developer', 'test', 'tester', 'vscode', 'codespace', 'codespaces', 'coder', 'shared', 'public', 'guest', 'default', 'linuxbrew',
  'me', 'you', 'name', 'yourname', 'your-name', 'your_username', 'yourusername', 'someone', 'somebody', 'john', 'jane', 'foo', 'bar',
  'example', 'demo', 'home', 'sandbox', 'docker', 'jenkins', 'gitlab-runner', 'build', 'builder', 'ci', 'private', 'project',
]);
const isGenericName = (name: string) => GENERIC_NAMES.has(name.toLowerCase()) || name.length < 2;

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A path in either form: `/` or `\` separators, the latter possibly JSON-escaped. */
const pathPattern = (p: string) =>
  p
    .split(/[\\/]+/)
    .map(escapeRe)
    .join(String.raw`(?:\\{1,8}|/)`);
const PATH_START = String.raw`(?:(?<![A-Za-z0-9_.~/-])|(?<=\\[nrt])|(?<=file://))`;
const PATH_END = String.raw`(?![A-Za-z0-9_.-]*[A-Za-z0-9_-])`;
/** `/home/<name>`, `/Users/<name>`, `C:\Users\<name>` (separators possibly JSON-escaped). */
const USER_PATH_RE = new RegExp(
  String.raw`(?<p>${PATH_START}(?:/home/|/Users/|[A-Za-z]:(?:\\{1,8}|/)Users(?:\\{1,8}|/)))(?<n>[A-Za-z0-9_][A-Za-z0-9._-]*[A-Za-z0-9_]|[A-Za-z0-9_])(?![A-Za-z0-9_.-])`,
  'g',
);

// ---------------------------------------------------------------------------------------------

interface Ctx {
  key: string | undefined;
  /** Outside content: entry, message and usage fields. */
  meta: boolean;
  /** Inside an API error: kept as text in strict mode. */
  keepAll: boolean;
  /** The `type` of the object holding the value. */
  holderType: string | undefined;
  /** The key of the map holding this key: `trackedFileBackups` keys are paths. */
  keyIsData: boolean;
}

class RedactorImpl implements Redactor {
  readonly counts = new Map<string, number>();
  private readonly strict: boolean;
  private readonly homeRe: RegExp | null;
  private readonly user: string;
  private readonly userWordRe: RegExp | null;
  private readonly names = new Map<string, string>();
  private encodedRe: RegExp | null = null;
  private changed = false;

  constructor(readonly mode: RedactMode, home: string, user: string) {
    this.strict = mode === 'strict';
    const h = home.replace(/[\\/]+$/, '');
    this.homeRe = h.length >= 2 && /[\\/]/.test(h) ? new RegExp(`${PATH_START}${pathPattern(h)}${PATH_END}`, /^[A-Za-z]:/.test(h) ? 'gi' : 'g') : null;
    this.user = user;
    if (user !== '') this.names.set(user, '<user>');
    // The user name alone, in prose or e-mail addresses, unless it is a common word or could be part of a hex id.
    this.userWordRe = user.length >= 3 && !isGenericName(user) && !/^[0-9a-f]+$/i.test(user) ? new RegExp(`(?:(?<![A-Za-z0-9])|(?<=\\\\[nrt]))${escapeRe(user)}(?![A-Za-z0-9])`, 'g') : null;
    this.rebuildEncoded();
  }

  private count(kind: string): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
  }

  // --- text -------------------------------------------------------------------------------

  text(s: string): string {
    return this.personal(this.secrets(s));
  }

  secrets(s: string): string {
    let out = s;
    for (const rule of SECRET_RULES) {
      if (rule.hints && !rule.hints.some((h) => out.includes(h))) continue;
      out = this.apply(out, rule);
    }
    if (SECRET_NAME_HINT.test(out)) out = this.assignments(out);
    if (out.includes('--')) out = this.flags(out);
    return out;
  }

  private apply(s: string, rule: SecretRule): string {
    rule.re.lastIndex = 0;
    return s.replace(rule.re, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = (typeof args[args.length - 1] === 'object' ? args[args.length - 1] : {}) as Record<string, string | undefined>;
      const secret = groups.s ?? match;
      if (isPlaceholder(secret)) return match;
      if (rule.accept && !rule.accept(secret, groups)) return match;
      const kind = rule.kindOf?.(groups) ?? rule.kind;
      this.count(kind);
      if (groups.s === undefined) return marker(kind);
      return (groups.p ?? '') + marker(kind) + (groups.q ?? '');
    });
  }

  private assignments(s: string): string {
    ASSIGNMENT_RE.lastIndex = 0;
    return s.replace(ASSIGNMENT_RE, (match: string, ...rest: unknown[]) => {
      const groups = rest[rest.length - 1] as Record<string, string | undefined>;
      const at = rest[rest.length - 3] as number;
      const name = groups.name!;
      let value = groups.s!;
      let after = '';
      // `a=1&password=x&b=2`: a query-string value ends at `&`.
      if (groups.sep === '=' && groups.q2 === undefined && value.includes('&')) {
        after = value.slice(value.indexOf('&'));
        value = value.slice(0, value.indexOf('&'));
      }
      const quoted = groups.q2 !== undefined;
      const kind = secretNameKind(name, groups.q1 !== undefined);
      if (kind === null || value.length < 3 || isPlaceholder(value) || /^(?:https?|file):\/\//.test(value)) return match;
      if (kind === 'secret' && !looksRandom(value)) return match;
      if (!quoted) {
        const end = at + groups.p!.length + value.length;
        const spaced = /\s/.test(groups.p!.slice(groups.p!.length - 1)) || /\s(?::=|=|:)/.test(groups.p!);
        if (looksLikeCode(value, name, s.charAt(end), spaced && groups.sep !== ':')) return match;
        if (groups.sep === ':') {
          // A colon and a bare value: YAML (the name starts a line, the value ends it) or a value that looks like a secret.
          const yaml = this.atLineStart(s, at) && /^[ \t]*(?:$|\r?\n|\\n)/.test(s.slice(end, end + 3));
          if (!yaml && !(value.length >= 8 && /[0-9]/.test(value) && /[A-Za-z]/.test(value))) return match;
        }
      }
      this.count(kind);
      return groups.p + marker(kind) + after;
    });
  }

  private atLineStart(s: string, at: number): boolean {
    const from = Math.max(0, at - 40);
    const m = /(?:^|\n|\\n)[ \t-]*(?:export[ \t]+)?$/.exec(s.slice(from, at));
    return m !== null && (from === 0 || m[0].startsWith('\n') || m[0].startsWith('\\n'));
  }

  private flags(s: string): string {
    FLAG_RE.lastIndex = 0;
    return s.replace(FLAG_RE, (match: string, ...rest: unknown[]) => {
      const groups = rest[rest.length - 1] as Record<string, string | undefined>;
      const kind = secretNameKind(groups.name!, true);
      const value = groups.s!;
      if (kind === null || value.length < 3 || isPlaceholder(value) || CODE_WORDS.has(value.toLowerCase())) return match;
      if (kind === 'secret' && !looksRandom(value)) return match;
      this.count(kind);
      return groups.p + marker(kind);
    });
  }

  private personal(s: string): string {
    let out = s;
    if (this.homeRe) {
      out = out.replace(this.homeRe, () => {
        this.count('home-dir');
        return '~';
      });
    }
    if (out.includes('Users') || out.includes('/home/')) {
      out = out.replace(USER_PATH_RE, (match: string, ...rest: unknown[]) => {
        const g = rest[rest.length - 1] as Record<string, string>;
        const placeholder = this.placeholderOf(g.n!);
        return placeholder === null ? match : g.p + placeholder;
      });
    }
    if (this.userWordRe && out.includes(this.user)) {
      out = out.replace(this.userWordRe, () => {
        this.count('user-name');
        return '<user>';
      });
    }
    if (this.encodedRe && (out.includes('-home-') || out.includes('-Users-'))) {
      out = out.replace(this.encodedRe, (match: string, ...rest: unknown[]) => {
        const g = rest[rest.length - 1] as Record<string, string>;
        const name = [...this.names.keys()].find((n) => encodeName(n) === g.n);
        if (name === undefined) return match;
        this.count(name === this.user ? 'user-name' : 'other-user-name');
        return g.p + this.names.get(name)!;
      });
    }
    return out;
  }

  /** The placeholder of a user name seen in a path, or null when the name is left alone. */
  private placeholderOf(name: string): string | null {
    if (name.startsWith('<') || (isGenericName(name) && name !== this.user)) return null;
    let placeholder = this.names.get(name);
    if (placeholder === undefined) {
      placeholder = `<user${this.names.size + (this.names.has(this.user) ? 1 : 2)}>`;
      this.names.set(name, placeholder);
      this.rebuildEncoded();
    }
    this.count(name === this.user ? 'user-name' : 'other-user-name');
    return placeholder;
  }

  /** Claude Code's project folder names encode paths with `-`: `-home-alice-proj`. */
  private rebuildEncoded(): void {
    const names = [...this.names.keys()].filter((n) => n !== '' && !isGenericName(n)).map(encodeName);
    this.encodedRe = names.length === 0 ? null : new RegExp(`(?<p>(?:(?<![A-Za-z0-9_.])|(?<=\\\\[nrt]))-(?:home|Users)-)(?<n>${names.map(escapeRe).join('|')})(?=-|$|[^A-Za-z0-9_.-])`, 'g');
  }

  // --- entries ----------------------------------------------------------------------------

  entry(obj: unknown): unknown {
    return this.entryChanged(obj).value;
  }

  /** The redacted copy and whether anything differs from the input. */
  entryChanged(obj: unknown): { value: unknown; changed: boolean } {
    this.changed = false;
    const root = obj as Record<string, unknown> | null;
    const apiError = typeof root === 'object' && root !== null && root.isApiErrorMessage === true;
    const value = this.walk(obj, { key: undefined, meta: true, keepAll: false, holderType: undefined, keyIsData: false }, apiError, root);
    return { value, changed: this.changed };
  }

  private walk(value: unknown, ctx: Ctx, apiError: boolean, root: unknown): unknown {
    if (typeof value === 'string') {
      const out = this.stringValue(value, ctx);
      if (out !== value) this.changed = true;
      return out;
    }
    if (Array.isArray(value)) return value.map((v) => this.walk(v, ctx, apiError, root));
    if (typeof value !== 'object' || value === null) return value;
    const obj = value as Record<string, unknown>;
    const holderType = typeof obj.type === 'string' ? obj.type : undefined;
    const out: Record<string, unknown> = {};
    const isRoot = value === root;
    // The fields of the entry itself, its message and usage are metadata; everything below is content.
    const meta = isRoot || (ctx.meta && ctx.key !== undefined && META_CONTAINERS.has(ctx.key));
    const self: Ctx = { ...ctx, meta };
    for (const [k, v] of Object.entries(obj)) {
      let key = this.keyOf(k, self);
      if (key !== k) {
        this.changed = true;
        // Masked or redacted keys may coincide (`a.py` and `b.md` both mask to `x.xx`): every key stays.
        if (Object.hasOwn(out, key)) {
          let n = 2;
          while (Object.hasOwn(out, `${key}#${n}`)) n++;
          key = `${key}#${n}`;
        }
      }
      const child: Ctx = {
        key: k,
        meta,
        keepAll: ctx.keepAll || (isRoot && ((apiError && k === 'message') || (obj.type === 'system' && obj.subtype === 'api_error' && k === 'error'))),
        holderType,
        keyIsData: k === 'trackedFileBackups',
      };
      const redacted = this.walk(v, child, apiError, root);
      if (key === '__proto__') Object.defineProperty(out, key, { value: redacted, enumerable: true, writable: true, configurable: true });
      else out[key] = redacted;
    }
    return out;
  }

  /** Keys are structure and stay; default redaction applies to them, and strict mode masks keys that are data (paths). */
  private keyOf(k: string, parent: Ctx): string {
    if (!/[\\/~ ]/.test(k) && !parent.keyIsData) return k.length > 40 ? this.text(k) : k;
    const t = this.text(k);
    return this.strict && !parent.meta ? this.mask(t) : t;
  }

  private mask(s: string, escaped = false): string {
    const out = maskText(s, escaped);
    if (out !== s) this.count('masked-text');
    return out;
  }

  /**
   * One string value, by where it sits. With `escaped`, the value is the body of a JSON string as
   * it stands in a raw line (a string cut off mid-escape in a damaged line).
   */
  private stringValue(s: string, ctx: Ctx, escaped = false): string {
    const key = ctx.key;
    if (s === '') return s;
    if ((key !== undefined && ID_KEYS.has(key)) || isIdLike(s)) return s;
    const blob = BASE64_BLOB_RE.test(s);
    if (blob || (key !== undefined && OPAQUE_KEYS.has(key) && (key !== 'data' || ctx.holderType === 'redacted_thinking' || ctx.holderType === 'base64'))) {
      // Signatures, redacted thinking and base64 media: kept in default mode, masked in strict mode.
      return this.strict ? this.mask(s, escaped) : s;
    }
    // `"password": "…"` in a tool input or output: the value is a secret whatever it looks like.
    const byName = key !== undefined && !ctx.meta ? secretNameKind(key, true) : null;
    if (byName !== null && s.length >= 3 && !isPlaceholder(s) && !/^(?:https?|file):\/\//.test(s)) {
      this.count(byName);
      return marker(byName);
    }
    const t = this.text(s);
    if (!this.strict || ctx.keepAll || (key !== undefined && KEEP_ANYWHERE.has(key))) return t;
    if (ctx.meta && key !== undefined && KEEP_META.has(key)) return t;
    if (key === 'name' && ctx.holderType !== undefined && TOOL_BLOCK_TYPES.has(ctx.holderType)) return t;
    return this.mask(t, escaped);
  }

  // --- raw lines --------------------------------------------------------------------------

  rawLine(s: string): string {
    return this.rawLineChanged(s).value;
  }

  rawLineChanged(s: string): { value: string; changed: boolean } {
    // NUL runs stay where they are; what lies between them is redacted on its own.
    const parts = s.split(/(\0+)/);
    let changed = false;
    const out = parts.map((part, i) => {
      if (i % 2 === 1 || part === '') return part;
      const r = this.rawSegment(part);
      changed ||= r.changed;
      return r.value;
    });
    return { value: out.join(''), changed };
  }

  private rawSegment(s: string): { value: string; changed: boolean } {
    if (s.trim() === '') return { value: s, changed: false };
    const whole = tryParse(s);
    if (whole.ok) return this.reserialised(s, whole.value);
    // Records glued together, a torn stub before them, a cut-off tail after them.
    const salvage = salvageLine(s);
    let out = '';
    let from = 0;
    let changed = false;
    for (const text of salvage.texts) {
      const at = s.indexOf(text, from);
      if (at === -1) continue;
      const gap = this.rawText(s.slice(from, at));
      const parsed = tryParse(text);
      const rec = parsed.ok ? this.reserialised(text, parsed.value) : this.rawText(text);
      out += gap.value + rec.value;
      changed ||= gap.changed || rec.changed;
      from = at + text.length;
    }
    const tail = this.rawText(s.slice(from));
    return { value: out + tail.value, changed: changed || tail.changed };
  }

  private reserialised(text: string, value: unknown): { value: string; changed: boolean } {
    const r = this.entryChanged(value);
    return r.changed ? { value: JSON.stringify(r.value), changed: true } : { value: text, changed: false };
  }

  /**
   * Text that does not parse as JSON: strings are found by their quotes and redacted like entry
   * values (by their key), the bytes between them keep their punctuation.
   */
  private rawText(s: string): { value: string; changed: boolean } {
    if (s === '') return { value: s, changed: false };
    interface Frame {
      key: string | undefined;
      type: string | undefined;
      meta: boolean;
      keepAll: boolean;
      array: boolean;
      keyIsData: boolean;
    }
    const stack: Frame[] = [];
    let pendingKey: string | undefined;
    let out = '';
    let i = 0;
    let lastOutside = 0;
    const flushOutside = (end: number) => {
      if (end > lastOutside) out += this.rawOutside(s.slice(lastOutside, end));
    };
    // A fragment that does not start like JSON (the rest of a record whose start was lost) most
    // likely starts inside a string: that string runs to the first unescaped quote.
    if (!/^\s*(?:[{}[\]",:0-9-]|true|false|null)/.test(s)) {
      const q = closingQuote(s, 0);
      if (q !== -1) {
        out += `${this.stringValue(s.slice(0, q), { key: undefined, meta: false, keepAll: false, holderType: undefined, keyIsData: false }, true)}"`;
        i = lastOutside = q + 1;
      }
    }
    while (i < s.length) {
      const c = s[i]!;
      if (c === '"') {
        flushOutside(i);
        const q = closingQuote(s, i + 1);
        const j = q === -1 ? s.length : q;
        const closed = q !== -1;
        const body = s.slice(i + 1, Math.min(j, s.length));
        let k = closed ? j + 1 : s.length;
        while (k < s.length && /\s/.test(s[k]!)) k++;
        const top = stack[stack.length - 1];
        if (closed && s[k] === ':') {
          const name = unescape(body) ?? body;
          pendingKey = name;
          const masked = this.keyOf(name, { key: top?.key, meta: top?.meta ?? true, keepAll: false, holderType: top?.type, keyIsData: top?.keyIsData ?? false });
          out += masked === name ? `"${body}"` : JSON.stringify(masked);
        } else {
          const key = top?.array ? top.key : pendingKey;
          const ctx: Ctx = { key, meta: top?.meta ?? true, keepAll: top?.keepAll ?? false, holderType: top?.type, keyIsData: false };
          const decoded = closed ? unescape(body) : null;
          let replaced: string;
          if (decoded !== null) {
            const r = this.stringValue(decoded, ctx);
            replaced = r === decoded ? body : JSON.stringify(r).slice(1, -1);
            if (top && !top.array && key === 'type') top.type = decoded;
          } else {
            // A string cut off mid-escape or never closed: redacted in its escaped form.
            replaced = this.stringValue(body, ctx, true);
          }
          out += `"${replaced}${closed ? '"' : ''}`;
          if (!top?.array) pendingKey = undefined;
        }
        i = closed ? j + 1 : s.length;
        lastOutside = i;
        continue;
      }
      if (c === '{' || c === '[') {
        const top = stack[stack.length - 1];
        const key = top?.array ? top.key : pendingKey;
        const isRoot = stack.length === 0;
        stack.push({
          key,
          type: undefined,
          // An array's elements sit where the array sits; an object's fields are metadata only in the entry, its message and usage.
          meta: c === '[' ? (top?.meta ?? true) : isRoot || ((top?.meta ?? false) && key !== undefined && META_CONTAINERS.has(key)),
          keepAll: top?.keepAll ?? false,
          array: c === '[',
          keyIsData: key === 'trackedFileBackups',
        });
        if (!top?.array) pendingKey = undefined;
      } else if (c === '}' || c === ']') {
        stack.pop();
      } else if (c === ',') {
        if (!stack[stack.length - 1]?.array) pendingKey = undefined;
      }
      i++;
    }
    flushOutside(s.length);
    return { value: out, changed: out !== s };
  }

  /** Bytes between strings: punctuation, numbers and literals, or text of a string whose start was lost. */
  private rawOutside(s: string): string {
    const t = this.text(s);
    if (!this.strict || !/\p{L}/u.test(t.replace(OUTSIDE_KEPT, ''))) return t;
    // Letters between strings are not JSON: text whose string quotes were lost. Ids and literals stay.
    return t.replace(new RegExp(`${OUTSIDE_KEPT.source}|[\\p{L}\\p{M}]+`, 'gu'), (m) => {
      if (/^[\p{L}\p{M}]+$/u.test(m) && !/^(?:true|false|null)$/.test(m)) {
        this.count('masked-text');
        return 'x'.repeat(m.length);
      }
      return m;
    });
  }
}

/** Literals, ids, markers and escapes that stay in strict mode between strings. */
const OUTSIDE_KEPT = /(?<![A-Za-z])(?:true|false|null)(?![A-Za-z])|\[REDACTED:[a-z0-9-]+\]|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(?:toolu|srvtoolu|msg|req)_[A-Za-z0-9_]{8,}|\\u[0-9a-fA-F]{4}|\\./g;

/** Index of the unescaped `"` that ends a JSON string whose body starts at `from`; -1 when the text ends first. */
function closingQuote(s: string, from: number): number {
  for (let j = from; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j;
  }
  return -1;
}

function encodeName(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '-');
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The value of a JSON string body, or null when it is not a valid one (cut mid-escape). */
function unescape(body: string): string | null {
  if (!body.includes('\\')) return /[\u0000-\u001f]/.test(body) ? null : body;
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    return null;
  }
}

export function createRedactor(opts: RedactOptions): Redactor {
  let user = opts.user;
  if (user === undefined) {
    try {
      user = userInfo().username;
    } catch {
      user = '';
    }
  }
  return new RedactorImpl(opts.mode, opts.home ?? homedir(), user);
}

// ---------------------------------------------------------------------------------------------
// Session files

const NL = Buffer.from('\n');

/**
 * Writes a redacted copy of a session: same lines in the same order, blank lines blank, the
 * trailing-newline state kept. A JSON line becomes its redacted entry; any other line is redacted
 * as raw text. Lines with nothing to redact keep their exact bytes. The copy is written to a temp
 * file beside the output, fsynced and renamed into place.
 */
export async function redactSessionFile(input: string, output: string, redactor: Redactor): Promise<{ lines: number; redacted: number }> {
  const impl = redactor instanceof RedactorImpl ? redactor : null;
  const file = await AtomicFile.create(output);
  let lines = 0;
  let redacted = 0;
  try {
    for await (const raw of readLines(input)) {
      lines++;
      const out = redactLine(raw.bytes, redactor, impl);
      if (out === null) await file.write(Buffer.from(raw.bytes)); // the reader reuses its buffer
      else {
        redacted++;
        await file.write(out);
      }
      if (raw.endsWithNewline) await file.write(NL);
    }
    await file.commit();
  } catch (err) {
    await file.abort();
    throw err;
  }
  return { lines, redacted };
}

/** The redacted bytes of one line, or null when nothing in it changes. */
function redactLine(bytes: Buffer, redactor: Redactor, impl: RedactorImpl | null): Buffer | null {
  if (bytes.length === 0) return null;
  const valid = isUtf8(bytes);
  const text = valid ? bytes.toString('utf8') : decodeKeepingBytes(bytes);
  if (text.trim() === '') return null;
  const parsed = tryParse(text);
  let value: string;
  if (parsed.ok) {
    const r = impl ? impl.entryChanged(parsed.value) : { value: redactor.entry(parsed.value), changed: JSON.stringify(redactor.entry(parsed.value)) !== JSON.stringify(parsed.value) };
    if (!r.changed) return null;
    value = JSON.stringify(r.value);
  } else {
    const r = impl ? impl.rawLineChanged(text) : { value: redactor.rawLine(text), changed: redactor.rawLine(text) !== text };
    if (!r.changed) return null;
    value = r.value;
  }
  return valid ? Buffer.from(value, 'utf8') : encodeKeepingBytes(value);
}

// Bytes that are not valid UTF-8 travel through redaction as private-use characters U+F700+byte,
// so a line with invalid UTF-8 keeps those exact bytes (and its damage) in the copy.
const BYTE_BASE = 0xf700;

function decodeKeepingBytes(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SequenceLength(bytes, i);
    if (n === 0) {
      out += String.fromCharCode(BYTE_BASE + bytes[i]!);
      i++;
    } else {
      out += bytes.toString('utf8', i, i + n);
      i += n;
    }
  }
  return out;
}

function encodeKeepingBytes(text: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= BYTE_BASE && code <= BYTE_BASE + 0xff) {
      parts.push(Buffer.from(text.slice(from, i), 'utf8'), Buffer.from([code - BYTE_BASE]));
      from = i + 1;
    }
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** Length of the valid UTF-8 sequence at `i`, 0 when the byte there does not start one. */
function utf8SequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 >= 0xa0)) return 0;
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 >= 0x90)) return 0;
    return 4;
  }
  return 0;
}
