import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import { apiDispatcher, checkOnce, failureReason, healthUrl, type CheckEvent, type CheckResult } from '../resume/health.js';
import { InputError, RecoveryFailed } from '../errors.js';
import { UpstreamLink } from './link.js';
import { SESSION_FILE_WAIT_MS, type SnapshotKeeper, type SnapshotOutcome } from './snapshot.js';

/** The guard listens here only: it is a local stand-in for the API, never reachable from elsewhere. */
export const GUARD_HOST = '127.0.0.1';
/** Larger request bodies are refused (413); the Messages API's own limit is far below. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

export interface GuardOptions {
  /** The API the requests go to (the base URL, as in `ANTHROPIC_BASE_URL`). */
  upstream: string;
  /** 0 or absent: a free port. */
  port?: number;
  /** A streaming response silent this long is cut. */
  streamTimeoutMs: number;
  /** A request held while the upstream is unreachable waits this long at most. */
  maxWaitMs: number;
  /** false: requests and responses pass through with no watchdog and no holding. */
  enabled?: boolean;
  /** Takes the recovery snapshot of a session when its connection is lost. */
  snapshots?: SnapshotKeeper | null;
  /** The upstream connection (default: direct, or through the proxy the environment names). */
  dispatcher?: Dispatcher;
  /** One health check of the upstream (default: GET <upstream>/v1/models). */
  check?: () => Promise<CheckResult>;
  maxBodyBytes?: number;
}

/** Why a session's connection counts as lost. */
export type LostCause = 'silent' | 'dropped' | 'unreachable';

export type GuardEvent =
  /**
   * A session's connection was lost: a stream silent for `streamTimeoutMs` was cut (`silent`), the
   * upstream ended one mid-way (`dropped`), or a request could not reach the upstream
   * (`unreachable`). Sent once the snapshot is written, or could not be.
   */
  | { type: 'lost'; cause: LostCause; sessionId: string | null; reason: string; bytes: number; blocks: number; snapshot: SnapshotOutcome | null }
  /** A health check while the upstream is unreachable. */
  | { type: 'check'; check: CheckEvent }
  /** The upstream answered twice in a row: `waiting` held requests go out now. */
  | { type: 'back'; attempts: number; downMs: number; waiting: number }
  /** A held request waited `maxWaitMs` and got the upstream's error. */
  | { type: 'gave-up'; sessionId: string | null; waitedMs: number; reason: string }
  /** A request the guard does not forward (another host, an absolute URL, a body too large). */
  | { type: 'refused'; status: number; reason: string };

export interface GuardStats {
  requests: number;
  streams: number;
  cut: number;
  held: number;
}

/** Hop-by-hop headers: they describe one connection and are not passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** The SSE event that closes a content block: the blocks a client can keep when a stream is cut. */
const BLOCK_STOP = 'event: content_block_stop';

/**
 * A loopback proxy in front of the Messages API. Requests go to the one configured upstream with
 * their bodies unchanged; responses come back chunk by chunk as they arrive. A streaming response
 * that stays silent for `streamTimeoutMs` is cut, so the client keeps what it got and sends a new
 * request at once. A request that cannot reach the upstream waits, with every new one, until the
 * upstream answers health checks twice in a row, at most `maxWaitMs`.
 */
export class Guard extends EventEmitter<{ event: [GuardEvent] }> {
  readonly stats: GuardStats = { requests: 0, streams: 0, cut: 0, held: 0 };
  private readonly link: UpstreamLink;
  /** The upstream as printed: without a user name or password the URL may hold. */
  readonly upstreamUrl: string;
  private readonly dispatcher: Dispatcher;
  private readonly enabled: boolean;
  private readonly inFlight = new Set<AbortController>();
  private readonly sockets = new Set<Socket>();
  /** Held requests, counted for the `back` event. */
  private waiting = 0;
  /** Sessions whose snapshot was taken in the current outage. */
  private readonly snapshotted = new Set<string>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly opts: GuardOptions,
    private readonly upstream: URL,
  ) {
    super();
    const shown = new URL(upstream.href);
    shown.username = '';
    shown.password = '';
    this.upstreamUrl = shown.href.replace(/\/$/, '');
    this.enabled = opts.enabled ?? true;
    this.dispatcher = opts.dispatcher ?? apiDispatcher();
    const url = healthUrl(this.upstream.href);
    this.link = new UpstreamLink(opts.check ?? (() => checkOnce(url, undefined, this.dispatcher)));
    this.link.on('check', (check) => this.emit('event', { type: 'check', check }));
    this.link.on('up', (attempts, downMs) => {
      this.snapshotted.clear();
      this.emit('event', { type: 'back', attempts, downMs, waiting: this.waiting });
    });
  }

  /** Starts listening on 127.0.0.1. */
  static async start(opts: GuardOptions): Promise<Guard> {
    const upstream = upstreamUrl(opts.upstream); // a bad URL is a usage error before anything listens
    const server = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'EADDRINUSE' ? new RecoveryFailed(`${GUARD_HOST}:${opts.port}: the port is in use`) : err.code === 'EACCES' ? new RecoveryFailed(`${GUARD_HOST}:${opts.port}: not allowed to listen on this port`) : err),
      );
      server.listen(opts.port ?? 0, GUARD_HOST, () => resolve());
    });
    const guard = new Guard(server, (server.address() as AddressInfo).port, opts, upstream);
    // A failure in one exchange ends that exchange, never the guard (and the command behind it).
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void guard.handle(req, res).catch(() => res.destroy()));
    server.on('connection', (socket: Socket) => {
      guard.sockets.add(socket);
      socket.once('close', () => guard.sockets.delete(socket));
    });
    // CONNECT and upgrades would make this an open tunnel: refused outright.
    server.on('connect', (_req, socket: Socket) => socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n'));
    server.on('upgrade', (_req, socket: Socket) => socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\n\r\n'));
    server.on('clientError', (_err, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    return guard;
  }

  /** The base URL a client is given: `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://${GUARD_HOST}:${this.port}`;
  }


  /** Stops listening, ends every connection and the checks, and waits for snapshots under way. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.link.stop();
    for (const ac of this.inFlight) ac.abort();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await this.opts.snapshots?.settled();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    const refusal = this.refusal(req);
    if (refusal) return this.refuse(req, res, refusal.status, refusal.reason);
    const body = await readBody(req, this.opts.maxBodyBytes ?? MAX_BODY_BYTES);
    if (body === 'aborted') return;
    if (body === 'too-large') return this.refuse(req, res, 413, `the request body is over ${this.opts.maxBodyBytes ?? MAX_BODY_BYTES} bytes`);
    const { sessionId, streaming } = describeRequest(req.headers, body);
    if (streaming) this.stats.streams++;
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const arrived = Date.now();
    let held = false;
    let retried = false;
    for (;;) {
      if (this.enabled && this.link.isDown) {
        if (!held) {
          this.stats.held++;
          // A session that meets the outage without having tried: its snapshot too.
          if (sessionId !== null) void this.lost('unreachable', sessionId, this.link.lastFailure ?? 'unreachable', 0, 0);
        }
        held = true;
        this.waiting++;
        const up = await this.link.whenUp(this.opts.maxWaitMs - (Date.now() - arrived), gone.signal);
        this.waiting--;
        if (gone.signal.aborted || this.closed) return void res.destroy();
        if (!up) {
          // The wait is over: one more try, and whatever it meets is this request's answer.
          const last = await this.forward(req, res, body, streaming, sessionId);
          if (last.kind === 'unreachable') {
            const waitedMs = Date.now() - arrived;
            this.emit('event', { type: 'gave-up', sessionId, waitedMs, reason: last.reason });
            sendError(res, 502, 'api_error', `ccrescue guard: ${this.upstreamUrl} could not be reached for ${Math.round(waitedMs / 1000)} s (${last.reason})`);
          }
          return;
        }
      }
      const outcome = await this.forward(req, res, body, streaming, sessionId);
      if (outcome.kind !== 'unreachable') return;
      // A kept-alive connection the upstream closed meanwhile fails the same way as an outage: one
      // more try on a fresh connection tells them apart before anything is held or reported.
      if (!retried && !this.link.isDown && !this.closed && !gone.signal.aborted) {
        retried = true;
        continue;
      }
      if (!this.enabled || this.closed) return sendError(res, 502, 'api_error', `ccrescue guard: ${this.upstreamUrl} could not be reached (${outcome.reason})`);
      // The first request to meet an outage reports it; one naming a session does so once held, below.
      if (!this.link.isDown && sessionId === null) void this.lost('unreachable', null, outcome.reason, 0, 0);
      this.link.markDown(outcome.reason);
    }
  }

  /** Why a request is not forwarded, or null: only origin-form paths, addressed to this guard. */
  private refusal(req: IncomingMessage): { status: number; reason: string } | null {
    const url = req.url ?? '';
    if (!url.startsWith('/') || url.startsWith('//')) return { status: 400, reason: 'only paths on the API are forwarded, not absolute URLs' };
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `${GUARD_HOST}:${this.port}` && host !== `localhost:${this.port}`) return { status: 421, reason: `requests must be addressed to ${GUARD_HOST}:${this.port}` };
    return null;
  }

  private refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
    this.emit('event', { type: 'refused', status, reason });
    req.resume();
    sendError(res, status, 'invalid_request_error', `ccrescue guard: ${reason}`);
  }

  /**
   * Sends the request upstream and passes the answer on. `unreachable`: no byte of an answer
   * came (the request may be sent again); `done`: the client got an answer, or was cut off.
   */
  private async forward(req: IncomingMessage, res: ServerResponse, body: Buffer, streaming: boolean, sessionId: string | null): Promise<{ kind: 'done' } | { kind: 'unreachable'; reason: string }> {
    const ac = new AbortController();
    this.inFlight.add(ac);
    const onClose = (): void => {
      if (!res.writableFinished) ac.abort();
    };
    res.once('close', onClose);
    let idle: NodeJS.Timeout | null = null;
    let cut = false;
    let bytes = 0;
    // Counted for the report of a lost stream only.
    const blocks = streaming ? new PatternCounter(BLOCK_STOP) : null;
    const watch = streaming && this.enabled;
    const disarm = (): void => {
      if (idle) clearTimeout(idle);
      idle = null;
    };
    const arm = (): void => {
      if (!watch) return;
      if (idle) return void idle.refresh();
      idle = setTimeout(() => {
        cut = true;
        this.stats.cut++;
        ac.abort();
        res.destroy();
        void this.lost('silent', sessionId, `no data for ${Math.round(this.opts.streamTimeoutMs / 1000)} s`, bytes, blocks?.count ?? 0);
      }, this.opts.streamTimeoutMs);
    };
    try {
      arm();
      let answer: Dispatcher.ResponseData;
      try {
        // The dispatcher is given the upstream's origin and the path as the client sent it: a URL
        // built from the path would resolve dot segments and backslashes and re-encode characters.
        answer = await this.dispatcher.request({
          origin: this.upstream.origin,
          path: this.target(req.url ?? '/'),
          method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
          headers: forwardedHeaders(req.headers),
          body: body.length > 0 || !['GET', 'HEAD'].includes(req.method ?? 'GET') ? body : null,
          signal: ac.signal,
          // The watchdog and the client's own timeout judge time; the connection never does.
          headersTimeout: 0,
          bodyTimeout: 0,
        });
      } catch (err) {
        if (cut || res.destroyed) return { kind: 'done' };
        if (isUnreachable(err)) return { kind: 'unreachable', reason: failureReason(err) };
        sendError(res, 502, 'api_error', `ccrescue guard: ${this.upstreamUrl} failed (${failureReason(err)})`);
        return { kind: 'done' };
      }
      arm();
      try {
        res.writeHead(answer.statusCode, answeredHeaders(answer.headers));
        res.flushHeaders();
      } catch (err) {
        // A status or header Node will not write: the answer cannot be passed on.
        answer.body.destroy();
        sendError(res, 502, 'api_error', `ccrescue guard: ${this.upstreamUrl} sent an answer that cannot be passed on (${failureReason(err)})`);
        return { kind: 'done' };
      }
      try {
        for await (const chunk of answer.body as AsyncIterable<Buffer>) {
          arm();
          bytes += chunk.length;
          blocks?.feed(chunk);
          if (!res.write(chunk)) {
            // The client reads slowly: the upstream is not silent, so the watchdog waits too.
            disarm();
            await drained(res);
            if (res.destroyed) break;
            arm();
          }
        }
        disarm();
        res.end();
      } catch (err) {
        disarm();
        if (cut || res.destroyed) return { kind: 'done' };
        // The upstream ended the stream mid-way: so does the client's, which then keeps what it got.
        res.destroy();
        if (streaming) void this.lost('dropped', sessionId, `the API ended the stream (${failureReason(err)})`, bytes, blocks?.count ?? 0);
      }
      return { kind: 'done' };
    } finally {
      disarm();
      res.off('close', onClose);
      this.inFlight.delete(ac);
    }
  }

  /** The path sent upstream: the upstream's base path, then the client's path and query byte for byte. */
  private target(path: string): string {
    return this.upstream.pathname.replace(/\/+$/, '') + path;
  }

  /** Takes the session's snapshot, then reports the loss (once per session and outage when unreachable). */
  private async lost(cause: LostCause, sessionId: string | null, reason: string, bytes: number, blocks: number): Promise<void> {
    if (cause === 'unreachable' && sessionId !== null) {
      if (this.snapshotted.has(sessionId)) return;
      this.snapshotted.add(sessionId);
    }
    // A new session meets an outage with its first request, which can come before the client has written the file.
    const snapshot = sessionId !== null && this.opts.snapshots ? await this.opts.snapshots.take(sessionId, cause === 'unreachable' ? SESSION_FILE_WAIT_MS : 0) : null;
    this.emit('event', { type: 'lost', cause, sessionId, reason, bytes, blocks, snapshot });
  }
}

function upstreamUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(`${raw}: not a URL to forward to`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InputError(`${raw}: the upstream must be http or https`);
  if (url.search || url.hash) throw new InputError(`${raw}: the upstream is a base URL, without a query or fragment`);
  return url;
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) return 'too-large';
      chunks.push(chunk);
    }
  } catch {
    return 'aborted';
  }
  return Buffer.concat(chunks, size);
}

/**
 * The session a request belongs to (Claude Code's `x-claude-code-session-id` header, else the
 * `session_id` in `metadata.user_id`) and whether it asks for a stream. The body is read, never kept.
 */
export function describeRequest(headers: IncomingHttpHeaders, body: Buffer): { sessionId: string | null; streaming: boolean } {
  const header = headers['x-claude-code-session-id'];
  const sessionId = typeof header === 'string' && header ? header : null;
  if (body.length === 0 || !/json/i.test(String(headers['content-type'] ?? 'application/json'))) return { sessionId, streaming: false };
  // Claude Code's SDK writes `stream` last and names the session in a header: the common request
  // is told apart without parsing a body of megabytes.
  if (sessionId !== null && STREAM_LAST.test(body.subarray(-32).toString('latin1'))) return { sessionId, streaming: true };
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { stream?: unknown; metadata?: { user_id?: unknown } } | null;
    const userId = parsed?.metadata?.user_id;
    return { sessionId: sessionId ?? (typeof userId === 'string' ? sessionOfUserId(userId) : null), streaming: parsed?.stream === true };
  } catch {
    return { sessionId, streaming: false }; // not JSON after all: forwarded as it is, without a watchdog
  }
}

/** A JSON object whose last key is `"stream": true`. */
const STREAM_LAST = /[,{]\s*"stream"\s*:\s*true\s*\}\s*$/;

/** `{"session_id": …}` (2.1) or `user_<hash>_account_<uuid>_session_<uuid>` (older clients). */
function sessionOfUserId(userId: string): string | null {
  try {
    const parsed = JSON.parse(userId) as { session_id?: unknown };
    if (typeof parsed?.session_id === 'string') return parsed.session_id;
  } catch {
    // the older form
  }
  return /_session_([0-9a-f-]{36})$/i.exec(userId)?.[1] ?? null;
}

function connectionTokens(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Set<string> {
  const c = headers.connection;
  return new Set((Array.isArray(c) ? c.join(',') : (c ?? '')).split(',').map((t) => t.trim().toLowerCase()).filter(Boolean));
}

/** The client's headers, less those of its connection to the guard (undici sets host and length for the upstream). */
function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = connectionTokens(headers);
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key) || key === 'host' || key === 'content-length' || key === 'expect') continue;
    out[key] = value;
  }
  return out;
}

function answeredHeaders(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const named = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(key) || named.has(key)) continue;
    // undici decodes values as UTF-8 and Node writes them so, but refuses any character above
    // U+00FF (an emoji, or invalid UTF-8 decoded as U+FFFD): such a value cannot be passed on.
    // With a content-length, undici gives content-disposition as its UTF-8 bytes read as latin1
    // (nodejs/node#46528): back to the text, or it would be encoded twice.
    const text = key === 'content-disposition' && 'content-length' in headers && typeof value === 'string' ? Buffer.from(value, 'latin1').toString('utf8') : value;
    const values = (Array.isArray(text) ? text : [text]).filter((v) => !UNWRITABLE.test(v));
    if (values.length > 0) out[key] = Array.isArray(text) ? values : values[0];
  }
  return out;
}

/** What Node's checkInvalidHeaderChar refuses in a header value. */
const UNWRITABLE = /[^\t\x20-\x7e\x80-\xff]/;

/** Failures where nothing of an answer came: the request can be sent again once the upstream answers. */
function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  return [
    'ECONNREFUSED',
    'ECONNRESET',
    'ECONNABORTED',
    'EPIPE',
    'ETIMEDOUT',
    'ENOTFOUND',
    'EAI_AGAIN',
    'ENETUNREACH',
    'ENETDOWN',
    'EHOSTUNREACH',
    'EHOSTDOWN',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_SOCKET',
    'UND_ERR_CLOSED',
  ].includes(code ?? '');
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ type: 'error', error: { type, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Counts a byte pattern across chunks: the tail kept is too short to hold a whole match, so none is counted twice. */
class PatternCounter {
  count = 0;
  private tail = '';
  constructor(private readonly pattern: string) {}
  feed(chunk: Buffer): void {
    const text = this.tail + chunk.toString('latin1');
    for (let at = text.indexOf(this.pattern); at >= 0; at = text.indexOf(this.pattern, at + this.pattern.length)) this.count++;
    this.tail = text.slice(-(this.pattern.length - 1));
  }
}
