// The `ccrescue guard` load bench: 50 concurrent streaming requests on loopback, sent straight to a
// local SSE upstream and then through the guard in front of it, alternately, BENCH_RUNS times each.
//
//   upstream  an HTTP server in this process: for each POST /v1/messages it answers at once with
//             `message_start`, then 200 `content_block_delta` events of about 100 bytes, 5 ms apart,
//             with a `ping` every 20, then `message_stop` (about 1 s and 25 KiB per stream)
//   guard     node --import bench/peak-rss.mjs bin/ccrescue guard --port <free port> (its own process,
//             ANTHROPIC_BASE_URL = the upstream), stopped with SIGTERM after the last round
//   load      50 requests at once, each with a 100 KiB JSON body holding "stream": true
//
// Figures per request: time to first byte (request sent → first body byte) and time to the last byte.
// Added latency = median TTFB through the guard − median TTFB direct, per round, then the median of
// rounds; p95 is reported too. Every response through the guard must be byte-identical to the direct
// one and the guard must exit 0, or the bench fails. Peak RSS is the guard process's kernel high-water
// mark (all threads), beside the same figure for an idle guard that served one request.
//
// Env: BENCH_RUNS (default 5, at least 2), BENCH_GUARD_CONCURRENCY (default 50).
// Output: a table, then one JSON line; the same JSON in bench/.work/guard-results.json.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, Agent } from 'node:http';
import { join } from 'node:path';
import { REPO, WORK_DIR } from './generate.mjs';

const MiB = 2 ** 20;
const DELTAS = 200;
const DELTA_GAP_MS = 5;
const BODY_BYTES = 100 * 1024;
/** Sent as Claude Code sends it; no session file exists, so nothing is snapshotted. */
const SESSION_ID = '00000000-0000-4000-8000-0000000bench';
/** Requests sent one at a time per round: the guard's own cost, without 50 requests queued on it. */
const SINGLES = 20;
/** Added time to first byte of a request alone under which the guard counts as transparent (reported, never failing). */
const ADDED_TTFB_GOAL_MS = 5;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sse(event, data) {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The upstream: a scripted SSE stream per request; /v1/models answers 401 as the real API does without a key. */
function startUpstream() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      if (req.url.startsWith('/v1/models')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end('{"type":"error","error":{"type":"authentication_error","message":"no key"}}');
      }
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_${body.length}` });
      res.write(sse('message_start', { type: 'message_start', message: { id: 'msg_bench', type: 'message', role: 'assistant', content: [], model: 'bench', stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } }));
      res.write(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
      for (let i = 0; i < DELTAS; i++) {
        if (res.destroyed) return;
        if (i % 20 === 0) res.write(sse('ping', { type: 'ping' }));
        res.write(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `delta ${i} `.padEnd(40, '.') } }));
        await sleep(DELTA_GAP_MS);
      }
      res.write(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
      res.write(sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: DELTAS } }));
      res.end(sse('message_stop', { type: 'message_stop' }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One streaming request: time to first byte, time to the end, and the bytes. */
function streamOnce(port, agent, body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let firstByte = null;
    const chunks = [];
    const req = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/messages', agent, headers: { 'content-type': 'application/json', 'content-length': body.length, 'x-api-key': 'bench-not-a-key', 'anthropic-version': '2023-06-01', 'x-claude-code-session-id': SESSION_ID } },
      (res) => {
        res.on('data', (c) => {
          if (firstByte === null) firstByte = process.hrtime.bigint();
          chunks.push(c);
        });
        res.on('end', () => {
          const done = process.hrtime.bigint();
          resolve({ status: res.statusCode, ttfbMs: Number(firstByte - started) / 1e6, totalMs: Number(done - started) / 1e6, bytes: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function round50(port, concurrency, body) {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    return await Promise.all(Array.from({ length: concurrency }, () => streamOnce(port, agent, body)));
  } finally {
    agent.destroy();
  }
}

/** Starts the guard in its own process; resolves once it listens. */
function startGuard(upstreamPort, port, probe) {
  const child = spawn(process.execPath, ['--import', new URL('./peak-rss.mjs', import.meta.url).href, join(REPO, 'bin', 'ccrescue'), 'guard', '--port', String(port), '--claude-dir', join(WORK_DIR, 'guard-empty-claude')], {
    cwd: REPO,
    env: { ...process.env, ANTHROPIC_BASE_URL: `http://127.0.0.1:${upstreamPort}`, BENCH_PEAK_RSS_FILE: probe, CCRESCUE_SETTINGS: join(WORK_DIR, 'guard-no-settings.json') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      if (stderr.includes(`127.0.0.1:${port}`)) return;
      if (child.exitCode !== null) break;
      await sleep(25);
    }
    throw new Error(`the guard did not start: ${stderr}`);
  })();
  return { child, exited, ready, stderr: () => stderr };
}

async function stopGuard(g, probe) {
  g.child.kill('SIGTERM');
  const { code, signal } = await g.exited;
  if (code !== 0) throw new Error(`the guard exited ${code ?? signal}: ${g.stderr()}`);
  const r = JSON.parse(readFileSync(probe, 'utf8'));
  return r.maxRssKiB / 1024;
}

export async function runGuardBench({ runs, log }) {
  mkdirSync(WORK_DIR, { recursive: true });
  writeFileSync(join(WORK_DIR, 'guard-no-settings.json'), '{}\n');
  const concurrency = Number(process.env.BENCH_GUARD_CONCURRENCY ?? 50);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('BENCH_GUARD_CONCURRENCY must be a positive integer');
  const upstream = await startUpstream();
  const upstreamPort = upstream.address().port;
  const body = Buffer.from(JSON.stringify({ model: 'bench', stream: true, max_tokens: 1024, messages: [{ role: 'user', content: 'x'.repeat(BODY_BYTES) }] }));
  try {
    // An idle guard's peak: start, one request, stop.
    const idleProbe = join(WORK_DIR, `guard-idle-rss-${process.pid}.json`);
    rmSync(idleProbe, { force: true });
    const idle = startGuard(upstreamPort, await freePort(), idleProbe);
    await idle.ready;
    await round50(Number(/127\.0\.0\.1:(\d+)/.exec(idle.stderr())[1]), 1, body);
    const idleRssMiB = await stopGuard(idle, idleProbe);

    const probe = join(WORK_DIR, `guard-rss-${process.pid}.json`);
    rmSync(probe, { force: true });
    const port = await freePort();
    const g = startGuard(upstreamPort, port, probe);
    await g.ready;
    await round50(port, 2, body); // warm: connections to the upstream, JIT
    await round50(upstreamPort, 2, body);
    const rounds = [];
    for (let i = 1; i <= runs; i++) {
      const direct = await round50(upstreamPort, concurrency, body);
      const guarded = await round50(port, concurrency, body);
      for (const r of [...direct, ...guarded]) if (r.status !== 200) throw new Error(`a request got HTTP ${r.status}`);
      const reference = direct[0].bytes;
      for (const r of [...direct, ...guarded]) if (!r.bytes.equals(reference)) throw new Error('a response through the guard differs from the direct one');
      const singleDirect = [];
      const singleGuard = [];
      for (let k = 0; k < SINGLES; k++) {
        singleDirect.push((await round50(upstreamPort, 1, body))[0].ttfbMs);
        singleGuard.push((await round50(port, 1, body))[0].ttfbMs);
      }
      const d = direct.map((r) => r.ttfbMs);
      const gd = guarded.map((r) => r.ttfbMs);
      const row = {
        directTtfbMedianMs: median(d),
        guardTtfbMedianMs: median(gd),
        directTtfbP95Ms: pct(d, 95),
        guardTtfbP95Ms: pct(gd, 95),
        addedTtfbMs: median(gd) - median(d),
        singleAddedTtfbMs: median(singleGuard) - median(singleDirect),
        directTotalMedianMs: median(direct.map((r) => r.totalMs)),
        guardTotalMedianMs: median(guarded.map((r) => r.totalMs)),
      };
      rounds.push(row);
      log(`guard round ${i}/${runs}: TTFB median direct ${row.directTtfbMedianMs.toFixed(2)} ms, through the guard ${row.guardTtfbMedianMs.toFixed(2)} ms (+${row.addedTtfbMs.toFixed(2)} ms); p95 ${row.directTtfbP95Ms.toFixed(2)} / ${row.guardTtfbP95Ms.toFixed(2)} ms; one request alone +${row.singleAddedTtfbMs.toFixed(2)} ms`);
    }
    const peakRssMiB = await stopGuard(g, probe);
    const m = (key) => round(median(rounds.map((r) => r[key])));
    const result = {
      bench: 'guard',
      concurrency,
      runs,
      streamBytes: 0,
      requestBodyKiB: round(body.length / 1024, 1),
      ttfbMs: { direct: m('directTtfbMedianMs'), guard: m('guardTtfbMedianMs'), added: m('addedTtfbMs'), addedAlone: m('singleAddedTtfbMs') },
      ttfbP95Ms: { direct: m('directTtfbP95Ms'), guard: m('guardTtfbP95Ms') },
      streamTotalMs: { direct: m('directTotalMedianMs'), guard: m('guardTotalMedianMs') },
      guardPeakRssMiB: round(peakRssMiB, 1),
      idleGuardPeakRssMiB: round(idleRssMiB, 1),
      goals: { addedTtfbAlone: { goal: `< ${ADDED_TTFB_GOAL_MS} ms`, value: m('singleAddedTtfbMs'), met: m('singleAddedTtfbMs') < ADDED_TTFB_GOAL_MS } },
      rounds,
      node: process.version,
    };
    result.streamBytes = (await round50(upstreamPort, 1, body))[0].bytes.length;
    log('');
    log(`guard, ${concurrency} concurrent streams of ${(result.streamBytes / 1024).toFixed(1)} KiB, ${runs} rounds (medians):`);
    log(`  time to first byte   direct ${result.ttfbMs.direct} ms   through the guard ${result.ttfbMs.guard} ms   added ${result.ttfbMs.added} ms (50 at once: the last waits for the 49 before it)`);
    log(`  one request alone    added ${result.ttfbMs.addedAlone} ms (goal < ${ADDED_TTFB_GOAL_MS} ms: ${result.goals.addedTtfbAlone.met ? 'met' : 'NOT met'})`);
    log(`  p95 first byte       direct ${result.ttfbP95Ms.direct} ms   through the guard ${result.ttfbP95Ms.guard} ms`);
    log(`  whole stream         direct ${result.streamTotalMs.direct} ms   through the guard ${result.streamTotalMs.guard} ms`);
    log(`  guard peak RSS       ${result.guardPeakRssMiB} MiB under load, ${result.idleGuardPeakRssMiB} MiB idle`);
    writeFileSync(join(WORK_DIR, 'guard-results.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result) + '\n');
    return result;
  } finally {
    upstream.closeAllConnections?.();
    upstream.close();
  }
}

if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('build first: npm run build');
