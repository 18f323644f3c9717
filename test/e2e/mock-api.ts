// A scripted stand-in for the Messages API on loopback: it validates every request like the real API,
// answers main-loop requests with scripted turns streamed in the real SSE order, and injects faults.
import { appendFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  apiErrorBody,
  betasOf,
  validateMessagesRequest,
  type MessagesApiIssue,
} from '../../src/validate/messages-api.js';

export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'thinking'; thinking: string; signature: string };

export type StreamEventName =
  | 'message_start'
  | 'ping'
  | 'content_block_start'
  | 'content_block_delta'
  | 'content_block_stop'
  | 'message_delta'
  | 'message_stop';

/** Where a fault strikes: after the nth (default first) matching event, or after a count of events. */
export type FaultPoint = { after: { event: StreamEventName; index?: number; nth?: number } } | { afterEvents: number };

export type Fault =
  /**
   * stall: the socket stays open and silent; drop: the socket is destroyed; error: an SSE `overloaded_error` ends
   * the stream (a `stream:false` request gets HTTP 529 instead).
   */
  | ({ type: 'stall' | 'drop' | 'error' } & FaultPoint)
  /** An HTTP error status (default 529) before any byte of the answer. */
  | { type: 'http'; status?: number };

/** One scripted model answer. A faulted turn is consumed all the same: script the client's retry as the next turn. */
export interface ScriptedTurn {
  content: ScriptedBlock[];
  /** Default: `tool_use` when the turn holds a tool_use, else `end_turn`. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  fault?: Fault;
}

export type Answer = 'turn' | 'final' | 'side' | 'rejected' | 'other';

export interface RecordedRequest {
  at: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The body as it arrived, when the mock was started with `keepRawBodies`. */
  raw?: string;
  valid: boolean;
  issues: MessagesApiIssue[];
  /** The scripted turn this request consumed, or null. */
  turnIndex: number | null;
  answer: Answer;
}

export interface MockApiOptions {
  turns?: ScriptedTurn[];
  /** The text of every main-loop answer once the script is exhausted. */
  finalText?: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Every request is also appended here as one JSONL line. */
  logFile?: string;
  /** Enforce R5 (tool_result blocks first) too. */
  strictOrder?: boolean;
  /** Pause between two SSE events; a paced stream lets the client run tools before the message completes. */
  eventDelayMs?: number;
  /** Keep each request's body as it arrived (`RecordedRequest.raw`), for byte comparisons. */
  keepRawBodies?: boolean;
}

interface MockApiEvents {
  request: [request: RecordedRequest];
  'turn-sent': [turnIndex: number];
  fault: [turnIndex: number, fault: Fault];
}

interface SseEvent {
  name: StreamEventName;
  data: Record<string, unknown>;
}

const HOST = '127.0.0.1';
const SIDE_TEXT = 'OK.';
const CHUNK_CHARS = 16;
const PING_EVERY_DELTAS = 5;
const MAX_BODY_BYTES = 64 * 1024 * 1024;
const SECRET_HEADERS = new Set(['x-api-key', 'authorization']);

export class MockApi extends EventEmitter<MockApiEvents> {
  readonly requests: RecordedRequest[] = [];
  /** Errors raised while answering a request. */
  readonly failures: unknown[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly sentTurns = new Set<number>();
  private turnsServed = 0;
  private boundPort = 0;

  constructor(private readonly options: MockApiOptions = {}) {
    super();
  }

  get port(): number {
    return this.boundPort;
  }

  get baseUrl(): string {
    return `http://${HOST}:${this.boundPort}`;
  }

  /** Listens on the configured port, or again on the port it had before close(). */
  async listen(): Promise<void> {
    if (this.server !== undefined) throw new Error('mock API is already listening');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // Most often a client killed mid-request; kept so a test can tell a mock bug from that.
        this.failures.push(error);
        res.destroy();
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort || this.options.port || 0, HOST, () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('mock API has no TCP address');
    this.boundPort = address.port;
    this.server = server;
  }

  /** Takes the API down: stops listening and cuts every open connection. listen() brings it back on the same port. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Resolves with the request at this position once it has arrived. */
  waitForRequest(index: number, timeoutMs: number): Promise<RecordedRequest> {
    return this.waitUntil('request', () => this.requests[index], timeoutMs, `request ${index}`);
  }

  /** Resolves once scripted turn `turnIndex` has been sent completely (message_stop written). */
  waitForTurnSent(turnIndex: number, timeoutMs: number): Promise<void> {
    const sent = (): true | undefined => (this.sentTurns.has(turnIndex) ? true : undefined);
    return this.waitUntil('turn-sent', sent, timeoutMs, `turn ${turnIndex} sent`).then(() => undefined);
  }

  private waitUntil<T>(event: keyof MockApiEvents, check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onEvent = (): void => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.off(event, onEvent);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.off(event, onEvent);
        reject(new Error(`mock API: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.on(event, onEvent);
      onEvent();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const record: RecordedRequest = {
      at: new Date().toISOString(),
      path,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => !SECRET_HEADERS.has(name))),
      body: null,
      valid: true,
      issues: [],
      turnIndex: null,
      answer: 'other',
    };
    if (this.options.keepRawBodies === true) record.raw = raw;
    const requestId = `req_mock_${String(this.requests.length + 1).padStart(4, '0')}`;
    if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
      this.record(record);
      sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `Not found: ${req.method ?? ''} ${path}` } }, requestId);
      return;
    }
    this.validate(record, raw, req.headers);
    const firstIssue = record.issues[0];
    if (firstIssue !== undefined) {
      record.answer = 'rejected';
      this.record(record);
      sendJson(res, 400, apiErrorBody(firstIssue, requestId), requestId);
      return;
    }
    const body = record.body as Record<string, unknown>;
    if (path === '/v1/messages/count_tokens') {
      this.record(record);
      sendJson(res, 200, { input_tokens: estimateTokens(raw) }, requestId);
      return;
    }
    const turn = this.pickTurn(record, body);
    this.record(record);
    const reply = { requestId, model: typeof body.model === 'string' ? body.model : 'claude-mock', inputTokens: estimateTokens(raw) };
    if (turn.fault?.type === 'http') {
      this.faulted(record, turn.fault);
      sendJson(res, turn.fault.status ?? 529, overloaded(requestId), requestId);
    } else if (body.stream === true) {
      await this.stream(res, turn, record, reply);
    } else {
      this.answerWhole(res, turn, record, reply);
    }
  }

  private validate(record: RecordedRequest, raw: string, headers: IncomingHttpHeaders): void {
    try {
      record.body = JSON.parse(raw) as unknown;
      record.issues = validateMessagesRequest(record.body, { betas: betasOf(headers['anthropic-beta']), strictOrder: this.options.strictOrder ?? false });
    } catch (error) {
      record.issues = [{ rule: 'R12', path: '', message: `The request body is not valid JSON: ${(error as Error).message}` }];
    }
    record.valid = record.issues.length === 0;
  }

  /** Main-loop requests (with tools) take the next scripted turn, or the final text once the script is used up. */
  private pickTurn(record: RecordedRequest, body: Record<string, unknown>): ScriptedTurn {
    const turns = this.options.turns ?? [];
    const scripted = turns[this.turnsServed];
    if (!(Array.isArray(body.tools) && body.tools.length > 0)) {
      record.answer = 'side';
      return { content: [{ type: 'text', text: SIDE_TEXT }] };
    }
    if (scripted !== undefined) {
      record.answer = 'turn';
      record.turnIndex = this.turnsServed++;
      return scripted;
    }
    record.answer = 'final';
    return { content: [{ type: 'text', text: this.options.finalText ?? 'Resumed OK.' }] };
  }

  private record(record: RecordedRequest): void {
    this.requests.push(record);
    if (this.options.logFile !== undefined) appendFileSync(this.options.logFile, `${JSON.stringify(record)}\n`);
    this.emit('request', record);
  }

  private faulted(record: RecordedRequest, fault: Fault): void {
    if (record.turnIndex !== null) this.emit('fault', record.turnIndex, fault);
  }

  private turnSent(record: RecordedRequest): void {
    if (record.turnIndex === null) return;
    this.sentTurns.add(record.turnIndex);
    this.emit('turn-sent', record.turnIndex);
  }

  private async stream(res: ServerResponse, turn: ScriptedTurn, record: RecordedRequest, reply: Reply): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': reply.requestId });
    const fault = turn.fault?.type === 'http' ? undefined : turn.fault;
    const events = sseEvents(turn, reply);
    const seen = new Map<string, number>();
    for (const [position, event] of events.entries()) {
      if (res.destroyed) return;
      // Flushed before going on, so a fault cuts the stream exactly after this event.
      await new Promise((resolve) => res.write(`event: ${event.name}\ndata: ${JSON.stringify(event.data)}\n\n`, resolve));
      const key = `${event.name}:${String(event.data.index ?? '')}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      seen.set(event.name, (seen.get(event.name) ?? 0) + 1);
      if (fault !== undefined && strikesNow(fault, position + 1, event, seen)) {
        this.faulted(record, fault);
        if (fault.type === 'drop') res.destroy();
        if (fault.type === 'error') res.end(`event: error\ndata: ${JSON.stringify(overloaded(reply.requestId))}\n\n`);
        return;
      }
      await sleep(this.options.eventDelayMs ?? 0);
    }
    res.end();
    this.turnSent(record);
  }

  private answerWhole(res: ServerResponse, turn: ScriptedTurn, record: RecordedRequest, reply: Reply): void {
    const fault = turn.fault;
    if (fault?.type === 'stall' || fault?.type === 'drop' || fault?.type === 'error') {
      this.faulted(record, fault);
      if (fault.type === 'drop') res.destroy();
      if (fault.type === 'error') sendJson(res, 529, overloaded(reply.requestId), reply.requestId);
      return;
    }
    sendJson(res, 200, { ...messageShell(reply), content: turn.content, stop_reason: stopReasonOf(turn), usage: usageOf(reply, turn) }, reply.requestId);
    this.turnSent(record);
  }
}

interface Reply {
  requestId: string;
  model: string;
  inputTokens: number;
}

export async function startMockApi(options: MockApiOptions = {}): Promise<MockApi> {
  const mock = new MockApi(options);
  await mock.listen();
  return mock;
}

function strikesNow(fault: Exclude<Fault, { type: 'http' }>, sentCount: number, event: SseEvent, seen: Map<string, number>): boolean {
  if ('afterEvents' in fault) return sentCount === fault.afterEvents;
  const { event: name, index, nth = 1 } = fault.after;
  if (event.name !== name || (index !== undefined && event.data.index !== index)) return false;
  return seen.get(index === undefined ? name : `${name}:${index}`) === nth;
}

function chunks(text: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK_CHARS) parts.push(text.slice(i, i + CHUNK_CHARS));
  return parts;
}

function stopReasonOf(turn: ScriptedTurn): string {
  return turn.stopReason ?? (turn.content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn');
}

function outputTokens(turn: ScriptedTurn): number {
  return Math.max(1, Math.ceil(JSON.stringify(turn.content).length / 4));
}

function usageOf(reply: Reply, turn: ScriptedTurn): Record<string, number> {
  return { input_tokens: reply.inputTokens, output_tokens: outputTokens(turn), cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

function messageShell(reply: Reply): Record<string, unknown> {
  return { id: `msg_mock_${reply.requestId.slice('req_mock_'.length)}`, type: 'message', role: 'assistant', model: reply.model, stop_sequence: null };
}

function blockDeltas(block: ScriptedBlock): Record<string, unknown>[] {
  switch (block.type) {
    case 'text':
      return chunks(block.text).map((text) => ({ type: 'text_delta', text }));
    case 'tool_use':
      return [{ type: 'input_json_delta', partial_json: '' }, ...chunks(JSON.stringify(block.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json }))];
    case 'thinking':
      return [...chunks(block.thinking).map((thinking) => ({ type: 'thinking_delta', thinking })), { type: 'signature_delta', signature: block.signature }];
  }
}

function emptyBlock(block: ScriptedBlock): Record<string, unknown> {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
  }
}

/** The whole stream of one turn, pings included, in the order the real API sends it. */
function sseEvents(turn: ScriptedTurn, reply: Reply): SseEvent[] {
  const ping: SseEvent = { name: 'ping', data: { type: 'ping' } };
  const events: SseEvent[] = [
    { name: 'message_start', data: { type: 'message_start', message: { ...messageShell(reply), content: [], stop_reason: null, usage: { ...usageOf(reply, turn), output_tokens: 1 } } } },
    ping,
  ];
  let deltas = 0;
  turn.content.forEach((block, index) => {
    events.push({ name: 'content_block_start', data: { type: 'content_block_start', index, content_block: emptyBlock(block) } });
    for (const delta of blockDeltas(block)) {
      events.push({ name: 'content_block_delta', data: { type: 'content_block_delta', index, delta } });
      if (++deltas % PING_EVERY_DELTAS === 0) events.push(ping);
    }
    events.push({ name: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push(
    { name: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stopReasonOf(turn), stop_sequence: null }, usage: { output_tokens: outputTokens(turn) } } },
    { name: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

function overloaded(requestId: string): Record<string, unknown> {
  return { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: requestId };
}

function estimateTokens(raw: string): number {
  return Math.max(1, Math.ceil(raw.length / 4));
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) throw new Error(`request body over ${MAX_BODY_BYTES} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts).toString('utf8');
}
