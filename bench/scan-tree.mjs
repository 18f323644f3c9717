// Builds a Claude config dir (`<tree>/projects/<encoded-project>/…`) of at least 1 GiB out of the
// genuine Claude Code transcripts of the corpus, for the `ccrescue scan` bench. Deterministic and
// streamed: one output file is in memory at a time, the same corpus and generator version always give
// the same tree.
//
// Every genuine Claude Code `.jsonl` of the corpus (no Codex rollouts, Gemini sessions, hand-made
// catalogues or zero-byte files) is copied again and again, in whole passes (so every pass holds the
// same sessions, and a reader's totals over the tree are the totals of one pass times the number of
// passes). Each pass is laid out like a real ~/.claude: one project dir per corpus repository and
// pass, main sessions as `<session-id>.jsonl`, legacy `agent-*.jsonl` beside them, and
// `<session-id>/subagents/agent-*.jsonl` under the session they belong to. Each pass gets its own sessionIds, uuids and `msg_`/`req_`/`toolu_`
// ids (one map per pass, so a session and its subagents stay consistent); nothing else changes: the
// files are rewritten as raw bytes (latin1 in, latin1 out), so lines that are torn, concatenated or
// not valid UTF-8 stay exactly as damaged as in the corpus.
//
//   node bench/scan-tree.mjs [--mb 1100] [--out bench/.work/scan-tree-1100mb]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CORPUS, newApiId, newUuid, WORK_DIR } from './generate.mjs';

/** Bump whenever the tree for the same inputs changes: a cached tree of another version is rebuilt. */
export const SCAN_TREE_VERSION = 1;

/** Hand-made schema catalogues, not recordings (the corpus MANIFEST marks them HAND-MADE). */
const HAND_MADE = [/^jazzyalex__agent-sessions\//, /agent-test-hash-\d+\.jsonl$/, /hook_attachments\.jsonl$/];
/** Codex rollouts and Gemini sessions stored under a .jsonl name. */
const FOREIGN = [/rollout-.*\.jsonl$/, /codex\//, /^entireio__cli\/(12|51|9c|ab|c9)\/.*full\.jsonl$/, /^entireio__cli\/ec\/38b74f08e3\/2\/full\.jsonl$/, /gemini\/jsonl_v040\.jsonl$/];

// A JSON string value that is exactly an id: a uuid, an Anthropic id (msg_, req_, toolu_, srvtoolu_; the
// tail may be a uuid, as in `msg_<uuid>`), or a redacted message/request id placeholder (`[REDACTED_REQUESTID]`),
// which a token-usage reader would otherwise deduplicate across passes. Escaped quotes (\") never match.
const ID_VALUE = /"((?:msg|req|toolu|srvtoolu)_[A-Za-z0-9_-]{6,}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\[REDACTED_[A-Z_]*ID\])"/g;
const REDACTED = '[REDACTED_';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SESSION_ID = /"sessionId":"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"/;

const sha = (text) => createHash('sha256').update(text).digest();
const toPosix = (p) => p.split(sep).join('/');

/** Genuine Claude Code transcripts of the corpus, sorted by path relative to it. */
export function claudeCorpusFiles(corpus = DEFAULT_CORPUS) {
  const found = [];
  const walk = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile() && d.name.endsWith('.jsonl')) {
        const rel = toPosix(relative(corpus, p));
        if (HAND_MADE.some((r) => r.test(rel)) || FOREIGN.some((r) => r.test(rel))) continue;
        if (statSync(p).size === 0) continue;
        found.push(rel);
      }
    }
  };
  walk(corpus);
  return found.sort();
}

/**
 * What one corpus file becomes in every pass: its role and, for a subagent, the corpus path of the
 * main session it hangs under (`<dir>/<X>/subagents/agent-*.jsonl` belongs to `<dir>/<X>.jsonl`).
 */
function describe(rel, relSet) {
  const parts = rel.split('/');
  const name = parts.at(-1);
  if (parts.length >= 4 && parts.at(-2) === 'subagents') {
    const sessionDir = parts.slice(0, -2).join('/');
    const mainRel = `${sessionDir}.jsonl`;
    return { kind: 'subagent', name, sessionDirName: parts.at(-3), mainRel: relSet.has(mainRel) ? mainRel : null };
  }
  if (name.startsWith('agent-')) return { kind: 'agent', name };
  return { kind: 'main', name };
}

function loadSources(corpus) {
  const rels = claudeCorpusFiles(corpus);
  const relSet = new Set(rels);
  return rels.map((rel) => {
    const bytes = readFileSync(join(corpus, rel));
    const latin1 = bytes.toString('latin1');
    return {
      rel,
      repo: rel.split('/')[0],
      bytes: bytes.length,
      digest: createHash('sha256').update(bytes).digest('hex'),
      latin1,
      sessionId: SESSION_ID.exec(latin1)?.[1] ?? null,
      ...describe(rel, relSet),
    };
  });
}

/** `owner__repo` → an encoded project path as Claude Code writes it (`/home/bench/<repo>-<pass>` → `-home-bench-<repo>-<pass>`). */
function projectName(repo, pass) {
  const short = repo.split('__').at(-1).replace(/[^A-Za-z0-9]/g, '-');
  return `-home-bench-${short}-${String(pass).padStart(3, '0')}`;
}

/** Every file under `dir`: count and bytes (the reuse check). */
export function walkTree(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        bytes += statSync(p).size;
      }
    }
  };
  if (existsSync(dir)) walk(dir);
  return { files, bytes };
}

function describeExisting(dir, meta, wanted) {
  if (!existsSync(dir) || !existsSync(meta)) return null;
  try {
    const info = JSON.parse(readFileSync(meta, 'utf8'));
    if (info.generatorVersion !== wanted.generatorVersion || info.targetBytes !== wanted.targetBytes || info.sourcesDigest !== wanted.sourcesDigest) return null;
    const seen = walkTree(join(dir, 'projects'));
    return seen.files === info.files && seen.bytes === info.bytes ? info : null;
  } catch {
    return null;
  }
}

/**
 * Makes sure `dir` holds a generated Claude dir of at least `targetBytes` of transcripts (whole passes:
 * `targetBytes: 1` gives exactly one); reuses an existing one of the same generator version, target and
 * sources. Returns its description, also stored beside it as `<dir>.meta.json`.
 */
export function ensureScanTree({ targetBytes, dir, corpus = DEFAULT_CORPUS, log = () => {} }) {
  const sources = loadSources(corpus);
  if (sources.length === 0) throw new Error(`no Claude Code transcripts under ${corpus}`);
  const sourcesDigest = sha(sources.map((s) => `${s.rel}:${s.digest}`).join('\n')).toString('hex');
  const meta = `${dir.replace(/\/+$/, '')}.meta.json`;
  const wanted = { generatorVersion: SCAN_TREE_VERSION, targetBytes, sourcesDigest };
  const existing = describeExisting(dir, meta, wanted);
  if (existing) {
    log(`reusing ${dir} (${existing.files} files, ${existing.bytes} bytes, tree generator v${SCAN_TREE_VERSION})`);
    return { ...existing, dir, reused: true };
  }

  const started = Date.now();
  const temp = `${dir}.${process.pid}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  const counts = { main: 0, agent: 0, subagent: 0 };
  const projects = new Set();
  let files = 0;
  let bytes = 0;
  let passes = 0;
  while (bytes < targetBytes) {
    const pass = passes++;
    const tag = `scan${pass}`;
    const ids = new Map(); // one map per pass: a session and its subagents keep agreeing on their ids
    const mapId = (id) => {
      let mapped = ids.get(id);
      if (mapped === undefined) {
        if (UUID.test(id)) mapped = newUuid(tag, id);
        else if (id.startsWith(REDACTED)) mapped = REDACTED + newApiId(tag, `x_${id.slice(REDACTED.length, -1)}`).slice(2) + ']';
        else mapped = newApiId(tag, id);
        ids.set(id, mapped);
      }
      return mapped;
    };
    const sessionOf = new Map(); // corpus path of a main file → its session id in this pass
    const taken = new Set();
    for (const src of sources) {
      const project = projectName(src.repo, pass);
      let target;
      if (src.kind === 'main') {
        const stem = src.name.slice(0, -'.jsonl'.length);
        const original = UUID.test(stem) ? stem : src.sessionId;
        let session = original ? mapId(original) : null;
        // Two corpus files of one session (captured at two moments) cannot share a name: the later one gets its own.
        if (session === null || taken.has(`${project}/${session}`)) session = newUuid(tag, `file:${src.rel}`);
        taken.add(`${project}/${session}`);
        sessionOf.set(src.rel, session);
        target = join(project, `${session}.jsonl`);
      } else if (src.kind === 'subagent') {
        const session = (src.mainRel && sessionOf.get(src.mainRel)) ?? (UUID.test(src.sessionDirName) ? mapId(src.sessionDirName) : newUuid(tag, `dir:${src.rel}`));
        target = join(project, session, 'subagents', src.name);
      } else {
        target = join(project, src.name);
      }
      const text = src.latin1.replace(ID_VALUE, (_, id) => `"${mapId(id)}"`);
      const out = join(temp, 'projects', target);
      mkdirSync(dirname(out), { recursive: true });
      if (existsSync(out)) throw new Error(`scan tree: two sources map to ${target}`);
      writeFileSync(out, Buffer.from(text, 'latin1'));
      bytes += Buffer.byteLength(text, 'latin1');
      files++;
      counts[src.kind]++;
      projects.add(project);
    }
    if (pass % 5 === 4) log(`  ${passes} passes, ${files} files, ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(temp, dir);
  const info = {
    ...wanted,
    files,
    bytes,
    passes,
    projects: projects.size,
    kinds: counts,
    sessions: counts.main,
    passBytes: sources.reduce((n, s) => n + s.bytes, 0),
    sources: sources.map((s) => ({ path: s.rel, bytes: s.bytes, kind: s.kind, sha256: s.digest })),
    generatedInMs: Date.now() - started,
  };
  writeFileSync(meta, JSON.stringify(info, null, 2) + '\n');
  log(`generated ${dir}: ${files} files (${counts.main} sessions, ${counts.agent} agent-*, ${counts.subagent} subagents) in ${projects.size} projects, ${bytes} bytes, ${passes} passes, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { ...info, dir, reused: false };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const mb = Number(opt('--mb', process.env.BENCH_SCAN_MB ?? '1100'));
  const dir = resolve(opt('--out', join(WORK_DIR, `scan-tree-${mb}mb`)));
  const info = ensureScanTree({ targetBytes: Math.round(mb * 2 ** 20), dir, log: (s) => console.error(s) });
  console.error(`${basename(dir)}: ${info.files} files, ${(info.bytes / 2 ** 20).toFixed(1)} MiB`);
}
