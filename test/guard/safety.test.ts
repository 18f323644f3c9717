// The guard is a local stand-in for one API, never a general proxy: it listens on loopback only,
// forwards origin-form paths addressed to itself to the configured upstream and nowhere else.
import { networkInterfaces } from 'node:os';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GUARD_HOST } from '../../src/guard/proxy.js';
import { closeGuards, raw, send, startGuard, startUpstream, type Upstream } from './helpers.js';

let api: Upstream;
/** Another server on this machine: nothing may ever reach it through the guard. */
let other: Upstream;

beforeAll(async () => {
  api = await startUpstream((req, res) => res.end(JSON.stringify({ reached: 'api', url: req.url })));
  other = await startUpstream((req, res) => res.end(JSON.stringify({ reached: 'other', url: req.url })));
});
beforeEach(() => {
  api.seen.length = 0;
});
afterEach(closeGuards);
afterAll(async () => {
  await api.stop();
  await other.stop();
});

const status = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
const bodyOf = (response: string): string => response.slice(response.indexOf('\r\n\r\n') + 4);

describe('where the guard listens', () => {
  it('on 127.0.0.1 only', async () => {
    const { guard } = await startGuard({ upstream: api.url });
    expect(GUARD_HOST).toBe('127.0.0.1');
    const address = (guard as unknown as { server: import('node:http').Server }).server.address() as AddressInfo;
    expect(address).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: guard.port });
    expect(guard.url).toBe(`http://127.0.0.1:${guard.port}`);
    // Any other address of this machine refuses the connection.
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !i.internal)
      .map((i) => i!.address);
    for (const address of [...others, '::1']) {
      const refused = await new Promise<string>((resolve) => {
        const s = connect({ host: address, port: guard.port });
        s.once('connect', () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect([address, refused]).not.toEqual([address, 'connected']);
    }
  });
});

describe('what the guard refuses', () => {
  it('an absolute-form URL (proxy style) → 400, never forwarded, whatever host it names', async () => {
    const s = await startGuard({ upstream: api.url });
    const host = `127.0.0.1:${s.guard.port}`;
    for (const target of [`http://127.0.0.1:${other.port}/v1/messages`, `http://127.0.0.1:${api.port}/v1/messages`, `https://api.anthropic.com/v1/messages`, `//127.0.0.1:${other.port}/v1/messages`, '*']) {
      const r = await raw(s.guard.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect([target, status(r)]).toEqual([target, 400]);
      expect(JSON.parse(bodyOf(r))).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
    expect(api.seen).toEqual([]);
    expect(other.connections).toBe(0);
    expect(s.events.filter((e) => e.type === 'refused').map((e) => (e as { status: number }).status)).toEqual([400, 400, 400, 400, 400]);
  });

  it('CONNECT and upgrades are refused (no tunnel)', async () => {
    const s = await startGuard({ upstream: api.url });
    const connectReply = await raw(s.guard.port, `CONNECT 127.0.0.1:${other.port} HTTP/1.1\r\nHost: 127.0.0.1:${other.port}\r\n\r\n`);
    expect(status(connectReply)).toBe(405);
    const upgrade = await raw(s.guard.port, `GET /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${s.guard.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    expect(status(upgrade)).toBe(405);
    expect(other.connections).toBe(0);
    expect(api.seen).toEqual([]);
  });

  it('a Host other than 127.0.0.1:<port> or localhost:<port> → 421 (DNS rebinding); those two are served', async () => {
    const s = await startGuard({ upstream: api.url });
    const p = s.guard.port;
    for (const host of ['evil.example', `evil.example:${p}`, '127.0.0.1', `127.0.0.1:${p + 1}`, `[::1]:${p}`, `127.0.0.1.nip.io:${p}`, `localhost.:${p}`, `0.0.0.0:${p}`, `127.0.0.1:${other.port}`]) {
      const r = await raw(p, `POST /v1/messages HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect([host, status(r)]).toEqual([host, 421]);
    }
    // No Host at all (HTTP/1.0) is not addressed to the guard either.
    expect(status(await raw(p, `GET /v1/models HTTP/1.0\r\n\r\n`))).toBe(421);
    expect(api.seen).toEqual([]);
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST:${p}`]) {
      const r = await raw(p, `GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect([host, status(r)]).toEqual([host, 200]);
    }
    // The upstream is addressed as itself, never with the client's Host.
    expect(api.seen.map((x) => x.headers.host)).toEqual([`127.0.0.1:${api.port}`, `127.0.0.1:${api.port}`, `127.0.0.1:${api.port}`]);
    expect(other.connections).toBe(0);
  });

  it('requests only ever reach the configured upstream, whatever path, header or proxy header they carry', async () => {
    const s = await startGuard({ upstream: `${api.url}/base` });
    const p = s.guard.port;
    const o = `127.0.0.1:${other.port}`;
    // Request lines a URL parser would turn into another host or out of the base path: sent raw.
    const paths = [`/@${o}/v1/messages`, `/\\${o}/v1/messages`, `/\\\\${o}/v1/messages`, `/..//${o}/v1/messages`, `/.//${o}/x`, `/%2e%2e//${o}/x`, `/%2F%2F${o}/x`, `/..\\${o}/x`, `/v1/messages?url=http://${o}/`, '/../../x'];
    for (const path of paths) {
      const r = await raw(p, `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${p}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect([path, JSON.parse(bodyOf(r))]).toEqual([path, { reached: 'api', url: `/base${path}` }]);
    }
    // Headers that name another host, and proxy credentials meant for the guard's hop.
    const a = await send(s.guard.url, { path: '/v1/messages', headers: { 'x-forwarded-host': o, forwarded: `host=${o}`, 'x-original-url': `http://${o}/`, 'proxy-authorization': 'Basic eDp5' }, body: '{}' }).answer;
    expect(JSON.parse(a.body.toString())).toMatchObject({ reached: 'api' });
    expect(api.seen.at(-1)!.headers['proxy-authorization']).toBeUndefined();
    expect(api.seen).toHaveLength(paths.length + 1);
    expect(other.connections).toBe(0);
  });

  it('a body over the limit → 413, not forwarded', async () => {
    const s = await startGuard({ upstream: api.url, maxBodyBytes: 1000 });
    const r = await send(s.guard.url, { body: 'x'.repeat(5000) }).answer.catch((e: Error) => e);
    if (!(r instanceof Error)) {
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body.toString())).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    }
    expect(s.events).toContainEqual({ type: 'refused', status: 413, reason: 'the request body is over 1000 bytes' });
    expect(api.seen).toEqual([]);
  });

  it('a bad upstream is refused before anything listens', async () => {
    await expect(startGuard({ upstream: 'ftp://127.0.0.1/' })).rejects.toThrow(/http or https/);
    await expect(startGuard({ upstream: 'not a url' })).rejects.toThrow(/not a URL/);
    await expect(startGuard({ upstream: `${api.url}/?x=1` })).rejects.toThrow(/without a query/);
  });

  it('a port in use: a clear error', async () => {
    await expect(startGuard({ upstream: api.url, port: api.port })).rejects.toThrow(`127.0.0.1:${api.port}: the port is in use`);
  });
});
