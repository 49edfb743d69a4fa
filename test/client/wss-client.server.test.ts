import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConnectionClosedError,
  RpcError,
  WSSClient,
  type WSSClientEvents,
  type WSSClientOptions,
} from '../../src/index.js';
import { createServer, type ServerOptions, type WssSessionsServer } from '../../src/server/index.js';
import { eventsOf } from '../helpers/events.js';

const { next: nextEvent, collect } = eventsOf<WSSClientEvents>();

let server: WssSessionsServer;
const clients: WSSClient[] = [];

async function start(options: ServerOptions = {}): Promise<void> {
  await server?.close();
  server = await createServer({ port: 0, host: '127.0.0.1', ...options });
}

function client(options: Partial<WSSClientOptions> = {}): WSSClient {
  const c = new WSSClient({ url: server.url, ...options });
  clients.push(c);
  return c;
}

beforeEach(() => start());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.disconnect()));
  await server.close();
});

describe('WSSClient against the reference server', () => {
  it('connects over HTTP and over the socket; private IDs are SHA-256(server_token:user_token)', async () => {
    const viaHttp = client({ handshakeUrl: server.httpUrl });
    const viaSocket = client();
    const a = await viaHttp.connect();
    const b = await viaSocket.connect();
    expect(a.peers).toEqual([]);
    expect(b.peers).toEqual([a.privateId]);
    expect(viaHttp.privateIdVerified).toBe(true);
    expect(viaSocket.privateIdVerified).toBe(true);
    expect(viaSocket.serverToken).toMatch(/^[0-9a-f]{64}$/);
    expect(await viaSocket.getPrivateId()).toBe(b.privateId);
  });

  it('three peers: connect options relayed, broadcast with exclusion, direct, rename, leave', async () => {
    const [a, b, c] = [
      client({ connectOptions: { name: 'a' } }),
      client({ connectOptions: { name: 'b' } }),
      client({ connectOptions: { name: 'c', webrtc: true } }),
    ];
    const ia = await a.connect();
    const ib = await b.connect();
    const aSeesC = nextEvent(a, 'peerconnect', (e) => e.options.name === 'c');
    const ic = await c.connect();
    expect(await aSeesC).toMatchObject({
      privateId: ic.privateId,
      options: { name: 'c', webrtc: true, wss: true, ortc: false },
    });
    expect(c.peers.get(ia.privateId)).toEqual({ wss: true, webrtc: false, ortc: false, name: 'a' });
    expect([...c.peers.keys()]).toEqual([ia.privateId, ib.privateId]);

    const aMessages = collect(a, 'message');
    const cMessages = collect(c, 'message');
    const cGotOne = nextEvent(c, 'message');
    const aGotOne = nextEvent(a, 'message');
    await b.broadcast({ n: 1 }, { exclude: [ic.privateId] });
    await b.send(ic.privateId, { n: 2 });
    await Promise.all([cGotOne, aGotOne]);
    // Same sender, same server: order holds, so c's only message is the direct one.
    expect(cMessages.map((m) => [m.type, m.data])).toEqual([['direct', { n: 2 }]]);
    expect(aMessages.map((m) => [m.type, m.from, m.data])).toEqual([['broadcast', ib.privateId, { n: 1 }]]);

    const seen = [nextEvent(a, 'peerpid'), nextEvent(c, 'peerpid')];
    const own = nextEvent(b, 'privateid');
    await b.setPrivateId('bee');
    expect(await own).toEqual({ privateId: 'bee' });
    expect(b.privateId).toBe('bee');
    for (const e of await Promise.all(seen))
      expect(e).toMatchObject({ oldPrivateId: ib.privateId, newPrivateId: 'bee' });
    expect(a.peers.get('bee')).toMatchObject({ name: 'b' });
    const fromBee = nextEvent(a, 'message');
    await b.send([ia.privateId, ic.privateId], 'renamed');
    expect((await fromBee).from).toBe('bee');

    const left = [nextEvent(a, 'peerdisconnect'), nextEvent(b, 'peerdisconnect')];
    await c.disconnect();
    for (const e of await Promise.all(left)) expect(e).toMatchObject({ privateId: ic.privateId });
    expect([...a.peers.keys()]).toEqual(['bee']);
  });

  it('maps server errors to RpcError with the protocol codes', async () => {
    const a = client();
    await a.connect();
    const b = client();
    await b.connect();
    const taken = await b.setPrivateId(a.privateId as string).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(RpcError);
    expect((taken as RpcError).rpcCode).toBe(-32602);
    const unknown = await a.request('WSS_Nope', {}).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ rpcCode: -32601, method: 'WSS_Nope' });
    const badSend = await a
      .request('WSS_Send', { user_token: a.userToken, server_token: a.serverToken, type: 'carrier-pigeon' })
      .catch((e: unknown) => e);
    expect(badSend).toMatchObject({ rpcCode: -32602 });
    const wrongTokens = await a
      .request('WSS_Session', { user_token: 'x', server_token: 'y', action: 'getPID' })
      .catch((e: unknown) => e);
    expect(wrongTokens).toBeInstanceOf(RpcError);
  });

  it('rejects a second handshake with the same user token from the same IP', async () => {
    const a = client({ userToken: 'same-token' });
    await a.connect();
    const b = client({ userToken: 'same-token' });
    const error = await b.connect().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_RPC', rpcCode: -32001, method: 'WSS_Handshake' });
    expect(b.state).toBe('disconnected');
  });

  it('enforces the per-IP limit and reports its data', async () => {
    await start({ maxConnectionsPerIp: 2 });
    await client().connect();
    await client().connect();
    const error = await client()
      .connect()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ rpcCode: -32001, data: { numconnections: 2, maxconnections: 2 } });
  });

  it('in HTTP-only handshake mode, a socket handshake fails with -32002 and HTTP works', async () => {
    await start({ httpOnlyHandshake: true });
    await expect(client().connect()).rejects.toMatchObject({ rpcCode: -32002 });
    const viaHttp = client({ handshakeUrl: server.httpUrl });
    await expect(viaHttp.connect()).resolves.toMatchObject({ peers: [] });
  });

  it('when the server drops the socket, pending requests reject and close is reported', async () => {
    const a = client();
    await a.connect();
    const closed = nextEvent(a, 'close');
    server.dropConnections(4000);
    expect(await closed).toMatchObject({ code: 4000, requested: false });
    await expect(a.getPrivateId()).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
    // The client can connect again afresh.
    await expect(a.connect()).resolves.toMatchObject({ privateId: expect.any(String) });
  });

  it('pending requests reject with ConnectionClosedError when the socket dies under them', async () => {
    await start({ hooks: { outgoing: (frame) => (frame.includes('"privateID"') ? null : frame) } });
    const a = client();
    await a.connect();
    const pending = a.getPrivateId();
    // The response is dropped by the hook; cutting the socket must settle the request.
    server.dropConnections();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it('leaves no timers or sockets behind after disconnect', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    for (let i = 0; i < 5; i++) {
      const a = new WSSClient({ url: server.url, requestTimeout: 60_000 });
      await a.connect();
      await a.getPrivateId();
      await a.disconnect();
      expect(a.listenerCount('message')).toBe(0);
    }
    await server.close();
    await start();
    const after = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
    expect(after).toBeLessThanOrEqual(before);
  });
});
