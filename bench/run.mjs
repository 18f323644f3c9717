// `npm run bench`: three benches, one after the other (BENCH_ONLY=recover, scan or guard runs one):
//   recover  throughput and peak memory of `ccrescue recover --dry-run` on a generated session of at
//            least 500 MiB, beside a plain read-split-JSON.parse baseline on the same file (below);
//   scan     `ccrescue scan` on a generated Claude dir of at least 1 GiB, beside ccusage (bench/scan.mjs).
//   guard    50 concurrent streaming requests through `ccrescue guard` and straight to the same local
//            upstream: added time to first byte, and the guard's peak memory (bench/guard.mjs).
//
// Each run is a child process:
//   baseline  node --import bench/peak-rss.mjs bench/baseline.mjs <file>
//   ccrescue  node --import bench/peak-rss.mjs bin/ccrescue recover <file> --dry-run --json --claude-dir <empty dir> --force
// Wall time is measured around the child by this process (spawn to exit, Node start-up included for
// both). Peak RSS is the child's own getrusage() high-water mark, written at exit by the preloaded
// bench/peak-rss.mjs: exact (the kernel keeps it, nothing is sampled, so no peak between two polls is
// missed), needs no extra package, and works wherever Node does. When /usr/bin/time exists the child
// also runs under `time -v`, whose "Maximum resident set size" (the same counter, via wait4) is
// recorded as a cross-check. The ccrescue run must exit 0 and print a JSON document, and the baseline
// must report every byte and line of the file, or the bench fails.
//
// Baseline and ccrescue alternate, BENCH_RUNS times each (default 5, at least 2); medians are reported.
// Env: BENCH_MB (size of the generated session in MiB, default 500), BENCH_RUNS, CCRESCUE_CORPUS.
// Output: a table, then one JSON line with every figure; the same JSON in bench/.work/results.json.
// Goals (printed, never failing the run): ccrescue peak RSS < 200 MiB; its throughput >= 0.8 x baseline.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureSession, GENERATOR_VERSION, REPO, WORK_DIR } from './generate.mjs';
import { failScan, runScanBench } from './scan.mjs';
import { runGuardBench } from './guard.mjs';

const MiB = 2 ** 20;
const RSS_GOAL_MIB = 200;
const RATIO_GOAL = 0.8;
const TIME_BIN = '/usr/bin/time';

const sizeMb = Number(process.env.BENCH_MB ?? 500);
const runs = Math.max(2, Number(process.env.BENCH_RUNS ?? 5));
const only = process.env.BENCH_ONLY ?? '';
if (!(sizeMb > 0) || !Number.isInteger(runs)) throw new Error('BENCH_MB must be a positive number and BENCH_RUNS an integer');
if (!['', 'recover', 'scan', 'guard'].includes(only)) throw new Error('BENCH_ONLY must be recover, scan or guard (or unset for all three)');

const log = (s) => process.stderr.write(s + '\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs one measured child; resolves with its wall time, peak RSS, CPU time and output. */
function measure(label, args, { env = {} } = {}) {
  const probe = join(WORK_DIR, `peak-rss-${process.pid}.json`);
  rmSync(probe, { force: true });
  const nodeArgs = ['--import', new URL('./peak-rss.mjs', import.meta.url).href, ...args];
  const useTime = existsSync(TIME_BIN);
  const [cmd, argv] = useTime ? [TIME_BIN, ['-v', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  return new Promise((resolveRun, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, argv, { cwd: REPO, env: { ...process.env, ...env, BENCH_PEAK_RSS_FILE: probe }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      const stderr = Buffer.concat(err).toString('utf8');
      let self = null;
      try {
        self = JSON.parse(readFileSync(probe, 'utf8'));
      } catch {
        // the child died before its exit handler ran
      }
      rmSync(probe, { force: true });
      const timeV = useTime ? /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr) : null;
      resolveRun({
        label,
        exitCode: code,
        signal,
        wallS,
        peakRssMiB: self ? self.maxRssKiB / 1024 : null,
        peakRssTimeVMiB: timeV ? Number(timeV[1]) / 1024 : null,
        cpuS: self ? (self.userCpuUs + self.systemCpuUs) / 1e6 : null,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: useTime ? stderr.replace(/\n?\tCommand being timed:[\s\S]*$/, '') : stderr,
      });
    });
  });
}

function fail(message, run) {
  log(`bench: ${message}`);
  if (run) log(`--- exit ${run.exitCode}${run.signal ? ` (${run.signal})` : ''}; stderr:\n${run.stderr.slice(-4000)}`);
  process.exit(1);
}

async function warmPageCache(file) {
  for await (const _ of createReadStream(file, { highWaterMark: 4 * MiB })) {
    // read and discard: every run then starts from the same (cached) state
  }
}

async function main() {
  if (!existsSync(join(REPO, 'dist/cli/main.js'))) fail('dist/ is missing: run `npm run bench` (it builds first)');
  mkdirSync(WORK_DIR, { recursive: true });
  const sessionPath = join(WORK_DIR, `session-${sizeMb}mb.jsonl`);
  const session = ensureSession({ targetBytes: Math.round(sizeMb * MiB), out: sessionPath, log });
  const claudeDir = mkdtempSync(join(tmpdir(), 'ccrescue-bench-claude-'));
  const fileMiB = session.bytes / MiB;
  const results = { baseline: [], ccrescue: [] };
  let ccrescueStatus = null;
  try {
    await warmPageCache(sessionPath);
    for (let i = 1; i <= runs; i++) {
      const b = await measure('baseline', ['bench/baseline.mjs', sessionPath]);
      if (b.exitCode !== 0) fail('baseline failed', b);
      const counted = JSON.parse(b.stdout);
      if (counted.bytes !== session.bytes || counted.lines !== session.lines || counted.parsed !== session.lines) {
        fail(`baseline read ${counted.bytes} bytes / ${counted.lines} lines / ${counted.parsed} parsed, expected ${session.bytes} / ${session.lines}`, b);
      }
      results.baseline.push(b);
      log(`run ${i}/${runs} baseline: ${b.wallS.toFixed(2)} s, ${(fileMiB / b.wallS).toFixed(1)} MiB/s, peak RSS ${b.peakRssMiB?.toFixed(1)} MiB`);

      const c = await measure('ccrescue', ['bin/ccrescue', 'recover', sessionPath, '--dry-run', '--json', '--claude-dir', claudeDir, '--force']);
      if (c.exitCode !== 0) fail('ccrescue recover exited non-zero', c);
      let doc;
      try {
        doc = JSON.parse(c.stdout);
      } catch (e) {
        fail(`ccrescue stdout is not JSON (${e.message}): ${c.stdout.slice(0, 300)}`, c);
      }
      if (typeof doc?.status !== 'string' || typeof doc.snapshot !== 'object') fail(`ccrescue JSON lacks status/snapshot: ${c.stdout.slice(0, 300)}`, c);
      ccrescueStatus = { status: doc.status, findings: doc.snapshot.findings?.length ?? null, repairs: doc.snapshot.repairs?.length ?? null };
      results.ccrescue.push(c);
      log(`run ${i}/${runs} ccrescue: ${c.wallS.toFixed(2)} s, ${(fileMiB / c.wallS).toFixed(1)} MiB/s, peak RSS ${c.peakRssMiB?.toFixed(1)} MiB, status ${doc.status}`);
    }
  } finally {
    rmSync(claudeDir, { recursive: true, force: true });
  }

  const summarize = (list) => {
    const wallS = median(list.map((r) => r.wallS));
    const rss = list.map((r) => r.peakRssMiB).filter((x) => x !== null);
    const rssTimeV = list.map((r) => r.peakRssTimeVMiB).filter((x) => x !== null);
    return {
      runs: list.length,
      medianWallS: round(wallS, 3),
      mibPerS: round(fileMiB / wallS),
      medianPeakRssMiB: rss.length ? round(median(rss)) : null,
      maxPeakRssMiB: rss.length ? round(Math.max(...rss)) : null,
      medianPeakRssTimeVMiB: rssTimeV.length ? round(median(rssTimeV)) : null,
      medianCpuS: round(median(list.map((r) => r.cpuS ?? NaN)), 2),
      wallS: list.map((r) => round(r.wallS, 3)),
      peakRssMiB: list.map((r) => (r.peakRssMiB === null ? null : round(r.peakRssMiB))),
    };
  };
  const base = summarize(results.baseline);
  const cc = summarize(results.ccrescue);
  const ratio = round(cc.mibPerS / base.mibPerS, 3);
  const goals = {
    peakRssUnder200MiB: { goal: `< ${RSS_GOAL_MIB} MiB`, value: cc.maxPeakRssMiB, met: cc.maxPeakRssMiB !== null && cc.maxPeakRssMiB < RSS_GOAL_MIB },
    throughputRatio: { goal: `>= ${RATIO_GOAL}`, value: ratio, met: ratio >= RATIO_GOAL },
  };
  const report = {
    bench: 'ccrescue recover --dry-run',
    date: new Date().toISOString(),
    node: process.version,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    file: { path: relative(REPO, sessionPath), bytes: session.bytes, mib: round(fileMiB), lines: session.lines, segments: session.segments, generatorVersion: GENERATOR_VERSION, reused: session.reused },
    rssMethod: `process.resourceUsage().maxRSS written at exit by bench/peak-rss.mjs${existsSync(TIME_BIN) ? '; cross-checked with /usr/bin/time -v' : ''}`,
    baseline: base,
    ccrescue: { ...cc, result: ccrescueStatus },
    throughputRatio: ratio,
    goals,
  };
  mkdirSync(WORK_DIR, { recursive: true });
  writeFileSync(join(WORK_DIR, 'results.json'), JSON.stringify(report, null, 2) + '\n');

  const row = (cells, widths) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  const widths = [10, 5, 11, 8, 14, 11, 8];
  const show = (x, d = 1) => (x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
  const lines = [
    '',
    `file: ${report.file.path}  ${report.file.mib} MiB (${session.bytes} bytes), ${session.lines} lines, ${session.segments} segments, generator v${GENERATOR_VERSION}${session.reused ? ' (reused)' : ''}`,
    `node ${process.version}, ${report.cpu}`,
    '',
    row(['', 'runs', 'median s', 'MiB/s', 'peak RSS MiB', 'time -v MiB', 'cpu s'], widths),
    row(['baseline', base.runs, show(base.medianWallS, 2), show(base.mibPerS), show(base.medianPeakRssMiB), show(base.medianPeakRssTimeVMiB), show(base.medianCpuS, 2)], widths),
    row(['ccrescue', cc.runs, show(cc.medianWallS, 2), show(cc.mibPerS), show(cc.medianPeakRssMiB), show(cc.medianPeakRssTimeVMiB), show(cc.medianCpuS, 2)], widths),
    '',
    `ccrescue result: status ${ccrescueStatus?.status}, ${ccrescueStatus?.findings} findings, ${ccrescueStatus?.repairs} repairs${ccrescueStatus?.status === 'healthy' ? '' : '  (WARNING: the generated session is healthy by construction)'}`,
    `throughput ratio ccrescue/baseline: ${ratio.toFixed(3)}   goal >= ${RATIO_GOAL}: ${goals.throughputRatio.met ? 'met' : 'NOT met'}`,
    `ccrescue peak RSS (max of runs): ${show(cc.maxPeakRssMiB)} MiB   goal < ${RSS_GOAL_MIB} MiB: ${goals.peakRssUnder200MiB.met ? 'met' : 'NOT met'}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(JSON.stringify(report) + '\n');
}

async function all() {
  if (only === '' || only === 'recover') await main().catch((err) => fail(err?.stack ?? String(err)));
  if (only === '' || only === 'scan') await runScanBench({ runs, log }).catch(failScan);
  if (only === '' || only === 'guard')
    await runGuardBench({ runs, log }).catch((err) => {
      log(`guard bench failed: ${err?.stack ?? err}`);
      process.exitCode = 1;
    });
}

all();
