import { afterEach, describe, expect, it } from 'vitest';
import { serverFixture } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

const err = (id: unknown, code: number, message: string) => ({ jsonrpc: '2.0', id, error: { code, message } });

describe('JSON-RPC envelope over the socket', () => {
  it('answers garbage with -32700 / -32600 and keeps the socket and the other clients working', async () => {
    const server = await fx.start();
    const bad = await fx.client(server);
    const good = await fx.joined(server);
    const cases: Array<[string, unknown]> = [
      ['not json', err(null, -32700, 'Request empty or malformed.')],
      ['   ', err(null, -32700, 'Request empty or malformed.')],
      ['42', err(null, -32600, 'Request must be a JSON object or an array of JSON objects.')],
      ['null', err(null, -32600, 'Request must be a JSON object or an array of JSON objects.')],
      ['{"method":"WSS_Handshake","id":1}', err(1, -32600, 'Missing "jsonrpc" property.')],
      [
        '{"jsonrpc":"1.0","method":"WSS_Handshake","id":"a"}',
        err('a', -32600, 'Expecting JSON-RPC version "2.0" (exactly).'),
      ],
      ['{"jsonrpc":"2.0","id":2}', err(2, -32600, 'Missing "method" property.')],
      ['{"jsonrpc":"2.0","method":5,"id":3}', err(3, -32600, 'Property "method" must be a non-empty string.')],
      ['{"jsonrpc":"2.0","method":" ","id":3}', err(3, -32600, 'Property "method" must be a non-empty string.')],
      [
        '{"jsonrpc":"2.0","method":"WSS_Handshake","id":{"x":1}}',
        err(null, -32600, 'Property "id" must be a string, a number or null.'),
      ],
      [
        '{"jsonrpc":"2.0","method":"WSS_Handshake","params":"x","id":4}',
        err(4, -32600, 'Property "params" must be an object or an array.'),
      ],
      ['{"jsonrpc":"2.0","method":"WSS_Nope","id":"5"}', err('5', -32601, 'Method "WSS_Nope" does not exist.')],
      [
        '{"jsonrpc":"2.0","method":"__proto__","params":{},"id":6}',
        err(6, -32601, 'Method "__proto__" does not exist.'),
      ],
    ];
    for (const [frame, expected] of cases) {
      bad.sendRaw(frame);
      expect(await bad.nextMessage()).toEqual(expected);
    }
    expect((await good.request('WSS_Session', good.tokens({ action: 'getPID' }))).result.privateID).toBe(
      good.privateId,
    );
    expect((await bad.request('WSS_Handshake', { user_token: 'still-ok' })).result.message).toBe('accept');
  });

  it('echoes legacy string ids and a null id unchanged', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"1234"},"id":"1"}');
    expect((await c.nextMessage()).id).toBe('1');
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"5678"},"id":null}');
    const res = await c.nextMessage();
    expect(res.id).toBeNull();
    expect(res.result.message).toBe('accept');
  });

  it('sends nothing back for notifications, valid or not', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"n1"}}');
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Unknown"}');
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Send","params":{}}');
    await c.barrier();
    expect(c.pending).toBe(0);
    // The notification did take effect.
    expect((await c.request('WSS_Handshake', { user_token: 'n1' })).error.message).toBe(
      'User token already exists for your IP.',
    );
  });

  it('closes only the offending socket (1009) for a frame over maxPayload', async () => {
    const server = await fx.start({ maxPayload: 4096 });
    const big = await fx.joined(server);
    const other = await fx.joined(server);
    big.sendRaw(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'WSS_Send',
        params: big.tokens({ type: 'broadcast', data: 'x'.repeat(8000) }),
        id: 1,
      }),
    );
    expect((await big.closed).code).toBe(1009);
    expect(await other.nextMessage()).toEqual({
      jsonrpc: '2.0',
      result: { type: 'session', disconnect: big.privateId },
    });
    expect((await other.request('WSS_Session', other.tokens({ action: 'getPID' }))).result.privateID).toBe(
      other.privateId,
    );
  });

  it('accepts binary frames holding JSON text', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    c.ws.send(Buffer.from('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"bin"},"id":1}'), {
      binary: true,
    });
    expect((await c.nextMessage()).result.message).toBe('accept');
  });
});

describe('batches', () => {
  it('answers a batch with an array in request order, leaving out notifications', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    c.sendRaw(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'b1' }, id: 'x' },
        { jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'b2' } },
        { jsonrpc: '2.0', method: 'WSS_Nope', id: 2 },
        { foo: 1 },
      ]),
    );
    const res = await c.nextMessage();
    expect(Array.isArray(res)).toBe(true);
    expect(res).toHaveLength(3);
    expect(res[0]).toMatchObject({ id: 'x', result: { message: 'accept' } });
    expect(res[1]).toEqual(err(2, -32601, 'Method "WSS_Nope" does not exist.'));
    expect(res[2]).toEqual(err(null, -32600, 'Missing "jsonrpc" property.'));
  });

  it('answers a one-element batch with a one-element array', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    c.sendRaw(JSON.stringify([{ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'one' }, id: 1 }]));
    const res = await c.nextMessage();
    expect(res).toHaveLength(1);
    expect(res[0].id).toBe(1);
  });

  it('refuses empty and over-size batches with one -32600 error and runs none of them', async () => {
    const server = await fx.start();
    const c = await fx.client(server);
    c.sendRaw('[]');
    expect(await c.nextMessage()).toEqual(err(null, -32600, 'Batch request is empty.'));
    const six = Array.from({ length: 6 }, (_, i) => ({
      jsonrpc: '2.0',
      method: 'WSS_Handshake',
      params: { user_token: `t${i}` },
      id: i,
    }));
    c.sendRaw(JSON.stringify(six));
    expect(await c.nextMessage()).toEqual(
      err(null, -32600, 'No more than 5 batched requests allowed. Request has 6 methods.'),
    );
    expect((await c.request('WSS_Handshake', { user_token: 't0' })).result.numconnections).toBe(1);
  });

  it('sends nothing for a batch of notifications only, and honours maxBatch', async () => {
    const server = await fx.start({ maxBatch: 2 });
    const c = await fx.client(server);
    c.sendRaw(JSON.stringify([{ jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'q' } }]));
    await c.barrier();
    expect(c.pending).toBe(0);
    c.sendRaw(JSON.stringify([1, 2, 3]));
    expect((await c.nextMessage()).error.message).toBe(
      'No more than 2 batched requests allowed. Request has 3 methods.',
    );
  });

  it('works over HTTP too', async () => {
    const server = await fx.start();
    const res = await fetch(server.httpUrl, {
      method: 'POST',
      body: JSON.stringify([
        { jsonrpc: '2.0', method: 'WSS_Handshake', params: { user_token: 'h1' }, id: 1 },
        { jsonrpc: '2.0', method: 'WSS_Connect', params: {}, id: 2 },
      ]),
    });
    const body = await res.json();
    expect(body[0].result.message).toBe('accept');
    expect(body[1]).toEqual(err(2, -32002, 'Session must be created through a WebSocket connection.'));
  });
});
