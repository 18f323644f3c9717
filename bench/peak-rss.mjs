// Preloaded with `node --import ./bench/peak-rss.mjs …` in each measured child: when the process exits,
// it writes the kernel's own peak resident set size for it (getrusage ru_maxrss, via
// process.resourceUsage().maxRSS, in KiB) and its CPU times to the file named by BENCH_PEAK_RSS_FILE.
// Nothing is sampled, so no short-lived peak can be missed, and the program under test is not changed.
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_PEAK_RSS_FILE;
delete process.env.BENCH_PEAK_RSS_FILE; // not inherited by anything the program itself starts
if (out) {
  process.on('exit', (code) => {
    const r = process.resourceUsage();
    writeFileSync(out, JSON.stringify({ maxRssKiB: r.maxRSS, userCpuUs: r.userCPUTime, systemCpuUs: r.systemCPUTime, exitCode: code }));
  });
}
