import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { Logger } from '../../src/util/logger.js';
import { post, serverFixture } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

const isDisconnectOf = (pid: string) => (m: any) => m.result?.type === 'session' && m.result.disconnect === pid;

/** Resolves with the HTTP status an upgrade was refused with, or 101 when it was accepted (and closes it). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', () => {});
  });
}

/** A logger that resolves `seen(text, n)` once `n` lines containing `text` were logged. */
function watchingLogger(): Logger & { seen(text: string, n?: number): Promise<void> } {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const log = (message: string) => {
    lines.push(message);
    for (const wake of waiters.splice(0)) wake();
  };
  return {
    debug: log,
    info: log,
    warn: log,
    error: log,
    async seen(text, n = 1) {
      while (lines.filter((l) => l.includes(text)).length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

describe('backpressure (maxBufferedBytes)', () => {
  it('closes a consumer that stopped reading with 1013; its peers see it leave; senders are told ok', async () => {
    const server = await fx.start({ maxPayload: 16 * 1024, maxBufferedBytes: 64 * 1024 });
    const slow = await fx.joined(server);
    const sender = await fx.joined(server);
    await slow.until((m) => m.result?.connect === sender.privateId);
    slow.ws.pause();
    const data = 'x'.repeat(15_000);
    for (let i = 0; i < 2000; i++) {
      sender.sendRaw(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'WSS_Send',
          id: i,
          params: sender.tokens({ type: 'broadcast', data }),
        }),
      );
    }
    await sender.until(isDisconnectOf(slow.privateId));
    const last = await sender.until((m) => m.id === 1999);
    expect(last.result).toEqual({ message: 'ok' });
    expect(server.sessions).toEqual([sender.privateId]);
    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toContain('maxBufferedBytes');
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toContain('wss_sessions_backpressure_closes_total{endpoint="wss"} 1');
  });
});

describe('handshake lock-out', () => {
  it('socket handshakes expire after handshakeTimeout, so one socket cannot hold its IP', async () => {
    const logger = watchingLogger();
    const server = await fx.start({ handshakeTimeout: 200, connectTimeout: 0, logger });
    const abuser = await fx.client(server);
    for (let i = 0; i < 10; i++) await abuser.request('WSS_Handshake', { user_token: `t${i}` });
    const refused = await abuser.request('WSS_Handshake', { user_token: 't10' });
    expect(refused.error.message).toBe('Too many connections from your IP.');
    await logger.seen('expired without WSS_Connect', 10);
    const other = await fx.client(server);
    expect((await other.request('WSS_Handshake', { user_token: 'fresh' })).result.message).toBe('accept');
    expect(abuser.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a socket without a session is closed after connectTimeout, freeing its handshakes', async () => {
    const server = await fx.start({ handshakeTimeout: 0, connectTimeout: 1000 });
    const member = await fx.joined(server);
    const abuser = await fx.client(server);
    // Sent at once, so that the answers all come well inside connectTimeout on a busy machine.
    for (let id = 0; id < 10; id++)
      abuser.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: `t${id}` }, id }));
    const answers = await Promise.all(Array.from({ length: 10 }, () => abuser.nextMessage()));
    expect(answers.filter((a) => a.result).length).toBe(9);
    expect(answers.find((a) => a.error)?.error.code).toBe(-32001);
    const closed = await abuser.closed;
    expect(closed).toEqual({ code: 1008, reason: 'no session (connectTimeout)' });
    expect(member.ws.readyState).toBe(WebSocket.OPEN);
    const next = await fx.client(server);
    expect((await next.request('WSS_Handshake', { user_token: 'x' })).result.numconnections).toBe(2);
  });
});

describe('admission', () => {
  it('caps open sockets per IP (429) and admits again once one closed', async () => {
    const server = await fx.start({ maxSocketsPerIp: 2 });
    const a = await fx.client(server);
    await fx.client(server);
    expect(await upgradeStatus(server.url)).toBe(429);
    await a.close();
    await vi.waitFor(async () => expect(await upgradeStatus(server.url)).toBe(101), { timeout: 5000, interval: 20 });
  });

  it('refuses origins outside allowedOrigins (403), allows listed ones and requests without Origin', async () => {
    const server = await fx.start({ allowedOrigins: ['http://good.example'] });
    expect(await upgradeStatus(server.url, { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(server.url, { Origin: 'http://good.example' })).toBe(101);
    expect(await upgradeStatus(server.url)).toBe(101);
    const open = await fx.start();
    expect(await upgradeStatus(open.url, { Origin: 'http://evil.example' })).toBe(101);
  });
});

describe('behind a trusted proxy', () => {
  const from = (ip: string) => ({ 'X-Forwarded-For': ip });

  it('caps sockets, ties socket handshakes and logs sockets by the X-Forwarded-For address alike', async () => {
    const logger = watchingLogger();
    const server = await fx.start({ trustProxy: ['127.0.0.1'], maxSocketsPerIp: 2, maxConnectionsPerIp: 1, logger });
    // The per-IP socket cap counts the forwarded client, not the proxy (every socket here comes from 127.0.0.1).
    const a = await fx.client(server, from('203.0.113.7'));
    const b = await fx.client(server, from('203.0.113.7'));
    expect(await upgradeStatus(server.url, from('203.0.113.7'))).toBe(429);
    const c = await fx.client(server, from('203.0.113.8'));
    // The handshake limit on the socket counts that same address.
    await a.join();
    expect((await b.request('WSS_Handshake', { user_token: 'second' })).error).toMatchObject({ code: -32001 });
    expect((await c.request('WSS_Handshake', { user_token: 'other' })).result.numconnections).toBe(1);
    // And the log lines of the refusal and of the open sockets name it the same way.
    await logger.seen('server: socket from 203.0.113.7 via 127.0.0.1:');
    await logger.seen('wss: socket opened from 203.0.113.7 via 127.0.0.1:', 2);
    await logger.seen('wss: socket opened from 203.0.113.8 via 127.0.0.1:');
  });

  it("names the forwarded client in the Signal endpoint's log lines too", async () => {
    const logger = watchingLogger();
    const signal = { jwtSecret: 'a-test-secret-of-at-least-32-bytes!!', ecdhInfo: 'limits-test' };
    const server = await fx.start({ trustProxy: ['127.0.0.1'], signal, logger });
    expect(await upgradeStatus(`${server.url}/stream`, from('203.0.113.11'))).toBe(101);
    await logger.seen('signal: socket opened from 203.0.113.11 via 127.0.0.1:');
  });

  it('connects an HTTP handshake on a socket from the same forwarded address only', async () => {
    const server = await fx.start({ trustProxy: ['127.0.0.1'] });
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'WSS_Handshake', params: { user_token: 'u' } });
    const hs = (await (await post(server, body, { headers: from('203.0.113.9') })).json()) as any;
    const params = { user_token: 'u', server_token: hs.result.server_token, options: {} };
    const elsewhere = await fx.client(server, from('203.0.113.10'));
    expect((await elsewhere.request('WSS_Connect', params)).error).toMatchObject({
      message: 'Session handshake not established.',
    });
    const same = await fx.client(server, from('203.0.113.9'));
    expect((await same.request('WSS_Connect', params)).result).toMatchObject({ message: 'open' });
  });
});

describe('request rate (token bucket)', () => {
  it('answers -32005 over the rate, drops over-rate notifications, and closes a socket that keeps going', async () => {
    const server = await fx.start({ requestRate: 1, requestBurst: 3 });
    const c = await fx.client(server);
    for (const token of ['a', 'b', 'c'])
      expect((await c.request('WSS_Handshake', { user_token: token })).result).toBeTruthy();
    const refused = await c.request('WSS_Handshake', { user_token: 'd' }, 'over');
    expect(refused).toEqual({
      jsonrpc: '2.0',
      id: 'over',
      error: {
        code: -32005,
        message: 'Too many requests on this connection (requestRate / requestBurst); slow down and retry.',
      },
    });
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"n"}}');
    for (let i = 0; i < 60; i++)
      c.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', id: i, params: {} }));
    expect(await c.closed).toEqual({ code: 1008, reason: 'request rate limit exceeded' });
    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/wss_sessions_rate_limited_requests_total\{endpoint="wss"\} (5\d|6\d)/);
  });
});

describe('deep and huge data', () => {
  function nested(depth: number): unknown {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = [value];
    return value;
  }

  it('answers -32602 naming maxDepth for data nested too deep (never -32603), and relays data within it', async () => {
    const server = await fx.start();
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until((m) => m.result?.connect === b.privateId);
    const deep = JSON.stringify({
      jsonrpc: '2.0',
      method: 'WSS_Send',
      id: 'deep',
      params: { ...a.tokens({ type: 'broadcast' }), data: '@DATA@' },
    }).replace('"@DATA@"', `${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    a.sendRaw(deep);
    expect((await a.until((m) => m.id === 'deep')).error).toEqual({
      code: -32602,
      message: 'Parameters are nested deeper than the server allows (maxDepth: 32 levels).',
    });
    const ok = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: nested(31) }));
    expect(ok.result).toEqual({ message: 'ok' });
    expect((await b.nextMessage()).result.data).toEqual(nested(31));
    const tooDeep = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: nested(32) }));
    expect(tooDeep.error.code).toBe(-32602);
  });

  it('relays data as deep as the highest maxDepth allowed (1000) without overflowing the stack', async () => {
    const server = await fx.start({ maxDepth: 1000 });
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until((m) => m.result?.connect === b.privateId);
    const ok = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: nested(999) }));
    expect(ok.result).toEqual({ message: 'ok' });
    expect((await b.nextMessage()).result.data).toEqual(nested(999));
  });

  it('answers -32602 naming maxPayload when the message to peers would pass it', async () => {
    const server = await fx.start({ maxPayload: 4096 });
    const a = await fx.joined(server);
    // Data is relayed as sent; a private ID of 128 three-byte characters makes the push larger than the request.
    const privateID = '€'.repeat(128);
    expect((await a.request('WSS_Session', a.tokens({ action: 'setPID', privateID }))).result).toEqual({ privateID });
    const request = (data: string) =>
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Send', id: 'big', params: a.tokens({ type: 'broadcast', data }) });
    const frame = request('x'.repeat(4096 - 16 - Buffer.byteLength(request(''))));
    expect(Buffer.byteLength(frame)).toBeLessThan(4096);
    a.sendRaw(frame);
    const res = await a.until((m) => m.id === 'big');
    expect(res.error.code).toBe(-32602);
    expect(res.error.message).toMatch(
      /^Parameter "data" is too large: .* over the server's maxPayload of 4096 bytes\.$/,
    );
  });
});

describe('wire parity with the original server', () => {
  it('answers methods starting with "rpc:" with -32600 "System extensions" and others with -32601', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    expect(await c.request('rpc:discover', {}, 1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32600, message: 'System extensions ("rpc:") are not implemented.' },
    });
    expect((await c.request(' rpc:x', {}, 2)).error.code).toBe(-32600);
    expect((await c.request('rpc.x', {}, 3)).error).toEqual({
      code: -32601,
      message: 'Method "rpc.x" does not exist.',
    });
  });
});

describe('request order', () => {
  it('keeps request order on one socket while answers wait for the broker', async () => {
    const server = await fx.start();
    const a = await fx.client(server);
    // Handshake, connect and send pipelined without waiting: each is answered in order.
    const token = 'pipelined';
    a.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', id: 1, params: { user_token: token } }));
    const hs = await a.nextMessage();
    const tokens = { user_token: token, server_token: hs.result.server_token };
    a.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Connect', id: 2, params: { ...tokens, options: {} } }));
    a.sendRaw(
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Session', id: 3, params: { ...tokens, action: 'getPID' } }),
    );
    expect((await a.nextMessage()).id).toBe(2);
    expect((await a.nextMessage()).result.privateID).toMatch(/^[0-9a-f]{64}$/);
  });

  it('runs a batch in order: of two connects in one batch only the first binds the socket', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    const one = await c.request('WSS_Handshake', { user_token: 'one' });
    const two = await c.request('WSS_Handshake', { user_token: 'two' });
    const connect = (token: string, serverToken: string, id: number) => ({
      jsonrpc: '2.0',
      method: 'WSS_Connect',
      id,
      params: { user_token: token, server_token: serverToken, options: {} },
    });
    c.sendRaw(JSON.stringify([connect('one', one.result.server_token, 1), connect('two', two.result.server_token, 2)]));
    const [first, second] = await c.nextMessage();
    expect(first.result.message).toBe('open');
    expect(second.error).toEqual({ code: -32001, message: "Socket session can't be established at this time." });
    expect(server.sessions).toEqual([first.result.private_id]);
  });
});
