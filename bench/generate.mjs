// Builds one long, plausible Claude Code session out of genuine corpus transcripts, streaming and
// deterministically: the same corpus and generator version always give the same bytes.
//
// The conversational lines of a fixed list of healthy sessions are written again and again, each
// pass ("segment") with its own uuids, message ids, request ids and tool ids, every sessionId set to
// one id, timestamps shifted so that each segment starts a minute after the previous one ended, and
// the first entry of each segment linked to the last main-chain entry of the previous one, so the
// whole file is one chain that `ccrescue recover` finds healthy.
//
//   node bench/generate.mjs [--mb 500] [--out bench/.work/session-500mb.jsonl]
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Bump whenever the output for the same inputs changes: a cached file of another version is rebuilt. */
export const GENERATOR_VERSION = 4;

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..');
export const WORK_DIR = join(HERE, '.work');
export const DEFAULT_CORPUS = process.env.CCRESCUE_CORPUS ?? resolve(REPO, '../shared/corpus');
export const SESSION_ID = '5e55a1b0-be4c-4c0d-9a11-000000000500';

/**
 * Genuine Claude Code main-session transcripts that ccrescue finds healthy (no Codex/Gemini files, no
 * hand-made fixtures, no subagent files), chosen for variety: 1.0.x in-file sidechains, 2.0.x, 2.1.x
 * progress/hook entries, attachments, compactions, API-error retries, interrupted turns.
 */
export const SOURCES = [
  'marot__spotter/test/fixtures/transcripts/258c7280-ae70-4798-800f-63464d01a85d.jsonl',
  'entireio__cli/b0/2936744f3b/0/full.jsonl',
  'entireio__cli/64/9d11045222/0/full.jsonl',
  'entireio__cli/ad/ac80fffbb8/0/full.jsonl',
  'codemie-ai__codemie-code/tests/integration/session/fixtures/session-624a4a58.jsonl',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-claude-code-log-sample/0d3a8e6f-290f-4105-a327-a2496e5e2a83.jsonl',
  'daaain__claude-code-log/test/test_data/real_projects/-src-deep-manifest/a7da6a22-facc-4fcd-8bab-f83c87862004.jsonl',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-coderabbit-review-helper/cb2e607c-c758-415a-8b45-c49e4631906a.jsonl',
  'daaain__claude-code-log/test/test_data/real_projects/-Users-dain-workspace-danieldemmel-me-next/9e953218-585f-4692-89df-9e0747a31c68.jsonl',
  'daaain__claude-code-log/test/test_data/real_projects/-experiments-worktrees/ef958aa1-0e93-49f0-bb71-150f63befcd1.jsonl',
  'd-kimuson__claude-code-viewer/mock-global-claude-dir/projects/sample-project/fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl',
];

/** The lines of a conversation; session metadata (summary, last-prompt, queue-operation, titles, modes) is left out. */
const KEPT_TYPES = new Set(['user', 'assistant', 'system', 'progress', 'attachment', 'file-history-snapshot']);
const CHAIN_TYPES = new Set(['user', 'assistant', 'system', 'progress', 'attachment']);
const GAP_MS = 60_000;
const FLUSH_BYTES = 8 << 20;

// A JSON string value that is exactly an id: Anthropic ids (msg_, req_, toolu_, srvtoolu_, with optional
// bdrk_/vrtx_ infix) or a uuid. Escaped quotes (\") never match, so ids quoted inside text stay as they are.
const ID_VALUE = /"((?:msg|req|toolu|srvtoolu)_[A-Za-z0-9_]{6,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/g;
const TIMESTAMP = /"timestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)"/g;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const sha = (text) => createHash('sha256').update(text).digest();

export function newUuid(segment, uuid) {
  const h = sha(`uuid:${segment}:${uuid}`).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Same prefix (msg_01, toolu_bdrk_01, …) and length, new deterministic tail. */
export function newApiId(segment, id) {
  const prefix = /^[a-z]+_(?:bdrk_|vrtx_)?(?:0\d)?/.exec(id)[0];
  let tail = '';
  for (let round = 0; tail.length < id.length - prefix.length; round++) {
    for (const byte of sha(`id:${segment}:${round}:${id}`)) tail += BASE62[byte % 62];
  }
  return prefix + tail.slice(0, id.length - prefix.length);
}

/** Reads one source once: its kept lines and what is needed to rewrite them. */
function loadSource(corpus, rel) {
  const bytes = readFileSync(join(corpus, rel));
  const lines = [];
  const uuids = new Set();
  const sessionIds = new Set();
  let minTs = Infinity;
  let maxTs = -Infinity;
  for (const text of bytes.toString('utf8').split('\n')) {
    if (text.trim() === '') continue;
    const entry = JSON.parse(text); // sources are healthy: a parse error is a corpus change, and should stop the run
    if (typeof entry.uuid === 'string') uuids.add(entry.uuid);
    if (typeof entry.sessionId === 'string') sessionIds.add(entry.sessionId);
    if (!KEPT_TYPES.has(entry.type)) continue;
    const ts = typeof entry.timestamp === 'string' ? Date.parse(entry.timestamp) : NaN;
    if (ts < minTs) minTs = ts;
    if (ts > maxTs) maxTs = ts;
    const chain = typeof entry.uuid === 'string' && CHAIN_TYPES.has(entry.type);
    lines.push({
      text,
      uuid: chain ? entry.uuid : null,
      main: chain && entry.isSidechain !== true,
      parent: entry.parentUuid ?? null,
      root: entry.type === 'system' && entry.subtype === 'compact_boundary',
    });
  }
  if (!Number.isFinite(minTs) || !Number.isFinite(maxTs)) throw new Error(`${rel}: no timestamps`);
  return { rel, digest: createHash('sha256').update(bytes).digest('hex'), lines, uuids, sessionIds, minTs, maxTs };
}

/** Rewrites one source line for one segment. */
function rewrite(src, line, segment, shiftMs, prevMain, ids) {
  let text = line.text.replace(ID_VALUE, (_, id) => {
    if (src.sessionIds.has(id)) return `"${SESSION_ID}"`;
    let mapped = ids.get(id);
    if (mapped === undefined) {
      mapped = id.length === 36 && id[8] === '-' ? newUuid(segment, id) : newApiId(segment, id);
      ids.set(id, mapped);
    }
    return `"${mapped}"`;
  });
  if (shiftMs !== 0) text = text.replace(TIMESTAMP, (_, ts) => `"timestamp":"${new Date(Date.parse(ts) + shiftMs).toISOString()}"`);
  // One chain: a main-chain entry without a parent in this file hangs off the previous segment's last
  // entry (a compaction boundary stays a root, as Claude Code writes it).
  const orphan = line.parent === null || !src.uuids.has(line.parent);
  if (line.main && orphan && !line.root && prevMain !== null) {
    const entry = JSON.parse(text);
    entry.parentUuid = prevMain;
    text = JSON.stringify(entry);
  }
  return text;
}

function describeExisting(out, meta, wanted) {
  if (!existsSync(out) || !existsSync(meta)) return null;
  try {
    const info = JSON.parse(readFileSync(meta, 'utf8'));
    if (info.generatorVersion !== wanted.generatorVersion || info.targetBytes !== wanted.targetBytes || info.sourcesDigest !== wanted.sourcesDigest) return null;
    return statSync(out).size === info.bytes ? info : null;
  } catch {
    return null;
  }
}

/**
 * Makes sure `out` holds a generated session of at least `targetBytes`; reuses an existing one of the
 * same generator version, target and sources. Returns its description (also stored beside it as .meta.json).
 */
export function ensureSession({ targetBytes, out, corpus = DEFAULT_CORPUS, log = () => {} }) {
  const sources = SOURCES.map((rel) => loadSource(corpus, rel));
  const sourcesDigest = sha(sources.map((s) => `${s.rel}:${s.digest}`).join('\n')).toString('hex');
  const meta = out.replace(/\.jsonl$/, '') + '.meta.json';
  const wanted = { generatorVersion: GENERATOR_VERSION, targetBytes, sourcesDigest };
  const existing = describeExisting(out, meta, wanted);
  if (existing) {
    log(`reusing ${out} (${existing.bytes} bytes, ${existing.lines} lines, generator v${GENERATOR_VERSION})`);
    return { ...existing, path: out, reused: true };
  }

  mkdirSync(dirname(out), { recursive: true });
  const temp = `${out}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w');
  const started = Date.now();
  let bytes = 0;
  let lines = 0;
  let segments = 0;
  let pending = [];
  let pendingBytes = 0;
  let prevMain = null;
  let cursorMs = sources[0].minTs;
  const flush = () => {
    if (pending.length === 0) return;
    const buf = Buffer.from(pending.join(''), 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    pending = [];
    pendingBytes = 0;
  };
  try {
    while (bytes < targetBytes) {
      const src = sources[segments % sources.length];
      const shiftMs = cursorMs - src.minTs;
      const ids = new Map();
      for (const line of src.lines) {
        const text = rewrite(src, line, segments, shiftMs, prevMain, ids) + '\n';
        if (line.main) prevMain = ids.get(line.uuid) ?? line.uuid;
        const size = Buffer.byteLength(text, 'utf8');
        pending.push(text);
        pendingBytes += size;
        bytes += size;
        lines++;
        if (pendingBytes >= FLUSH_BYTES) flush();
      }
      cursorMs = src.maxTs + shiftMs + GAP_MS;
      segments++;
      if (segments % 20 === 0) log(`  ${segments} segments, ${(bytes / 2 ** 20).toFixed(0)} MiB`);
    }
    flush();
  } finally {
    closeSync(fd);
  }
  renameSync(temp, out);
  const info = { ...wanted, bytes, lines, segments, sessionId: SESSION_ID, sources: sources.map((s) => ({ path: s.rel, lines: s.lines.length, sha256: s.digest })), generatedInMs: Date.now() - started };
  writeFileSync(meta, JSON.stringify(info, null, 2) + '\n');
  log(`generated ${out}: ${bytes} bytes, ${lines} lines, ${segments} segments in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { ...info, path: out, reused: false };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const mb = Number(opt('--mb', process.env.BENCH_MB ?? '500'));
  const out = resolve(opt('--out', join(WORK_DIR, `session-${mb}mb.jsonl`)));
  ensureSession({ targetBytes: Math.round(mb * 2 ** 20), out, log: (s) => console.error(s) });
}
