// The guard passes requests and answers through unchanged: status, headers (less hop-by-hop),
// body bytes both ways, chunk by chunk with no buffering, under the upstream's base path.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { closeGuards, raw, send, sse, SSE_HEADERS, startGuard, startUpstream, streamClosing, streamOpening, type Upstream } from './helpers.js';

const ups: Upstream[] = [];
afterEach(closeGuards);
afterAll(async () => Promise.all(ups.map((u) => u.stop())));

async function upstream(...args: Parameters<typeof startUpstream>): Promise<Upstream> {
  const u = await startUpstream(...args);
  ups.push(u);
  return u;
}

describe('pass-through', () => {
  it('a JSON answer: status, end-to-end headers and body bytes as the upstream sent them; hop-by-hop headers dropped', async () => {
    const json = Buffer.from(JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message: 'slow down, ünïcödé ✓' } }));
    const u = await upstream((_req, res) => {
      res.writeHead(429, 'Too Many Requests', {
        'content-type': 'application/json',
        'content-length': String(json.length),
        'retry-after': '17',
        'anthropic-ratelimit-requests-remaining': '0',
        'x-custom': 'kept',
        'set-cookie': ['a=1; Path=/', 'b=2; Path=/'],
        'keep-alive': 'timeout=5',
        connection: 'keep-alive, x-custom-hop',
        'x-custom-hop': 'named by connection',
      });
      res.end(json);
    });
    const { guard } = await startGuard({ upstream: u.url });
    const a = await send(guard.url, { body: '{"model":"m","stream":false}' }).answer;
    expect(a.status).toBe(429);
    expect(a.complete).toBe(true);
    expect(a.body.equals(json)).toBe(true);
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.headers['content-length']).toBe(String(json.length));
    expect(a.headers['retry-after']).toBe('17');
    expect(a.headers['anthropic-ratelimit-requests-remaining']).toBe('0');
    expect(a.headers['x-custom']).toBe('kept');
    expect(a.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    // Hop-by-hop: the upstream's keep-alive and the header its Connection names are not passed on.
    expect(a.headers['keep-alive']).not.toBe('timeout=5');
    expect(a.headers['x-custom-hop']).toBeUndefined();
  });

  it('an SSE answer: every byte, in order, with its headers; chunked on the client side', async () => {
    const text = streamOpening(3) + streamClosing();
    const u = await upstream((_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      // Split mid-event and mid-pattern, as TCP may.
      const cut = text.indexOf('content_block_stop') + 7;
      res.write(text.slice(0, cut));
      setTimeout(() => res.end(text.slice(cut)), 50);
    });
    const s = await startGuard({ upstream: u.url, streamTimeoutMs: 5000 });
    const a = await send(s.guard.url, { body: '{"model":"m","stream":true}' }).answer;
    expect(a.status).toBe(200);
    expect(a.complete).toBe(true);
    expect(a.body.toString('utf8')).toBe(text);
    expect(a.headers['content-type']).toBe(SSE_HEADERS['content-type']);
    expect(a.headers['cache-control']).toBe('no-cache');
    expect(a.headers['request-id']).toBe('req_test_1');
    expect(a.headers['transfer-encoding']).toBe('chunked');
    expect(s.guard.stats).toMatchObject({ requests: 1, streams: 1, cut: 0, held: 0 });
    expect(s.events.filter((e) => e.type === 'lost')).toEqual([]);
  });

  it('gzip and binary bodies: the compressed bytes are passed on, never decoded', async () => {
    const gz = gzipSync(Buffer.from(JSON.stringify({ id: 'msg_1', content: [{ type: 'text', text: 'x'.repeat(5000) }] })));
    const bin = randomBytes(200_000);
    const u = await upstream((req, res) => {
      if (req.url === '/gz') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(gz.length) });
        res.end(gz);
      } else {
        // Chunked, no length, in many writes.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < bin.length; i += 7777) res.write(bin.subarray(i, i + 7777));
        res.end();
      }
    });
    const { guard } = await startGuard({ upstream: u.url });
    const a = await send(guard.url, { method: 'GET', path: '/gz', headers: { 'accept-encoding': 'gzip' } }).answer;
    expect(a.headers['content-encoding']).toBe('gzip');
    expect(a.body.equals(gz)).toBe(true);
    // The client asked for gzip: the upstream saw that wish, unchanged.
    expect(u.seen[0]!.headers['accept-encoding']).toBe('gzip');
    const b = await send(guard.url, { method: 'GET', path: '/bin' }).answer;
    expect(b.complete).toBe(true);
    expect(b.body.equals(bin)).toBe(true);
  });

  it('the request reaches the upstream unchanged: method, path, query, auth and API headers, body bytes', async () => {
    const u = await upstream((_req, res) => res.end('{}'));
    const { guard } = await startGuard({ upstream: u.url });
    // Bytes that a re-encoding would change: a BOM-less UTF-8 mix, escaped and raw, a lone \r.
    const body = Buffer.concat([Buffer.from('{"model":"claude-x","messages":[{"role":"user","content":"héllo \\u00e9 \\ud83d\\ude00 😀\r"}],"stream":false,   "metadata":{"user_id":"u"}}'), Buffer.from('\n')]);
    const headers = {
      'x-api-key': 'sk-ant-api03-passthrough',
      authorization: 'Bearer tok-passthrough',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
      'x-claude-code-session-id': '11111111-2222-4333-8444-555555555555',
      'user-agent': 'claude-cli/2.1.14 (external, cli)',
      'x-stainless-retry-count': '0',
    };
    const path = '/v1/messages?beta=true&x=%2F%20a&y=%C3%A9';
    const a = await send(guard.url, { method: 'POST', path, headers, body }).answer;
    expect(a.status).toBe(200);
    expect(u.seen).toHaveLength(1);
    const seen = u.seen[0]!;
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe(path);
    expect(seen.body.equals(body)).toBe(true);
    expect(seen.headers['content-length']).toBe(String(body.length));
    for (const [k, v] of Object.entries(headers)) expect(seen.headers[k]).toBe(v);
    expect(seen.headers['content-type']).toBe('application/json');
    // Addressed to the upstream, not to the guard.
    expect(seen.headers.host).toBe(`127.0.0.1:${u.port}`);

    // Other methods, an empty body, a path with encoded characters.
    await send(guard.url, { method: 'GET', path: '/v1/models?limit=5', headers: { 'x-api-key': 'k' } }).answer;
    await send(guard.url, { method: 'DELETE', path: '/v1/files/file_%3Aabc' }).answer;
    expect(u.seen.slice(1).map((s) => [s.method, s.url, s.body.length])).toEqual([
      ['GET', '/v1/models?limit=5', 0],
      ['DELETE', '/v1/files/file_%3Aabc', 0],
    ]);
  });

  it('the request line reaches the upstream byte for byte: no re-encoding, no dot-segment or backslash resolution', async () => {
    const u = await upstream((req, res) => res.end(JSON.stringify({ url: req.url })));
    const { guard } = await startGuard({ upstream: `${u.url}/prefix` });
    const paths = ["/v1/x{y}|z", '/v1/./x', '/v1/../../x', `/v1/x?q='a'&b="c"`, '/v1/x%2e%2e/y', '/v1/%7Bx%7D', '/v1/x\\y', '/v1/x?a^b`c', '/v1/x;y=1', '/v1/messages?beta=true'];
    for (const path of paths) {
      const r = await raw(guard.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${guard.port}\r\nConnection: close\r\n\r\n`);
      expect([path, JSON.parse(r.slice(r.indexOf('\r\n\r\n') + 4))]).toEqual([path, { url: `/prefix${path}` }]);
    }
  });

  it('an upstream with a path prefix: requests go under it, and so do the health checks', async () => {
    let down = false;
    const u = await upstream((req, res) => {
      if (down && req.url?.endsWith('/v1/messages')) {
        req.socket.destroy();
        return;
      }
      res.end(JSON.stringify({ url: req.url }));
    });
    for (const base of [`${u.url}/prefix`, `${u.url}/prefix/`, `${u.url}/a/b`]) {
      const { guard } = await startGuard({ upstream: base });
      const a = await send(guard.url, { path: '/v1/messages?beta=true', body: '{}' }).answer;
      const prefix = new URL(base).pathname.replace(/\/$/, '');
      expect(JSON.parse(a.body.toString())).toEqual({ url: `${prefix}/v1/messages?beta=true` });
    }
    expect(u.seen.map((s) => s.url)).toEqual(['/prefix/v1/messages?beta=true', '/prefix/v1/messages?beta=true', '/a/b/v1/messages?beta=true']);
    // The health checks of an outage are made under the prefix too.
    await closeGuards();
    u.seen.length = 0;
    down = true;
    const s = await startGuard({ upstream: `${u.url}/prefix`, maxWaitMs: 200 });
    const held = send(s.guard.url, { path: '/v1/messages', body: '{}' }).answer;
    await s.next('check');
    await held;
    expect(u.seen.some((x) => x.method === 'GET' && x.url === '/prefix/v1/models')).toBe(true);
  });

  it('a request header with UTF-8 bytes reaches the upstream byte for byte', async () => {
    const u = await upstream((_req, res) => res.end('{}'));
    const { guard } = await startGuard({ upstream: u.url });
    const value = Buffer.from('Résumé – déjà vu');
    const head = Buffer.concat([Buffer.from(`POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${guard.port}\r\nX-Title: `), value, Buffer.from('\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}')]);
    const r = await raw(guard.port, head.toString('latin1'));
    expect(r.startsWith('HTTP/1.1 200')).toBe(true);
    expect(Buffer.from(u.seen[0]!.headers['x-title'] as string, 'latin1').equals(value)).toBe(true);
  });

  it('non-ASCII header values: UTF-8 passes byte for byte; a value Node cannot write is left out, the answer still passes', async () => {
    // A raw upstream, to send header bytes a Node server would refuse to write.
    const tcp = createTcpServer((socket) =>
      socket.once('data', () => {
        socket.end(
          Buffer.concat([
            Buffer.from('HTTP/1.1 200 OK\r\nX-Utf8: déjà vu\r\nContent-Disposition: attachment; filename="déjà.txt"\r\nX-Emoji: ok 😀\r\nX-Latin1: caf'),
            Buffer.from([0xe9]), // not UTF-8
            Buffer.from('\r\nX-Plain: kept\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'),
          ]),
        );
      }),
    );
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { guard } = await startGuard({ upstream: `http://127.0.0.1:${(tcp.address() as AddressInfo).port}` });
      const a = await send(guard.url, { body: '{}' }).answer;
      expect(a.status).toBe(200);
      expect(a.body.toString()).toBe('ok');
      // Node's client reads header bytes as latin1: compare bytes.
      const bytes = (name: string): string | undefined => {
        const i = a.rawHeaders.findIndex((h, n) => n % 2 === 0 && h.toLowerCase() === name);
        return i < 0 ? undefined : Buffer.from(a.rawHeaders[i + 1]!, 'latin1').toString('utf8');
      };
      expect(bytes('x-utf8')).toBe('déjà vu');
      expect(bytes('content-disposition')).toBe('attachment; filename="déjà.txt"');
      expect(bytes('x-plain')).toBe('kept');
      expect(bytes('x-emoji')).toBeUndefined();
      expect(bytes('x-latin1')).toBeUndefined();
    } finally {
      tcp.close();
    }
  });

  it('HEAD, 204 and 304 answers: status and headers, no body, the connection stays usable', async () => {
    const u = await upstream((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1234' });
        res.end();
      } else if (req.url === '/204') {
        res.writeHead(204, { 'x-n': '204' });
        res.end();
      } else {
        res.writeHead(304, { etag: '"abc"' });
        res.end();
      }
    });
    const { guard } = await startGuard({ upstream: u.url });
    const head = await send(guard.url, { method: 'HEAD', path: '/v1/models' }).answer;
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '1234', 0]);
    const none = await send(guard.url, { method: 'GET', path: '/204' }).answer;
    expect([none.status, none.headers['x-n'], none.body.length]).toEqual([204, '204', 0]);
    const same = await send(guard.url, { method: 'GET', path: '/304', headers: { 'if-none-match': '"abc"' } }).answer;
    expect([same.status, same.headers.etag, same.body.length]).toEqual([304, '"abc"', 0]);
    expect(u.seen[2]!.headers['if-none-match']).toBe('"abc"');
  });

  it('a large request body, sent chunked by the client, reaches the upstream byte for byte', async () => {
    const u = await upstream((_req, res, body) => res.end(JSON.stringify({ length: body.length })));
    const { guard } = await startGuard({ upstream: u.url });
    const text = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'é'.repeat(3_000_000) }], stream: false });
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${guard.url}/v1/messages`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      });
      req.once('error', reject);
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length; i += 100_000) req.write(bytes.subarray(i, i + 100_000));
      req.end();
    });
    expect(status).toBe(200);
    expect(u.seen[0]!.body.equals(Buffer.from(text))).toBe(true);
    expect(u.seen[0]!.headers['content-length']).toBe(String(Buffer.byteLength(text)));
    expect(u.seen[0]!.headers['transfer-encoding']).toBeUndefined();
  });

  it('a kept-alive client connection carries several exchanges, streams included', async () => {
    const u = await upstream((req, res) => {
      if (req.url === '/stream') {
        res.writeHead(200, SSE_HEADERS);
        res.end(streamOpening(1) + streamClosing());
      } else res.end(JSON.stringify({ url: req.url }));
    });
    const { guard } = await startGuard({ upstream: u.url, streamTimeoutMs: 5000 });
    const { Agent: HttpAgent, request } = await import('node:http');
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    try {
      for (const path of ['/a', '/stream', '/b', '/stream', '/c']) {
        const body = await new Promise<string>((resolve, reject) => {
          const req = request(`${guard.url}${path}`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
            ports.add(res.socket.localPort!);
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.once('end', () => resolve(text));
          });
          req.once('error', reject);
          req.end(path === '/stream' ? '{"stream":true}' : '{}');
        });
        expect(body).toBe(path === '/stream' ? streamOpening(1) + streamClosing() : JSON.stringify({ url: path }));
      }
    } finally {
      agent.destroy();
    }
    expect(ports.size).toBe(1);
  });

  it('no buffering: each chunk reaches the client before the upstream writes the next', async () => {
    const parts = [sse('message_start', { n: 0 }), sse('content_block_delta', { n: 1 }), sse('content_block_delta', { n: 2 }), sse('message_stop', { n: 3 })];
    // The upstream writes chunk i+1 only once the client said it has chunk i.
    const received: ((v: void) => void)[] = [];
    const got = parts.map(() => new Promise<void>((resolve) => received.push(resolve)));
    let gotText = '';
    const order: string[] = [];
    const u = await upstream(async (_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      for (let i = 0; i < parts.length; i++) {
        order.push(`sent ${i}`);
        res.write(parts[i]);
        await got[i];
      }
      res.end();
    });
    const { guard } = await startGuard({ upstream: u.url, streamTimeoutMs: 10_000 });
    const a = await send(guard.url, {
      body: '{"stream":true}',
      onChunk: (c) => {
        gotText += c.toString();
        // A chunk may hold several parts only if the upstream sent them before: it never does here.
        for (let i = 0; i < parts.length; i++) {
          if (gotText.length >= parts.slice(0, i + 1).join('').length && !order.includes(`got ${i}`)) {
            order.push(`got ${i}`);
            received[i]!();
          }
        }
      },
    }).answer;
    expect(a.body.toString()).toBe(parts.join(''));
    expect(order).toEqual(['sent 0', 'got 0', 'sent 1', 'got 1', 'sent 2', 'got 2', 'sent 3', 'got 3']);
  });

  it('the headers reach the client before any body byte is sent', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const u = await upstream(async (_req, res) => {
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      await gate;
      res.end(streamClosing());
    });
    const { guard } = await startGuard({ upstream: u.url, streamTimeoutMs: 10_000 });
    const r = send(guard.url, { body: '{"stream":true}' });
    await r.responded;
    release();
    expect((await r.answer).body.toString()).toBe(streamClosing());
  });
});
