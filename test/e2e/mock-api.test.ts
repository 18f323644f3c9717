import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startMockApi, type MockApi, type MockApiOptions, type ScriptedTurn } from './mock-api.js';

interface SseEvent {
  name: string;
  data: Record<string, unknown> & { index?: number; delta?: Record<string, unknown> };
}

const TOOLS = [{ name: 'Bash', description: 'Run a command', input_schema: { type: 'object' } }];
const prompt = (text: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'claude-test',
  max_tokens: 100,
  stream: true,
  tools: TOOLS,
  messages: [{ role: 'user', content: text }],
  ...extra,
});

let mock: MockApi | undefined;

afterEach(async () => {
  expect(mock?.failures ?? []).toEqual([]);
  await mock?.close();
  mock = undefined;
});

async function start(options: MockApiOptions): Promise<MockApi> {
  mock = await startMockApi(options);
  return mock;
}

function post(api: MockApi, body: unknown, path = '/v1/messages?beta=true'): Promise<Response> {
  return fetch(`${api.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-secret', 'anthropic-beta': 'claude-code-20250219' },
    body: JSON.stringify(body),
  });
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const name = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null') as SseEvent['data'];
      return { name, data };
    });
}

/** Reads the stream until it ends or breaks; a broken stream still yields what arrived before. */
async function readAll(response: Response): Promise<{ text: string; broken: boolean }> {
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error('no body');
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, broken: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, broken: true };
  }
}

const mixedTurn: ScriptedTurn = {
  content: [
    { type: 'thinking', thinking: 'The user wants a listing of the files here.', signature: 'sig-abc' },
    { type: 'text', text: 'I will list the files in the project directory now.' },
    { type: 'tool_use', id: 'toolu_ls', name: 'Bash', input: { command: 'ls -la', description: 'List the files' } },
  ],
};

describe('mock Messages API', () => {
  it('streams a turn in the real event order, with pings every 5 deltas', async () => {
    const api = await start({ turns: [mixedTurn] });
    const response = await post(api, prompt('List files'));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const events = parseSse((await readAll(response)).text);

    expect(events.slice(0, 2).map((e) => e.name)).toEqual(['message_start', 'ping']);
    expect(events.slice(-2).map((e) => e.name)).toEqual(['message_delta', 'message_stop']);
    expect(events.at(-2)?.data.delta).toEqual({ stop_reason: 'tool_use', stop_sequence: null });
    const blockEvents = events.filter((e) => e.name.startsWith('content_block'));
    expect(blockEvents.filter((e) => e.name === 'content_block_start').map((e) => e.data.index)).toEqual([0, 1, 2]);
    expect(blockEvents.filter((e) => e.name === 'content_block_stop').map((e) => e.data.index)).toEqual([0, 1, 2]);

    const deltasOf = (index: number): Record<string, unknown>[] =>
      blockEvents.filter((e) => e.name === 'content_block_delta' && e.data.index === index).map((e) => e.data.delta ?? {});
    const thinkingDeltas = deltasOf(0);
    expect(thinkingDeltas.at(-1)).toEqual({ type: 'signature_delta', signature: 'sig-abc' });
    expect(thinkingDeltas.slice(0, -1).map((d) => d.thinking).join('')).toBe('The user wants a listing of the files here.');
    expect(deltasOf(1).map((d) => d.text).join('')).toBe('I will list the files in the project directory now.');
    const jsonDeltas = deltasOf(2);
    expect(jsonDeltas[0]).toEqual({ type: 'input_json_delta', partial_json: '' });
    expect(JSON.parse(jsonDeltas.map((d) => d.partial_json).join(''))).toEqual({ command: 'ls -la', description: 'List the files' });

    const deltaCount = events.filter((e) => e.name === 'content_block_delta').length;
    expect(events.filter((e) => e.name === 'ping')).toHaveLength(1 + Math.floor(deltaCount / 5));
    events.forEach((event, i) => {
      if (event.name === 'ping' && i > 1) expect(events.slice(0, i).filter((e) => e.name === 'content_block_delta').length % 5).toBe(0);
    });
  });

  it('consumes turns only for valid main-loop requests, then answers with the final text', async () => {
    const api = await start({ turns: [{ content: [{ type: 'text', text: 'Turn zero.' }] }], finalText: 'All done.' });
    const rejected = await post(api, { ...prompt('x'), messages: [{ role: 'assistant', content: 'Hi' }] });
    expect(rejected.status).toBe(400);
    expect(await rejected.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'messages: first message must use the "user" role' },
      request_id: 'req_mock_0001',
    });
    const side = await post(api, { ...prompt('Title?', { stream: false }), tools: [] });
    expect(((await side.json()) as { content: unknown }).content).toEqual([{ type: 'text', text: 'OK.' }]);
    const whole = await post(api, prompt('Go', { stream: false }));
    expect(await whole.json()).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Turn zero.' }], stop_reason: 'end_turn' });
    const after = parseSse((await readAll(await post(api, prompt('Again')))).text);
    expect(after.filter((e) => e.name === 'content_block_delta').map((e) => e.data.delta?.text).join('')).toBe('All done.');

    expect(api.requests.map((r) => [r.answer, r.turnIndex, r.valid])).toEqual([
      ['rejected', null, false],
      ['side', null, true],
      ['turn', 0, true],
      ['final', null, true],
    ]);
    expect(api.requests[0]?.headers['x-api-key']).toBeUndefined();
    expect(api.requests[0]?.headers['anthropic-beta']).toBe('claude-code-20250219');
    expect(api.requests[0]?.path).toBe('/v1/messages');
  });

  it('cuts the stream with drop, stall and SSE error faults exactly where scripted', async () => {
    const turns: ScriptedTurn[] = [
      { ...mixedTurn, fault: { type: 'drop', after: { event: 'content_block_stop', index: 1 } } },
      { ...mixedTurn, fault: { type: 'error', afterEvents: 4 } },
      { ...mixedTurn, fault: { type: 'stall', after: { event: 'content_block_delta', index: 2, nth: 3 } } },
    ];
    const api = await start({ turns });

    const dropped = await readAll(await post(api, prompt('1')));
    expect(dropped.broken).toBe(true);
    expect(parseSse(dropped.text).at(-1)).toEqual({ name: 'content_block_stop', data: { type: 'content_block_stop', index: 1 } });

    const errored = parseSse((await readAll(await post(api, prompt('2')))).text);
    expect(errored.map((e) => e.name)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'error']);
    expect(errored.at(-1)?.data).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });

    const stalledFault = new Promise((resolve) => api.once('fault', resolve));
    const stalled = readAll(await post(api, prompt('3')));
    await stalledFault;
    await api.close();
    const { text, broken } = await stalled;
    expect(broken).toBe(true);
    const last = parseSse(text).filter((e) => e.name === 'content_block_delta' && e.data.index === 2);
    expect(last).toHaveLength(3);
    expect(api.requests.map((r) => r.turnIndex)).toEqual([0, 1, 2]);
  });

  it('answers an http fault with 529 before any byte, and signals sent turns', async () => {
    const api = await start({ turns: [{ ...mixedTurn, fault: { type: 'http' } }, mixedTurn] });
    expect((await post(api, prompt('1'))).status).toBe(529);
    const sent = api.waitForTurnSent(1, 10_000);
    await readAll(await post(api, prompt('2')));
    await sent;
    await expect(api.waitForRequest(1, 10_000)).resolves.toMatchObject({ turnIndex: 1 });
  });

  it('answers count_tokens and unknown endpoints, and logs every request', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ccrescue-mock-'));
    const logFile = join(dir, 'requests.jsonl');
    const api = await start({ logFile });
    const counted = await post(api, { model: 'claude-test', messages: [{ role: 'user', content: 'Hi' }] }, '/v1/messages/count_tokens');
    expect(await counted.json()).toEqual({ input_tokens: expect.any(Number) as number });
    expect((await fetch(`${api.baseUrl}/api/oauth/profile`)).status).toBe(404);
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { path: string });
    expect(lines.map((line) => line.path)).toEqual(['/v1/messages/count_tokens', '/api/oauth/profile']);
    await rm(dir, { recursive: true });
  });

  it('goes down and comes back on the same port', async () => {
    const api = await start({});
    const port = api.port;
    await api.close();
    await expect(post(api, prompt('down'))).rejects.toThrow();
    await api.listen();
    expect(api.port).toBe(port);
    expect((await post(api, prompt('up'))).status).toBe(200);
  });
});
