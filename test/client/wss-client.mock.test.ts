import { EventEmitter } from 'eventemitter3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AbortError,
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidStateError,
  NotConnectedError,
  ProtocolError,
  RpcError,
  TimeoutError,
  WSSClient,
  type Logger,
} from '../../src/index.js';
import { MockWss } from './mock-server.js';

const servers: MockWss[] = [];
function setup(options: { requestTimeout?: number; maxFrameSize?: number; logger?: Logger } = {}) {
  const mock = new MockWss();
  servers.push(mock);
  const client = new WSSClient({ url: mock.url, WebSocket: mock.WebSocket, ...options });
  return { mock, client };
}

function nextEvent<T>(client: WSSClient, event: 'error' | 'message' | 'close' | 'peerpid' | 'peerconnect'): Promise<T> {
  return new Promise((resolve) => client.once(event, resolve as (arg: unknown) => void));
}

afterEach(() => {
  for (const s of servers.splice(0)) s.stop();
});

describe('WSSClient over mock-socket', () => {
  it('handshakes and connects over the socket with string ids and the documented params', async () => {
    const { mock, client } = setup();
    mock.peers = [['p1', { wss: true, pk: 'x' }]];
    const info = await client.connect();
    expect(info).toEqual({ privateId: 'me', peers: ['p1'] });
    expect(client.state).toBe('connected');
    expect(client.peers.get('p1')).toEqual({ wss: true, pk: 'x' });
    const [handshake, connect] = mock.received;
    expect(handshake).toMatchObject({
      jsonrpc: '2.0',
      method: 'WSS_Handshake',
      id: '1',
      params: { user_token: client.userToken },
    });
    expect(client.userToken).toMatch(/^[0-9a-f]{32}$/);
    expect(connect).toMatchObject({
      method: 'WSS_Connect',
      id: '2',
      params: {
        user_token: client.userToken,
        server_token: 'a'.repeat(64),
        options: { wss: true, webrtc: false, ortc: false },
      },
    });
    // "me" is not the SHA-256 of the tokens: a warning flag, not a failure.
    expect(client.privateIdVerified).toBe(false);
    await client.disconnect();
    expect(client.state).toBe('disconnected');
  });

  it("on state 'connected', peers and privateId already hold the connect result; early pushes follow", async () => {
    const { mock, client } = setup();
    mock.peers = [['p1', { wss: true }]];
    const seen: string[] = [];
    client.on('state', ({ state }) => {
      if (state === 'connected') seen.push(`connected:${client.privateId}:${[...client.peers.keys()].join(',')}`);
    });
    client.on('peerconnect', ({ privateId }) => seen.push(`peerconnect:${privateId}`));
    mock.auto.delete('WSS_Connect');
    const connecting = client.connect();
    await mock.waitForRequests(2);
    // The push is sent before the WSS_Connect answer and still lands after the peers were set.
    mock.push({ type: 'session', connect: 'p2', options: {} });
    mock.respond('2', { message: 'open', private_id: 'me', connect: ['p1'], options: [{ wss: true }] });
    await connecting;
    await client.getPrivateId();
    expect(seen).toEqual(['connected:me:p1', 'peerconnect:p2']);
    expect([...client.peers.keys()]).toEqual(['p1', 'p2']);
    await client.disconnect();
  });

  it('routes pushes (no id) as events, never as responses, and keeps peers in step', async () => {
    const { mock, client } = setup();
    await client.connect();
    const connected = nextEvent(client, 'peerconnect');
    mock.push({ type: 'session', connect: 'p2', options: { wss: true } });
    expect(await connected).toMatchObject({ privateId: 'p2', options: { wss: true } });
    const renamed = nextEvent(client, 'peerpid');
    mock.push({ type: 'session', oldPrivateID: 'p2', newPrivateID: 'bob' }); // legacy flat form
    expect(await renamed).toMatchObject({ oldPrivateId: 'p2', newPrivateId: 'bob' });
    expect([...client.peers.keys()]).toEqual(['bob']);
    const message = nextEvent(client, 'message');
    // A push whose result also looks like a response must not settle request "3".
    const pending = client.getPrivateId();
    await mock.waitForRequests(3);
    mock.push({ type: 'direct', from: 'bob', data: { id: '3' } });
    expect(await message).toMatchObject({ type: 'direct', from: 'bob', data: { id: '3' } });
    expect(await pending).toBe('me');
    await client.disconnect();
  });

  it('reports bad frames as ProtocolError events and stays usable', async () => {
    const { mock, client } = setup({ maxFrameSize: 1000 });
    await client.connect();
    const bad = [
      'not json',
      '[]',
      '{"jsonrpc":"2.0"}',
      '{"jsonrpc":"2.0","result":{"type":"teleport"}}',
      '{"jsonrpc":"2.0","result":{"type":"direct","data":1}}',
      '{"jsonrpc":"2.0","id":"9","result":1,"error":{}}',
      '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Request empty or malformed."}}',
      'x'.repeat(1001),
    ];
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    for (const frame of bad) mock.raw(frame);
    expect(await client.getPrivateId()).toBe('me'); // round trip as a barrier
    expect(errors).toHaveLength(bad.length);
    for (const e of errors) expect(e).toBeInstanceOf(ProtocolError);
    expect(client.state).toBe('connected');
    await client.disconnect();
  });

  it('a listener that throws does not break the client', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const { mock, client } = setup({ logger });
    await client.connect();
    client.on('message', () => {
      throw new Error('app bug');
    });
    mock.push({ type: 'broadcast', from: 'p', data: 1 });
    expect(await client.getPrivateId()).toBe('me');
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining("'message' listener threw"), expect.any(Error));
    await client.disconnect();
  });

  it('is an eventemitter3 emitter: context argument, once, off', async () => {
    const { mock, client } = setup();
    expect(client).toBeInstanceOf(EventEmitter);
    const view = { seen: [] as unknown[] };
    function show(this: typeof view, { data }: { data: unknown }): void {
      this.seen.push(data);
    }
    const once = vi.fn();
    client.on('message', show, view).once('message', once);
    await client.connect();
    mock.push({ type: 'broadcast', from: 'p', data: 1 });
    mock.push({ type: 'broadcast', from: 'p', data: 2 });
    expect(await client.getPrivateId()).toBe('me');
    client.off('message', show, view);
    mock.push({ type: 'broadcast', from: 'p', data: 3 });
    expect(await client.getPrivateId()).toBe('me');
    expect(view.seen).toEqual([1, 2]);
    expect(once).toHaveBeenCalledTimes(1);
    expect(client.listenerCount('message')).toBe(0);
    await client.disconnect();
  });

  it('server errors reject with RpcError carrying code, message and data', async () => {
    const { mock, client } = setup();
    await client.connect();
    mock.auto.delete('WSS_Send');
    const sent = client.send('p1', 'hi');
    await mock.waitForRequests(3);
    mock.raw(
      JSON.stringify({
        jsonrpc: '2.0',
        id: '3',
        error: { code: -32001, message: 'Handshake not established.', data: { x: 1 } },
      }),
    );
    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toMatchObject({
      code: 'ERR_RPC',
      rpcCode: -32001,
      serverMessage: 'Handshake not established.',
      data: { x: 1 },
      method: 'WSS_Send',
    });
    await client.disconnect();
  });

  it('times out a request that gets no answer, and logs the late answer', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const { mock, client } = setup({ requestTimeout: 40, logger });
    await client.connect();
    mock.auto.delete('WSS_Session');
    const error = await client.getPrivateId().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ operation: 'WSS_Session', timeoutMs: 40 });
    mock.auto.add('WSS_Session');
    mock.respond('3', { privateID: 'late' });
    expect(await client.getPrivateId()).toBe('me');
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('id "3"'));
    await client.disconnect();
  });

  it('aborts a request through its AbortSignal', async () => {
    const { mock, client } = setup();
    await client.connect();
    mock.auto.delete('WSS_Send');
    const controller = new AbortController();
    const sent = client.broadcast('x', { signal: controller.signal });
    await mock.waitForRequests(3);
    controller.abort();
    await expect(sent).rejects.toBeInstanceOf(AbortError);
    await expect(client.broadcast('y', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    await client.disconnect();
  });

  it('rejects every pending request with its own ConnectionClosedError when the socket closes', async () => {
    const { mock, client } = setup();
    await client.connect();
    mock.auto.clear();
    const calls = [client.getPrivateId(), client.broadcast(1), client.send(['a', 'b'], 2)];
    await mock.waitForRequests(5);
    const closed = nextEvent<{ code: number; requested: boolean }>(client, 'close');
    mock.socket?.close({ code: 4001, reason: 'bye' });
    const results = await Promise.allSettled(calls);
    const reasons = results.map((r) => (r.status === 'rejected' ? (r.reason as ConnectionClosedError) : null));
    expect(reasons.map((r) => r?.operation)).toEqual(['WSS_Session', 'WSS_Send', 'WSS_Send']);
    for (const r of reasons) expect(r).toBeInstanceOf(ConnectionClosedError);
    expect(new Set(reasons).size).toBe(3);
    expect(await closed).toMatchObject({ code: 4001, requested: false });
    expect(client.state).toBe('disconnected');
    expect(client.peers.size).toBe(0);
    await expect(client.getPrivateId()).rejects.toBeInstanceOf(NotConnectedError);
  });

  it('ignores events from a replaced socket (generation counter)', async () => {
    const { mock, client } = setup();
    await client.connect();
    const oldSocket = mock.socket;
    await client.disconnect();
    await client.connect();
    const messages: unknown[] = [];
    client.on('message', (m) => messages.push(m.data));
    oldSocket?.send(JSON.stringify({ jsonrpc: '2.0', result: { type: 'broadcast', from: 'ghost', data: 'old' } }));
    mock.push({ type: 'broadcast', from: 'p', data: 'new' });
    expect(await client.getPrivateId()).toBe('me');
    expect(messages).toEqual(['new']);
    await client.disconnect();
  });

  it('checks caller arguments at once, naming them', async () => {
    expect(() => new WSSClient({ url: 'http://x' })).toThrow(
      /option 'url' must be a ws:\/\/ or wss:\/\/ URL, got "http:\/\/x"/,
    );
    expect(() => new WSSClient({ url: 'ws://x', requestTimeout: -1 })).toThrow(InvalidArgumentError);
    expect(() => new WSSClient({ url: 'ws://x', handshakeUrl: 'ws://x' })).toThrow(/handshakeUrl/);
    const { client } = setup();
    await client.connect();
    await expect(client.send([], 1)).rejects.toThrow(/'to' must be/);
    await expect(client.send(['ok', 7 as unknown as string], 1)).rejects.toThrow(/'to\[1\]'/);
    await expect(client.broadcast(1, { exclude: 'x' as unknown as string[] })).resolves.toBeUndefined();
    await expect(client.setPrivateId('')).rejects.toThrow(/'privateId'/);
    await expect(client.broadcast(10n)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.connect()).rejects.toBeInstanceOf(InvalidStateError);
    await client.disconnect();
  });

  it('disconnect() during connect rejects connect and leaves no connection', async () => {
    const { mock, client } = setup();
    mock.auto.delete('WSS_Connect');
    const connecting = client.connect();
    await mock.waitForRequests(2);
    await client.disconnect();
    await expect(connecting).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(client.state).toBe('disconnected');
  });
});
