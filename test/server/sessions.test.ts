import { afterEach, describe, expect, it } from 'vitest';
import { isPush, privateIdOf, serverFixture, type RawClient } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

describe('WSS_Connect', () => {
  it('derives the private ID, lists earlier peers with their options and announces the newcomer', async () => {
    const server = await fx.start();
    const a = await fx.joined(server, { wss: true, key: 'A' });
    expect(a.privateId).toBe(privateIdOf(a.serverToken, a.userToken));
    const b = await fx.joined(server, { wss: true, key: 'B' });
    expect((await a.until(isPush)).result).toEqual({
      type: 'session',
      connect: b.privateId,
      options: { wss: true, key: 'B' },
    });

    const c = await fx.client(server);
    const res = await c.join({ wss: true, webrtc: false, nested: { pub: [1, 2] } });
    expect(res.result).toEqual({
      message: 'open',
      private_id: privateIdOf(c.serverToken, c.userToken),
      connect: [a.privateId, b.privateId],
      options: [
        { wss: true, key: 'A' },
        { wss: true, key: 'B' },
      ],
    });
    const expected = {
      jsonrpc: '2.0',
      result: { type: 'session', connect: c.privateId, options: { wss: true, webrtc: false, nested: { pub: [1, 2] } } },
    };
    for (const peer of [a, b]) {
      const push = await peer.until(isPush);
      expect(push).toEqual(expected);
      expect('id' in push).toBe(false);
    }
    expect(server.sessions).toEqual([a.privateId, b.privateId, c.privateId]);
  });

  it('answers every refusal with the protocol code and message', async () => {
    const server = await fx.start();
    const a = await fx.client(server);
    const hs = await a.request('WSS_Handshake', { user_token: 'u1' });
    const serverToken = hs.result.server_token;
    const err = async (params: unknown) => (await a.request('WSS_Connect', params)).error;

    const noOptions = { code: -32602, message: 'Connection options not supplied or not an object.' };
    expect(await err({ user_token: 'u1', server_token: serverToken })).toEqual(noOptions);
    expect(await err({ user_token: 'u1', server_token: serverToken, options: 'x' })).toEqual(noOptions);
    expect(await err({ user_token: 'u1', server_token: serverToken, options: null })).toEqual(noOptions);
    expect(await err(undefined)).toEqual(noOptions);
    expect(await err({ user_token: 'nope', server_token: serverToken, options: {} })).toEqual({
      code: -32001,
      message: 'Session handshake not established.',
    });
    expect(await err({ user_token: 'u1', server_token: 'f'.repeat(64), options: {} })).toEqual({
      code: -32001,
      message: 'Token mismatch.',
    });
    expect(
      (await a.request('WSS_Connect', { user_token: 'u1', server_token: serverToken, options: {} })).result.message,
    ).toBe('open');
    expect(await err({ user_token: 'u1', server_token: serverToken, options: {} })).toEqual({
      code: -32001,
      message: 'Socket session exists.',
    });

    // A second handshake on a socket that already carries a session cannot be bound to it.
    const hs2 = await a.request('WSS_Handshake', { user_token: 'u2' });
    expect(await err({ user_token: 'u2', server_token: hs2.result.server_token, options: {} })).toEqual({
      code: -32001,
      message: "Socket session can't be established at this time.",
    });
  });
});

describe('WSS_Send', () => {
  async function three(): Promise<[RawClient, RawClient, RawClient]> {
    const server = await fx.start();
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until(isPush);
    const c = await fx.joined(server);
    await a.until(isPush);
    await b.until(isPush);
    return [a, b, c];
  }

  it('broadcasts to every other session, never to the sender or the excluded', async () => {
    const [a, b, c] = await three();
    const res = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: { hello: 'all' } }), '9');
    expect(res).toEqual({ jsonrpc: '2.0', id: '9', result: { message: 'ok' } });
    for (const peer of [b, c]) {
      expect(await peer.nextMessage()).toEqual({
        jsonrpc: '2.0',
        result: { type: 'broadcast', from: a.privateId, data: { hello: 'all' } },
      });
    }
    await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'not b', exclude: { rcp: [b.privateId] } }));
    expect((await c.nextMessage()).result.data).toBe('not b');
    await Promise.all([a.barrier(), b.barrier()]);
    expect(a.pending).toBe(0);
    expect(b.pending).toBe(0);
  });

  it('sends direct messages to the listed sessions only and drops unknown ids silently', async () => {
    const [a, b, c] = await three();
    const res = await a.request(
      'WSS_Send',
      a.tokens({ type: 'direct', to: { rcp: [c.privateId, 'unknown-id', c.privateId] }, data: 'psst' }),
    );
    expect(res.result).toEqual({ message: 'ok' });
    expect(await c.nextMessage()).toEqual({
      jsonrpc: '2.0',
      result: { type: 'direct', from: a.privateId, data: 'psst' },
    });
    await Promise.all([a.barrier(), b.barrier(), c.barrier()]);
    expect([a.pending, b.pending, c.pending]).toEqual([0, 0, 0]);
  });

  it('relays a missing data member as null and accepts the legacy case-insensitive type', async () => {
    const [a, b] = await three();
    await a.request('WSS_Send', a.tokens({ type: 'Direct', to: { rcp: [b.privateId] } }));
    expect(await b.nextMessage()).toEqual({
      jsonrpc: '2.0',
      result: { type: 'direct', from: a.privateId, data: null },
    });
  });

  it('relays data as the sender wrote it, byte for byte: spacing, numbers and escapes kept', async () => {
    const [a, b, c] = await three();
    const data = '[ 1e2, 1.50 ,"\\u00e9\\n", {"k" :-0, "k": null}, 123456789012345678901234567890 ]';
    const tokens = JSON.stringify(a.tokens({ type: 'broadcast' })).slice(0, -1);
    a.sendRaw(`{"jsonrpc":"2.0","method":"WSS_Send","id":"raw","params":${tokens},"data": ${data} }}`);
    expect((await a.until((m) => m.id === 'raw')).result).toEqual({ message: 'ok' });
    const push = `{"jsonrpc":"2.0","result":{"type":"broadcast","from":"${a.privateId}","data":${data}}}`;
    expect(await b.nextFrame()).toBe(push);
    expect(await c.nextFrame()).toBe(push);
  });

  it('relays large data to every peer intact, from batches too', async () => {
    const [a, b, c] = await three();
    const big = { text: 'é'.repeat(150_000), list: Array.from({ length: 1000 }, (_, i) => i) };
    const batch = [1, 2].map((n) => ({
      jsonrpc: '2.0',
      method: 'WSS_Send',
      id: `big${n}`,
      params: a.tokens({ type: 'broadcast', data: { n, big } }),
    }));
    a.sendRaw(JSON.stringify(batch));
    const answer = await a.until(Array.isArray);
    expect(answer.map((r: { id: string; result: unknown }) => [r.id, r.result])).toEqual([
      ['big1', { message: 'ok' }],
      ['big2', { message: 'ok' }],
    ]);
    for (const peer of [b, c]) {
      for (const n of [1, 2]) {
        expect(await peer.nextMessage()).toEqual({
          jsonrpc: '2.0',
          result: { type: 'broadcast', from: a.privateId, data: { n, big } },
        });
      }
    }
  });

  it('relays a binary frame that is not UTF-8 as valid UTF-8, each bad byte as U+FFFD', async () => {
    const [a, b] = await three();
    const request = JSON.stringify({
      jsonrpc: '2.0',
      method: 'WSS_Send',
      id: 'bin',
      params: a.tokens({ type: 'broadcast', data: 'a@b' }),
    });
    const bytes = Buffer.from(request);
    bytes[bytes.indexOf('a@b') + 1] = 0xff;
    a.ws.send(bytes, { binary: true });
    expect((await a.until((m) => m.id === 'bin')).result).toEqual({ message: 'ok' });
    expect((await b.nextMessage()).result.data).toBe('a\ufffdb');
  });

  it('answers every refusal with the protocol code and message', async () => {
    const [a, b] = await three();
    const err = async (params: unknown) => (await a.request('WSS_Send', params)).error;
    const handshake = { code: -32001, message: 'Handshake not established.' };
    expect(await err({ user_token: a.userToken, server_token: 'bad', type: 'broadcast' })).toEqual(handshake);
    expect(await err({ user_token: 'who', server_token: a.serverToken, type: 'broadcast' })).toEqual(handshake);
    expect(await err({ type: 'broadcast' })).toEqual(handshake);
    expect(await err(a.tokens({ data: 1 }))).toEqual({ code: -32602, message: 'Message "type" not specified.' });
    expect(await err(a.tokens({ type: 'shout' }))).toEqual({ code: -32602, message: 'Unrecognized message "type".' });
    expect(await err(a.tokens({ type: 7 }))).toEqual({ code: -32602, message: 'Unrecognized message "type".' });
    expect(await err(a.tokens({ type: 'direct' }))).toEqual({
      code: -32602,
      message: 'Recipient(s) "to" not specified.',
    });
    expect(await err(a.tokens({ type: 'direct', to: 'x' }))).toEqual({
      code: -32602,
      message: 'Recipient(s) "to" must be an object.',
    });
    expect(await err(a.tokens({ type: 'direct', to: { rcp: 'x' } }))).toEqual({
      code: -32602,
      message: 'Recipient(s) "to.rcp" must be an array.',
    });
    expect(await err(a.tokens({ type: 'direct', to: { rcp: [1] } }))).toEqual({
      code: -32602,
      message: 'Recipient(s) "to.rcp" must contain only private ID strings.',
    });
    expect(await err(a.tokens({ type: 'broadcast', exclude: { rcp: 'x' } }))).toEqual({
      code: -32602,
      message: 'Exclusions "exclude" must be an object with an "rcp" array of private ID strings.',
    });
    expect(await err(['by', 'position'])).toEqual({ code: -32602, message: 'Parameters must be a JSON object.' });
    await b.barrier();
    expect(b.pending).toBe(0);
  });

  it('refuses a send from a socket that does not carry the session (-32003)', async () => {
    const server = await fx.start();
    const a = await fx.joined(server);
    const other = await fx.client(server);
    const res = await other.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'spoof' }));
    expect(res.error).toEqual({ code: -32003, message: 'Session not established.' });
  });
});

describe('WSS_Session', () => {
  it('getPID returns the private ID; setPID changes it, pushes the change and reroutes messages', async () => {
    const server = await fx.start();
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until(isPush);
    const c = await fx.joined(server);
    await Promise.all([a.until(isPush), b.until(isPush)]);

    expect((await a.request('WSS_Session', a.tokens({ action: 'getPID' }))).result).toEqual({ privateID: a.privateId });
    const old = a.privateId;
    expect((await a.request('WSS_Session', a.tokens({ action: 'setPID', privateID: 'alice' }))).result).toEqual({
      privateID: 'alice',
    });
    for (const peer of [b, c]) {
      expect(await peer.nextMessage()).toEqual({
        jsonrpc: '2.0',
        result: { type: 'session', change: { oldPrivateID: old, newPrivateID: 'alice' } },
      });
    }
    expect((await a.request('WSS_Session', a.tokens({ action: 'getPID' }))).result.privateID).toBe('alice');
    expect(server.sessions).toContain('alice');
    expect(server.sessions).not.toContain(old);

    await b.request('WSS_Send', b.tokens({ type: 'direct', to: { rcp: ['alice', old] }, data: 'hi' }));
    expect(await a.nextMessage()).toEqual({
      jsonrpc: '2.0',
      result: { type: 'direct', from: b.privateId, data: 'hi' },
    });
    await c.request('WSS_Send', c.tokens({ type: 'broadcast', data: 'x' }));
    expect((await a.nextMessage()).result).toEqual({ type: 'broadcast', from: c.privateId, data: 'x' });
    await a.barrier();
    expect(a.pending).toBe(0);
  });

  it('answers every refusal with the protocol code and message', async () => {
    const server = await fx.start();
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    const err = async (params: unknown) => (await a.request('WSS_Session', params)).error;
    expect(await err({ user_token: a.userToken, server_token: 'x', action: 'getPID' })).toEqual({
      code: -32602,
      message: 'Invalid tokens.',
    });
    expect(await err({ action: 'getPID' })).toEqual({ code: -32602, message: 'Invalid tokens.' });
    expect(await err(a.tokens({ action: 'dance' }))).toEqual({
      code: -32602,
      message: 'Unrecognized session "action"; expected "setPID" or "getPID".',
    });
    const badPid = {
      code: -32602,
      message: 'Parameter "privateID" must be a non-empty string of at most 128 characters without control characters.',
    };
    for (const privateID of [undefined, '', 5, 'x'.repeat(129), 'a\nb']) {
      expect(await err(a.tokens({ action: 'setPID', privateID }))).toEqual(badPid);
    }
    expect(await err(a.tokens({ action: 'setPID', privateID: b.privateId }))).toEqual({
      code: -32602,
      message: 'Parameter "privateID" is already in use by another session.',
    });

    const pending = await fx.client(server);
    const hs = await pending.request('WSS_Handshake', { user_token: 'p' });
    const res = await pending.request('WSS_Session', {
      user_token: 'p',
      server_token: hs.result.server_token,
      action: 'getPID',
    });
    expect(res.error).toEqual({ code: -32003, message: 'Session not established.' });
  });
});

describe('closing a socket', () => {
  it('pushes a disconnect to every remaining session and drops the handshake', async () => {
    const server = await fx.start({ maxConnectionsPerIp: 3 });
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until(isPush);
    const c = await fx.joined(server);
    await Promise.all([a.until(isPush), b.until(isPush)]);

    const gone = c.privateId;
    await c.close();
    for (const peer of [a, b]) {
      expect(await peer.nextMessage()).toEqual({ jsonrpc: '2.0', result: { type: 'session', disconnect: gone } });
    }
    expect(server.sessions).toEqual([a.privateId, b.privateId]);
    // The freed slot is usable again and the old token is unknown.
    const d = await fx.client(server);
    const hs = await d.request('WSS_Handshake', { user_token: c.userToken });
    expect(hs.result.numconnections).toBe(3);
  });
});
