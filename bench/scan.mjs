// The `ccrescue scan` bench: every session of a generated Claude dir of at least 1 GiB
// (bench/scan-tree.mjs), read by `ccrescue scan --json` and, for comparison, by ccusage (a native
// token-usage reader of the same files), alternately, BENCH_RUNS times each; medians are reported.
//
//   ccrescue  node --import bench/peak-rss.mjs bin/ccrescue scan --claude-dir <tree> --json
//   ccusage   CLAUDE_CONFIG_DIR=<tree> <native ccusage binary> claude daily --json --offline -z UTC
//
// ccusage@20.0.24 is not a project dependency: it is installed at bench time into
// bench/.work/ccusage (`npm install --prefix … --no-save`), once. Its npm launcher (a Node script that
// spawns the platform binary shipped as an optional dependency) is bypassed: the native binary is run
// directly, so its wall time and peak RSS are those of the reader itself. When the install fails (no
// registry), the comparison is skipped and ccrescue is measured alone.
//
// Wall time: spawn to exit, measured here. Peak RSS: the kernel's high-water mark of the whole process
// (all threads, so ccrescue's worker threads are included): for ccrescue, process.resourceUsage().maxRSS
// written at exit by the preloaded bench/peak-rss.mjs; for ccusage, "Maximum resident set size" of
// `/usr/bin/time -v` (the same counter, read by wait4; exact, nothing sampled). Without /usr/bin/time,
// ccusage's VmHWM is polled from /proc/<pid>/status every 10 ms instead (a lower bound: growth after
// the last poll is missed). The page cache is warmed first (one untimed read of every file).
//
// Checks: both exit 0 and print JSON; ccrescue must report every file and byte of the tree; ccusage's
// totals must be exactly the number of passes times its totals on a one-pass tree, and every project
// of every pass must show up in an untimed `--instances` run (so it read every file). A ccrescue failure
// fails the bench; a ccusage mismatch is reported. Goal (reported, never failing the run): ccrescue
// MiB/s at least 1.0 x ccusage's.
//
// Env: BENCH_SCAN_MB (tree size in MiB, default 1100), BENCH_RUNS (default 5, at least 2), CCRESCUE_CORPUS.
// Output: a table, then one JSON line; the same JSON in bench/.work/scan-results.json.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, WORK_DIR } from './generate.mjs';
import { ensureScanTree, SCAN_TREE_VERSION } from './scan-tree.mjs';

const MiB = 2 ** 20;
const RATIO_GOAL = 1.0;
const TIME_BIN = '/usr/bin/time';
export const CCUSAGE_VERSION = '20.0.24';
const CCUSAGE_PREFIX = join(WORK_DIR, 'ccusage');
const CCUSAGE_ARGS = ['claude', 'daily', '--json', '--offline', '-z', 'UTC'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 1) => (x === null || Number.isNaN(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);

class BenchError extends Error {
  constructor(message, run) {
    super(message);
    this.run = run;
  }
}

/** The native ccusage binary of the installed launcher package, or null. */
function nativeCcusage() {
  try {
    const launcher = join(CCUSAGE_PREFIX, 'node_modules/ccusage/package.json');
    if (JSON.parse(readFileSync(launcher, 'utf8')).version !== CCUSAGE_VERSION) return null;
    const pkg = createRequire(launcher).resolve(`@ccusage/ccusage-${process.platform}-${process.arch}/package.json`);
    const bin = join(dirname(pkg), 'bin', process.platform === 'win32' ? 'ccusage.exe' : 'ccusage');
    return existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

/** Installs ccusage into bench/.work/ccusage when it is not there yet; the binary's path, or null with the reason. */
function ensureCcusage(log) {
  let bin = nativeCcusage();
  if (bin) return { bin, installed: false };
  log(`installing ccusage@${CCUSAGE_VERSION} into ${relative(REPO, CCUSAGE_PREFIX)} (not a project dependency)`);
  const npmArgs = ['install', '--prefix', CCUSAGE_PREFIX, '--no-save', '--no-audit', '--no-fund', '--fetch-retries=1', '--fetch-timeout=60000', `ccusage@${CCUSAGE_VERSION}`];
  const viaNode = process.env.npm_execpath?.endsWith('.js');
  mkdirSync(CCUSAGE_PREFIX, { recursive: true });
  const r = spawnSync(viaNode ? process.execPath : 'npm', viaNode ? [process.env.npm_execpath, ...npmArgs] : npmArgs, { cwd: CCUSAGE_PREFIX, encoding: 'utf8', timeout: 5 * 60_000 });
  bin = nativeCcusage();
  if (bin) return { bin, installed: true };
  const why = r.error ? r.error.message : `npm exited ${r.status}${r.signal ? ` (${r.signal})` : ''}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`;
  return { bin: null, reason: `could not install ccusage@${CCUSAGE_VERSION} (${why})` };
}

/**
 * Runs one measured child with stdout to `outFile`; resolves with its wall time, peak RSS and CPU time.
 * `node: true` preloads bench/peak-rss.mjs (the child is `node <args>`).
 */
function measure(label, cmd, args, { node = false, env = {}, cwd = REPO, outFile }) {
  const probe = join(WORK_DIR, `peak-rss-${process.pid}.json`);
  rmSync(probe, { force: true });
  const argv0 = node ? [process.execPath, '--import', new URL('./peak-rss.mjs', import.meta.url).href, ...args] : [cmd, ...args];
  const useTime = existsSync(TIME_BIN);
  const [file, argv] = useTime ? [TIME_BIN, ['-v', ...argv0]] : [argv0[0], argv0.slice(1)];
  const out = openSync(outFile, 'w');
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(file, argv, { cwd, env: { ...process.env, NO_COLOR: '1', ...env, BENCH_PEAK_RSS_FILE: probe }, stdio: ['ignore', out, 'pipe'] });
    closeSync(out);
    const err = [];
    child.stderr.on('data', (d) => err.push(d));
    // Without /usr/bin/time, a non-Node child's peak is polled from /proc (a lower bound).
    let polledKiB = null;
    const poll =
      !useTime && !node && process.platform === 'linux'
        ? setInterval(() => {
            try {
              const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
              if (m) polledKiB = Math.max(polledKiB ?? 0, Number(m[1]));
            } catch {
              // exited between two polls
            }
          }, 10)
        : null;
    child.on('error', (e) => {
      if (poll) clearInterval(poll);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      if (poll) clearInterval(poll);
      const stderr = Buffer.concat(err).toString('utf8');
      let self = null;
      if (node) {
        try {
          self = JSON.parse(readFileSync(probe, 'utf8'));
        } catch {
          // the child died before its exit handler ran
        }
        rmSync(probe, { force: true });
      }
      const field = (re) => (useTime ? re.exec(stderr)?.[1] ?? null : null);
      const timeVKiB = field(/Maximum resident set size \(kbytes\): (\d+)/);
      const userS = field(/User time \(seconds\): ([\d.]+)/);
      const sysS = field(/System time \(seconds\): ([\d.]+)/);
      const timeVMiB = timeVKiB === null ? null : Number(timeVKiB) / 1024;
      resolveRun({
        label,
        exitCode: code,
        signal,
        wallS,
        peakRssMiB: self ? self.maxRssKiB / 1024 : timeVMiB ?? (polledKiB === null ? null : polledKiB / 1024),
        peakRssTimeVMiB: timeVMiB,
        cpuS: self ? (self.userCpuUs + self.systemCpuUs) / 1e6 : userS !== null && sysS !== null ? Number(userS) + Number(sysS) : null,
        stderr: useTime ? stderr.replace(/\n?\tCommand being timed:[\s\S]*$/, '') : stderr,
        outFile,
      });
    });
  });
}

async function warmPageCache(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await warmPageCache(p);
    else if (e.isFile()) for await (const _ of createReadStream(p, { highWaterMark: 4 * MiB })) {
      // read and discard: every run then reads from the page cache
    }
  }
}

function readJson(run, what) {
  try {
    return JSON.parse(readFileSync(run.outFile, 'utf8'));
  } catch (e) {
    throw new BenchError(`${what} did not print a JSON document (${e.message})`, run);
  }
}

const ccrescueArgs = (tree) => ['bin/ccrescue', 'scan', '--claude-dir', tree, '--json'];

/** ccrescue's scan document, checked against the tree it read. */
function checkCcrescue(run, tree) {
  if (run.exitCode !== 0) throw new BenchError('ccrescue scan exited non-zero', run);
  const doc = readJson(run, 'ccrescue scan');
  const t = doc?.totals;
  if (typeof t?.files !== 'number' || !Array.isArray(doc.sessions)) throw new BenchError(`ccrescue scan JSON lacks totals.files / sessions: ${JSON.stringify(doc).slice(0, 300)}`, run);
  if (t.files !== tree.files || (typeof t.bytes === 'number' && t.bytes !== tree.bytes)) {
    throw new BenchError(`ccrescue scan saw ${t.files} files / ${t.bytes} bytes, the tree has ${tree.files} / ${tree.bytes}`, run);
  }
  return { files: t.files, sessions: t.sessions, subagents: t.subagents, bytes: t.bytes, healthy: t.healthy, damaged: t.damaged, empty: t.empty, foreign: t.foreign, unreadable: t.unreadable, listed: doc.sessions.length };
}

/** ccusage's report: `daily` (per day) or, with --instances, `projects` (per project, then per day). */
function checkCcusageRun(run, key = 'daily') {
  if (run.exitCode !== 0) throw new BenchError('ccusage exited non-zero', run);
  const doc = readJson(run, 'ccusage');
  if (typeof doc?.[key] !== 'object' || doc[key] === null || typeof doc.totals?.totalTokens !== 'number') throw new BenchError(`ccusage JSON lacks ${key} / totals: ${JSON.stringify(doc).slice(0, 300)}`, run);
  return doc;
}

/** Does ccusage's report on the tree equal `passes` times its report on one pass? */
function compareUsage(doc, ref, passes) {
  const problems = [];
  if (doc.totals.totalTokens !== passes * ref.totals.totalTokens) problems.push(`total ${doc.totals.totalTokens} tokens, expected ${passes} x ${ref.totals.totalTokens}`);
  const refDays = new Map(ref.daily.map((d) => [d.date, d.totalTokens]));
  if (doc.daily.length !== refDays.size) problems.push(`${doc.daily.length} days, expected ${refDays.size}`);
  for (const d of doc.daily) if (refDays.get(d.date) * passes !== d.totalTokens) problems.push(`day ${d.date}: ${d.totalTokens} tokens, expected ${passes} x ${refDays.get(d.date)}`);
  return problems;
}

/** Every project of every pass, with the tokens of the same project in the one-pass tree. */
function compareProjects(doc, ref, passes) {
  const sum = (days) => days.reduce((n, d) => n + d.totalTokens, 0);
  const problems = [];
  let seen = 0;
  for (const [name, days] of Object.entries(ref.projects ?? {})) {
    const stem = name.replace(/-000$/, '');
    for (let p = 0; p < passes; p++) {
      const other = `${stem}-${String(p).padStart(3, '0')}`;
      const got = doc.projects?.[other];
      if (!got) problems.push(`project ${other} missing`);
      else if (sum(got) !== sum(days)) problems.push(`project ${other}: ${sum(got)} tokens, expected ${sum(days)}`);
      else seen++;
    }
  }
  return { problems, projectsChecked: seen };
}

/**
 * Runs the scan bench; resolves with its report (also printed and written to .work/scan-results.json).
 * Throws BenchError when ccrescue fails or misreads the tree.
 */
export async function runScanBench({ runs, sizeMb = Number(process.env.BENCH_SCAN_MB ?? 1100), log = (s) => process.stderr.write(s + '\n') }) {
  if (!(sizeMb > 0)) throw new BenchError('BENCH_SCAN_MB must be a positive number');
  if (!existsSync(join(REPO, 'dist/cli/main.js'))) throw new BenchError('dist/ is missing: run `npm run bench` (it builds first)');
  mkdirSync(WORK_DIR, { recursive: true });
  const tree = ensureScanTree({ targetBytes: Math.round(sizeMb * MiB), dir: join(WORK_DIR, `scan-tree-${sizeMb}mb`), log });
  const ref = ensureScanTree({ targetBytes: 1, dir: join(WORK_DIR, 'scan-tree-1pass'), log });
  const treeMiB = tree.bytes / MiB;
  const ccusage = ensureCcusage(log);
  if (!ccusage.bin) log(`bench: ${ccusage.reason}; ccusage comparison skipped`);
  const scratch = mkdtempSync(join(tmpdir(), 'ccrescue-bench-scan-')); // ccusage's cwd and HOME: no user config is picked up
  const ccusageEnv = (dir) => ({ CLAUDE_CONFIG_DIR: dir, HOME: scratch, XDG_CONFIG_HOME: join(scratch, '.config') });
  const outFile = (label) => join(WORK_DIR, `scan-out-${label}.json`);
  const runCcusage = (label, dir, extra = []) => measure(label, ccusage.bin, [...CCUSAGE_ARGS, ...extra], { env: ccusageEnv(dir), cwd: scratch, outFile: outFile(label) });
  const results = { ccrescue: [], ccusage: [] };
  let scanResult = null;
  let usage = null;
  try {
    // Reference runs on one pass (untimed): what a complete read of the tree must add up to.
    const refScan = checkCcrescue(await measure('ccrescue-1pass', process.execPath, ccrescueArgs(ref.dir), { node: true, outFile: outFile('ccrescue-1pass') }), ref);
    let refUsage = null;
    let refProjects = null;
    if (ccusage.bin) {
      refUsage = checkCcusageRun(await runCcusage('ccusage-1pass', ref.dir));
      refProjects = checkCcusageRun(await runCcusage('ccusage-1pass-instances', ref.dir, ['--instances']), 'projects');
    }
    log(`warming the page cache (${tree.files} files, ${treeMiB.toFixed(0)} MiB)`);
    await warmPageCache(join(tree.dir, 'projects'));

    for (let i = 1; i <= runs; i++) {
      const c = await measure('ccrescue', process.execPath, ccrescueArgs(tree.dir), { node: true, outFile: outFile('ccrescue') });
      scanResult = checkCcrescue(c, tree);
      results.ccrescue.push(c);
      log(`run ${i}/${runs} ccrescue: ${c.wallS.toFixed(2)} s, ${(treeMiB / c.wallS).toFixed(1)} MiB/s, peak RSS ${c.peakRssMiB?.toFixed(1)} MiB, ${scanResult.damaged} damaged`);
      if (ccusage.bin) {
        const u = await runCcusage('ccusage', tree.dir);
        const doc = checkCcusageRun(u);
        const problems = compareUsage(doc, refUsage, tree.passes);
        usage = { days: doc.daily.length, totalTokens: doc.totals.totalTokens, onePassTotalTokens: refUsage.totals.totalTokens, complete: problems.length === 0, problems: problems.slice(0, 5) };
        if (problems.length) log(`bench: WARNING ccusage did not read the whole tree: ${problems.slice(0, 3).join('; ')}`);
        results.ccusage.push(u);
        log(`run ${i}/${runs} ccusage:  ${u.wallS.toFixed(2)} s, ${(treeMiB / u.wallS).toFixed(1)} MiB/s, peak RSS ${u.peakRssMiB?.toFixed(1)} MiB, ${doc.daily.length} days`);
      }
    }
    if (ccusage.bin) {
      // Untimed: per-project totals show that every project dir of every pass was read.
      const perProject = compareProjects(checkCcusageRun(await runCcusage('ccusage-instances', tree.dir, ['--instances']), 'projects'), refProjects, tree.passes);
      usage.projectsChecked = perProject.projectsChecked;
      usage.projectProblems = perProject.problems.slice(0, 5);
      if (perProject.problems.length) {
        usage.complete = false;
        log(`bench: WARNING ccusage --instances: ${perProject.problems.slice(0, 3).join('; ')}`);
      }
    }
    const expected = (k) => (typeof refScan[k] === 'number' ? refScan[k] * tree.passes : null);
    scanResult.proportional = ['healthy', 'damaged', 'empty', 'foreign', 'unreadable'].every((k) => scanResult[k] === expected(k));
    if (!scanResult.proportional) log(`bench: WARNING ccrescue's verdicts are not ${tree.passes} x those on one pass (${JSON.stringify(refScan)})`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const summarize = (list) => {
    if (list.length === 0) return null;
    const wallS = median(list.map((r) => r.wallS));
    const rss = list.map((r) => r.peakRssMiB).filter((x) => x !== null);
    const rssTimeV = list.map((r) => r.peakRssTimeVMiB).filter((x) => x !== null);
    const cpu = list.map((r) => r.cpuS).filter((x) => x !== null);
    return {
      runs: list.length,
      medianWallS: round(wallS, 3),
      filesPerS: round(tree.files / wallS, 0),
      mibPerS: round(treeMiB / wallS),
      medianPeakRssMiB: rss.length ? round(median(rss)) : null,
      maxPeakRssMiB: rss.length ? round(Math.max(...rss)) : null,
      medianPeakRssTimeVMiB: rssTimeV.length ? round(median(rssTimeV)) : null,
      medianCpuS: cpu.length ? round(median(cpu), 2) : null,
      wallS: list.map((r) => round(r.wallS, 3)),
      peakRssMiB: list.map((r) => round(r.peakRssMiB)),
    };
  };
  const cc = summarize(results.ccrescue);
  const cu = summarize(results.ccusage);
  const ratio = cu ? round(cc.mibPerS / cu.mibPerS, 3) : null;
  const useTime = existsSync(TIME_BIN);
  const report = {
    bench: 'ccrescue scan vs ccusage',
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    tree: {
      path: relative(REPO, tree.dir),
      bytes: tree.bytes,
      mib: round(treeMiB),
      files: tree.files,
      kinds: tree.kinds,
      projects: tree.projects,
      passes: tree.passes,
      generatorVersion: SCAN_TREE_VERSION,
      reused: tree.reused,
    },
    rssMethod: {
      ccrescue: `process.resourceUsage().maxRSS (whole process, worker threads included) written at exit by bench/peak-rss.mjs${useTime ? '; cross-checked with /usr/bin/time -v' : ''}`,
      ccusage: useTime ? '/usr/bin/time -v "Maximum resident set size" (wait4 rusage of the native binary)' : 'VmHWM of /proc/<pid>/status polled every 10 ms (lower bound)',
    },
    ccrescue: { ...cc, command: `node bin/ccrescue scan --claude-dir <tree> --json`, result: scanResult },
    ccusage: cu
      ? { ...cu, version: CCUSAGE_VERSION, command: `CLAUDE_CONFIG_DIR=<tree> ccusage ${CCUSAGE_ARGS.join(' ')} (native binary)`, result: usage }
      : { skipped: ccusage.reason },
    throughputRatio: ratio,
    goals: { throughputRatio: { goal: `ccrescue MiB/s / ccusage MiB/s >= ${RATIO_GOAL.toFixed(1)}`, value: ratio, met: ratio === null ? null : ratio >= RATIO_GOAL } },
  };
  writeFileSync(join(WORK_DIR, 'scan-results.json'), JSON.stringify(report, null, 2) + '\n');

  const widths = [9, 5, 9, 8, 7, 13, 12, 7];
  const row = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  const show = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
  const line = (name, s) => row([name, s.runs, show(s.medianWallS, 2), show(s.filesPerS, 0), show(s.mibPerS), show(s.medianPeakRssMiB), show(s.medianPeakRssTimeVMiB), show(s.medianCpuS, 2)]);
  const k = tree.kinds;
  const lines = [
    '',
    `tree: ${report.tree.path}  ${report.tree.mib} MiB (${tree.bytes} bytes), ${tree.files} files (${k.main} sessions, ${k.agent} agent-*, ${k.subagent} subagents) in ${tree.projects} projects, ${tree.passes} passes, generator v${SCAN_TREE_VERSION}${tree.reused ? ' (reused)' : ''}`,
    `node ${process.version}, ${report.cpu}`,
    '',
    row(['', 'runs', 'median s', 'files/s', 'MiB/s', 'peak RSS MiB', 'time -v MiB', 'cpu s']),
    line('ccrescue', cc),
    cu ? line('ccusage', cu) : `ccusage    skipped: ${ccusage.reason}`,
    '',
    `ccrescue result: ${scanResult.files} files, ${scanResult.healthy} healthy, ${scanResult.damaged} damaged, ${scanResult.empty} empty, ${scanResult.foreign} foreign, ${scanResult.unreadable} unreadable${scanResult.proportional ? ` (${tree.passes} x one pass)` : '  (WARNING: not a multiple of one pass)'}`,
  ];
  if (cu) {
    lines.push(
      `ccusage@${CCUSAGE_VERSION} result: ${usage.days} days, ${usage.totalTokens} tokens = ${tree.passes} x ${usage.onePassTotalTokens}, ${usage.projectsChecked} projects checked${usage.complete ? '' : `  (WARNING: ${[...usage.problems, ...(usage.projectProblems ?? [])][0]})`}`,
      `throughput ratio ccrescue/ccusage: ${ratio.toFixed(3)}   goal >= ${RATIO_GOAL.toFixed(1)}: ${report.goals.throughputRatio.met ? 'met' : 'NOT met'}`,
    );
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(JSON.stringify(report) + '\n');
  return report;
}

/** Prints a BenchError (with the failed run's stderr) and exits 1. */
export function failScan(err) {
  process.stderr.write(`bench: ${err instanceof BenchError ? err.message : (err?.stack ?? String(err))}\n`);
  if (err?.run) process.stderr.write(`--- exit ${err.run.exitCode}${err.run.signal ? ` (${err.run.signal})` : ''}; stderr:\n${err.run.stderr.slice(-4000)}\n`);
  process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const runs = Math.max(2, Number(process.env.BENCH_RUNS ?? 5));
  if (!Number.isInteger(runs)) failScan(new BenchError('BENCH_RUNS must be an integer'));
  runScanBench({ runs }).catch(failScan);
}
