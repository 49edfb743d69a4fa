import { afterEach, describe, expect, it } from 'vitest';
import { post, privateIdOf, randomToken, serverFixture } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

describe('WSS_Handshake over the socket', () => {
  it('accepts a token with the legacy result members and a 64-hex server token', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    const res = await c.request('WSS_Handshake', { user_token: '7060939278321507' }, '1');
    expect(res.id).toBe('1');
    expect(Object.keys(res).sort()).toEqual(['id', 'jsonrpc', 'result']);
    expect(res.result).toEqual({
      message: 'accept',
      numconnections: 1,
      maxconnections: 10,
      // As the original server counts: every handshake record, this one included.
      peerconnections: 1,
      server_token: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('refuses a token that already exists for the same IP', async () => {
    const server = await fx.start();
    const a = await fx.client(server);
    const b = await fx.client(server);
    expect((await a.request('WSS_Handshake', { user_token: 'same' })).result.message).toBe('accept');
    const res = await b.request('WSS_Handshake', { user_token: 'same' }, 7);
    expect(res).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32001, message: 'User token already exists for your IP.' },
    });
  });

  it('enforces the per-IP limit with numconnections/maxconnections data', async () => {
    const server = await fx.start({ maxConnectionsPerIp: 2 });
    const c = await fx.client(server);
    expect((await c.request('WSS_Handshake', { user_token: 't1' })).result.numconnections).toBe(1);
    expect((await c.request('WSS_Handshake', { user_token: 't2' })).result).toMatchObject({
      numconnections: 2,
      maxconnections: 2,
    });
    const res = await c.request('WSS_Handshake', { user_token: 't3' });
    expect(res.error).toEqual({
      code: -32001,
      message: 'Too many connections from your IP.',
      data: { numconnections: 2, maxconnections: 2 },
    });
  });

  it('frees pending socket handshakes when their socket closes', async () => {
    const server = await fx.start({ maxConnectionsPerIp: 1 });
    const a = await fx.client(server);
    expect((await a.request('WSS_Handshake', { user_token: 'x' })).result.message).toBe('accept');
    await a.close();
    const b = await fx.client(server);
    expect((await b.request('WSS_Handshake', { user_token: 'x' })).result.numconnections).toBe(1);
  });

  it('rejects a missing or non-string user_token with -32602', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    for (const params of [undefined, {}, { user_token: '' }, { user_token: 5 }, { user_token: 'x'.repeat(257) }]) {
      const res = await c.request('WSS_Handshake', params);
      expect(res.error).toEqual({
        code: -32602,
        message: 'Parameter "user_token" must be a non-empty string of at most 256 characters.',
      });
    }
  });

  it('counts every handshake record, the new one included, in peerconnections (as the original server)', async () => {
    const server = await fx.start();
    await fx.joined(server);
    await fx.joined(server);
    const c = await fx.client(server);
    expect((await c.request('WSS_Handshake', { user_token: randomToken() })).result.peerconnections).toBe(3);
    expect((await c.request('WSS_Handshake', { user_token: randomToken() })).result.peerconnections).toBe(4);
  });
});

describe('WSS_Handshake over HTTP POST', () => {
  it('answers with application/json-rpc and CORS, and the socket can then connect from the same IP', async () => {
    const server = await fx.start();
    const token = randomToken();
    const http = await post(
      server,
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: token }, id: '1' }),
    );
    expect(http.status).toBe(200);
    expect(http.headers.get('content-type')).toBe('application/json-rpc');
    expect(http.headers.get('access-control-allow-origin')).toBe('*');
    const body = await http.json();
    expect(body.id).toBe('1');
    const serverToken: string = body.result.server_token;

    const c = await fx.client(server);
    const res = await c.request('WSS_Connect', {
      user_token: token,
      server_token: serverToken,
      options: { wss: true },
    });
    expect(res.result).toEqual({
      message: 'open',
      private_id: privateIdOf(serverToken, token),
      connect: [],
      options: [],
    });
  });

  it('answers -32002 for the other methods over HTTP', async () => {
    const server = await fx.start();
    const cases: Array<[string, string]> = [
      ['WSS_Connect', 'Session must be created through a WebSocket connection.'],
      ['WSS_Send', 'Messages must be sent through a WebSocket connection.'],
      ['WSS_Session', 'Session actions must be made through a WebSocket connection.'],
    ];
    for (const [method, message] of cases) {
      const res = await post(server, JSON.stringify({ jsonrpc: '2.0', method, params: { options: {} }, id: 3 }));
      expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32002, message } });
    }
  });

  it('answers -32700 for a body that is empty or not JSON', async () => {
    const server = await fx.start();
    for (const body of ['', '{nope']) {
      const res = await post(server, body);
      expect(await res.json()).toEqual({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32700, message: 'Request empty or malformed.' },
      });
    }
  });

  it('refuses bodies over maxPayload with 413 and a JSON-RPC error', async () => {
    const server = await fx.start({ maxPayload: 2048 });
    const res = await post(
      server,
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'x'.repeat(4096) }, id: 1 }),
    );
    expect(res.status).toBe(413);
    expect((await res.json()).error).toEqual({
      code: -32600,
      message: "Request body exceeds the server's size limit (maxPayload).",
    });
  });

  it('answers 204 with no body for a notification', async () => {
    const server = await fx.start();
    const res = await post(
      server,
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'n' } }),
    );
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
  });

  it('answers an OPTIONS preflight, and leaves CORS out when cors is false', async () => {
    const server = await fx.start();
    const pre = await fetch(server.httpUrl, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toContain('Content-Type');

    const plain = await fx.start({ cors: false });
    const res = await post(
      plain,
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'c' }, id: 1 }),
    );
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const noPreflight = await fetch(plain.httpUrl, { method: 'OPTIONS' });
    expect(noPreflight.status).toBe(405);
    expect(noPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 404 for unknown paths (HTTP and WebSocket) and 405 for a method / does not serve', async () => {
    const server = await fx.start();
    expect((await fetch(`${server.httpUrl}/nothing`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}/nothing?x=1`, { method: 'POST', body: '{}' })).status).toBe(404);
    const put = await fetch(server.httpUrl, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toContain('POST');
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(`${server.url}/nothing`);
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(error.message).toBe('Unexpected server response: 404');
  });
});

describe('httpOnlyHandshake', () => {
  it('refuses socket handshakes with -32002 and still accepts HTTP ones', async () => {
    const server = await fx.start({ httpOnlyHandshake: true });
    const c = await fx.client(server);
    const res = await c.request('WSS_Handshake', { user_token: 'a' });
    expect(res.error).toEqual({
      code: -32002,
      message: 'Session handshake must be made through HTTP / HTTPS service.',
    });
    const http = await post(
      server,
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'a' }, id: 1 }),
    );
    const token = (await http.json()).result.server_token;
    const connect = await c.request('WSS_Connect', { user_token: 'a', server_token: token, options: {} });
    expect(connect.result.message).toBe('open');
  });
});
