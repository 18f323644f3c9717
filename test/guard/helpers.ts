// Shared pieces of the guard tests: a real upstream on loopback that records what reaches it, a
// client that keeps the raw bytes and how its answer ended, and a guard with its events.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Agent } from 'undici';
import { Guard, type GuardEvent, type GuardOptions } from '../../src/guard/proxy.js';
import { BIN } from '../helpers/cli.js';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** Resolves when the upstream's side of this exchange closes; `finished` false: before its answer ended. */
  closed: Promise<{ finished: boolean }>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => unknown;

export interface Upstream {
  server: Server;
  port: number;
  url: string;
  seen: Seen[];
  /** Connections accepted, whatever came over them. */
  connections: number;
  handler: Handler;
  /** Stops listening and ends every connection: the port refuses from now on. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 (port 0 or the given one). */
export async function startUpstream(handler: Handler, port = 0): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const up: Upstream = {
    server: null as unknown as Server,
    port,
    url: '',
    seen: [],
    connections: 0,
    handler,
    async stop() {
      const closed = new Promise<void>((resolve) => up.server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      up.server.closeAllConnections();
      await closed;
    },
    async restart() {
      await listen(up.port);
    },
  };
  const listen = async (p: number): Promise<void> => {
    const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      let resolveClosed!: (v: { finished: boolean }) => void;
      const closed = new Promise<{ finished: boolean }>((r) => (resolveClosed = r));
      res.once('close', () => resolveClosed({ finished: res.writableFinished }));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.once('end', () => {
        const body = Buffer.concat(chunks);
        up.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body, closed });
        void up.handler(req, res, body);
      });
    });
    server.on('connection', (s: Socket) => {
      up.connections++;
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve());
    });
    up.server = server;
    up.port = (server.address() as AddressInfo).port;
    up.url = `http://127.0.0.1:${up.port}`;
  };
  await listen(port);
  return up;
}

/** A loopback port that was free a moment ago: nothing listens on it (connections are refused). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  /** The chunks as they arrived. */
  chunks: Buffer[];
  /** false: the connection ended before the response did (cut, dropped). */
  complete: boolean;
  /** When the last chunk arrived and when the answer ended (performance.now()). */
  lastChunkAt: number;
  endedAt: number;
}

export interface ClientRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called on each chunk as it arrives. */
  onChunk?: (chunk: Buffer, index: number) => void;
}

/** One request over a fresh connection; resolves once the answer ended, normally or not. */
export function send(base: string, r: ClientRequest = {}): { answer: Promise<Answer>; abort: () => void; responded: Promise<void> } {
  const url = new URL(r.path ?? '/v1/messages', base);
  let abortFn = (): void => undefined;
  let markResponded!: () => void;
  const responded = new Promise<void>((resolve) => (markResponded = resolve));
  const answer = new Promise<Answer>((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
    const req = httpRequest(url, {
      method: r.method ?? (body ? 'POST' : 'GET'),
      agent: false,
      headers: { ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...r.headers },
    });
    abortFn = () => req.destroy();
    req.once('error', (err) => reject(err));
    req.once('response', (res) => {
      markResponded();
      const chunks: Buffer[] = [];
      let lastChunkAt = performance.now();
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        lastChunkAt = performance.now();
        r.onChunk?.(c, chunks.length - 1);
      });
      const finish = (complete: boolean): void => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks), chunks, complete, lastChunkAt, endedAt: performance.now() });
      res.once('end', () => finish(res.complete));
      res.once('aborted', () => undefined);
      res.once('error', () => finish(false));
      res.once('close', () => finish(res.complete));
    });
    req.end(body);
  });
  return { answer, abort: () => abortFn(), responded };
}

/** A raw request written on a socket: for the request forms a normal client never sends. */
export async function raw(port: number, text: string): Promise<string> {
  // `text` is written and read as latin1.
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text, 'latin1'); // one byte per character: the test controls every byte
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.once('error', () => resolve());
    // The guard keeps a connection open after an answer with a length: the answer is enough.
    const timer = setTimeout(() => socket.destroy(), 3000);
    socket.on('data', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = /content-length: (\d+)/i.exec(text.slice(0, head));
      if (!length || text.length - head - 4 >= Number(length[1])) {
        clearTimeout(timer);
        socket.destroy();
      }
    });
  });
  return Buffer.concat(chunks).toString('latin1');
}

export interface Started {
  guard: Guard;
  events: GuardEvent[];
  /** Resolves with the first event (already seen or to come) that matches. */
  next<T extends GuardEvent['type']>(type: T, match?: (e: Extract<GuardEvent, { type: T }>) => boolean): Promise<Extract<GuardEvent, { type: T }>>;
}

const guards = new Set<Guard>();

export async function startGuard(opts: Partial<GuardOptions> & { upstream: string }): Promise<Started> {
  const guard = await Guard.start({ streamTimeoutMs: 30_000, maxWaitMs: 30_000, dispatcher: new Agent(), ...opts });
  guards.add(guard);
  const events: GuardEvent[] = [];
  const waiters: { type: string; match: (e: GuardEvent) => boolean; resolve: (e: GuardEvent) => void }[] = [];
  guard.on('event', (e) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (w.type === e.type && w.match(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  return {
    guard,
    events,
    next(type, match) {
      const m = (match ?? (() => true)) as (e: GuardEvent) => boolean;
      const seen = events.find((e) => e.type === type && m(e));
      if (seen) return Promise.resolve(seen as never);
      return new Promise((resolve) => waiters.push({ type, match: m, resolve: resolve as (e: GuardEvent) => void }));
    },
  };
}

/** Closes every guard the file started. */
export async function closeGuards(): Promise<void> {
  await Promise.all([...guards].map((g) => g.close()));
  guards.clear();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An SSE event as the Messages API writes it. */
export const sse = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_test_1' };

/** The opening of a streamed answer: message_start, then one text block that ends. */
export function streamOpening(blocks = 1): string {
  let out = sse('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'claude-test', stop_reason: null, usage: { input_tokens: 1, output_tokens: 1 } } });
  for (let i = 0; i < blocks; i++) {
    out += sse('content_block_start', { type: 'content_block_start', index: i, content_block: { type: 'text', text: '' } });
    out += sse('content_block_delta', { type: 'content_block_delta', index: i, delta: { type: 'text_delta', text: `block ${i}` } });
    out += sse('content_block_stop', { type: 'content_block_stop', index: i });
  }
  return out;
}

export const streamClosing = (): string => sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } }) + sse('message_stop', { type: 'message_stop' });

export const PING = sse('ping', { type: 'ping' });

/** The CLI, run without blocking this process (its upstream lives here). */
export interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stderr matches. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpExecArray>;
}

export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Cli {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...opts.env };
  for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) delete env[k];
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const watchers: (() => void)[] = [];
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString('utf8');
    for (const w of [...watchers]) w();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    waitFor(re, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stderr never matched ${re}:\n${err}`)), ms);
        const check = (): void => {
          const m = re.exec(err);
          if (m) {
            clearTimeout(timer);
            watchers.splice(watchers.indexOf(check), 1);
            resolve(m);
          }
        };
        watchers.push(check);
        void exit.then(() => {
          if (!re.exec(err)) {
            clearTimeout(timer);
            reject(new Error(`the CLI exited before stderr matched ${re}:\n${err}`));
          }
        });
        check();
      });
    },
  };
}
