/**
 * Drives the 0.4.1 drop-in the way real pages did: a router object registers every listener with
 * itself as context, branches on toString(), reads event.data.result.* and JSON.parse(result.data).
 * Three peers against the reference server, handshaking over the socket and over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WSSClient } from '../../legacy-compat/index.js';
import type { LegacyEventMap } from '../../legacy-compat/index.js';
import { createServer, type WssSessionsServer } from '../../src/server/index.js';
import { silentLogger } from '../../src/util/logger.js';

type EventType = keyof LegacyEventMap;
const contextFailures: string[] = [];
const listenerErrors: unknown[] = [];
const logger = { ...silentLogger, error: (...args: unknown[]) => void listenerErrors.push(args) };
const EVENT_TYPES: EventType[] = [
  'peerconnect',
  'peerdisconnect',
  'message',
  'update',
  'privateid',
  'peerpid',
  'close',
];

/** A page-level router in the old style; every listener checks `this`. */
class Router {
  readonly client: WSSClient;
  readonly inbox: Array<{ type: string; event: Event }> = [];
  readonly wrongThis: string[] = [];
  #waiters: Array<{ match: (type: string, event: any) => boolean; resolve: (event: any) => void }> = [];

  constructor(
    readonly name: string,
    handshakeAddress: string | null,
  ) {
    this.client = new WSSClient(handshakeAddress, { logger });
    for (const type of EVENT_TYPES) this.client.addEventListener(type, this.onEvent, this);
    this.client.addEventListener('message', this.onMessage, this);
  }

  onEvent(this: Router, event: Event): void {
    if (!(this instanceof Router)) {
      // A listener called without its context lands here with `this` undefined.
      contextFailures.push(event.type);
      return;
    }
    const target = event.target as { toString(): string } | null;
    if (target?.toString() !== 'WSSClient' || target !== this.client)
      this.wrongThis.push(`${this.name}:${event.type}:target`);
    this.inbox.push({ type: event.type, event });
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(event.type, event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  onMessage(this: Router, event: any): void {
    if (this !== routers.find((r) => r.client === event.target)) this.wrongThis.push(`${this.name}:message:this`);
  }

  /** The first event (already received or future) of `type` that matches. */
  next(type: EventType, match: (event: any) => boolean = () => true): Promise<any> {
    const seen = this.inbox.find((e) => e.type === type && match(e.event));
    if (seen) {
      this.inbox.splice(this.inbox.indexOf(seen), 1);
      return Promise.resolve(seen.event);
    }
    return new Promise((resolve) =>
      this.#waiters.push({
        match: (t, e) => t === type && match(e),
        resolve: (e) => {
          this.inbox.splice(
            this.inbox.findIndex((x) => x.event === e),
            1,
          );
          resolve(e);
        },
      }),
    );
  }

  count(type: EventType): number {
    return this.inbox.filter((e) => e.type === type).length;
  }
}

let server: WssSessionsServer | null = null;
let routers: Router[] = [];

afterEach(async () => {
  for (const r of routers) await r.client.destroy();
  routers = [];
  await server?.close();
  server = null;
});

const modes = [
  { mode: 'socket handshake', http: false },
  { mode: 'HTTP handshake', http: true },
];

describe.each(modes)('legacy WSSClient router, three peers, $mode', ({ http }) => {
  async function join(name: string): Promise<{ router: Router; result: any }> {
    const s = server as WssSessionsServer;
    // Old pages either passed the socket address to connect() only, or an HTTP handshake address to the constructor.
    const router = new Router(name, http ? s.httpUrl : null);
    routers.push(router);
    const response = await router.client.connect(s.url, http, {
      options: { wss: true, webrtc: false, ortc: false, name },
    });
    return { router, result: JSON.parse(response.data) };
  }

  it('connects, keeps the peer list, relays broadcasts and direct messages, renames and disconnects', async () => {
    server = await createServer({ port: 0, host: '127.0.0.1' });
    const { router: a, result: aResult } = await join('A');
    expect(a.client.toString()).toBe('WSSClient');
    expect(String(a.client)).toBe('WSSClient');
    expect(aResult).toMatchObject({
      jsonrpc: '2.0',
      result: { message: 'open', private_id: a.client.privateID, connect: [], options: [] },
    });
    const A = a.client.privateID as string;
    expect(A).toMatch(/^[0-9a-f]{64}$/);
    expect(a.client.userToken).toMatch(/^[0-9a-f]{32}$/);
    expect(await a.client.SHA256(`${a.client.serverToken}:${a.client.userToken}`)).toBe(A);
    expect(a.client.webSocket?.readyState).toBe(1);
    expect(a.client.handshakeServerAddr).toBe(http ? server.httpUrl : server.url);
    expect(a.client.socketServerAddr).toBe(server.url);

    const aSeesB = a.next('peerconnect');
    const { router: b, result: bResult } = await join('B');
    const B = b.client.privateID as string;
    expect(bResult.result.connect).toEqual([A]);
    expect(bResult.result.options).toEqual([{ wss: true, webrtc: false, ortc: false, name: 'A' }]);
    expect((await aSeesB).data.result).toEqual({
      type: 'session',
      connect: B,
      options: { wss: true, webrtc: false, ortc: false, name: 'B' },
    });

    const aSeesC = a.next('peerconnect');
    const bSeesC = b.next('peerconnect');
    const { router: c, result: cResult } = await join('C');
    const C = c.client.privateID as string;
    expect(cResult.result.connect).toEqual([A, B]);
    expect((await aSeesC).data.result.connect).toBe(C);
    expect((await bSeesC).data.result.connect).toBe(C);
    expect(a.client.peers).toEqual([B, C]);
    expect(c.client.peers).toEqual([A, B]);
    expect(a.client.peerOptions[C]).toEqual({ wss: true, webrtc: false, ortc: false, name: 'C' });

    // Broadcast excluding C, then a direct message to C: C's first message must be the direct one.
    const bGetsBroadcast = b.next('message');
    const cGetsDirect = c.next('message');
    const broadcastResult = await a.client.broadcast({ text: 'hi all' }, [C]);
    expect(JSON.parse(broadcastResult.data)).toMatchObject({ jsonrpc: '2.0', result: { message: 'ok' } });
    const sendResult = await a.client.send('just you', [C]);
    expect(JSON.parse(sendResult.data).result).toEqual({ message: 'ok' });
    const broadcast = await bGetsBroadcast;
    expect(broadcast.data).toEqual({
      jsonrpc: '2.0',
      result: { type: 'broadcast', from: A, data: { text: 'hi all' } },
    });
    const direct = await cGetsDirect;
    expect(direct.data.result.type).toBe('direct');
    expect(direct.data.result.from).toBe(A);
    expect(direct.data.result.data).toBe('just you');

    // B renames itself; A and C follow through peerpid.
    const aSeesRename = a.next('peerpid');
    const cSeesRename = c.next('peerpid');
    const bOwnEvent = b.next('privateid');
    await expect(b.client.changePrivateID('b-renamed')).resolves.toBe(true);
    expect((await bOwnEvent).privateID).toBe('b-renamed');
    expect(b.client.privateID).toBe('b-renamed');
    const rename = await aSeesRename;
    expect(rename.oldPrivateID).toBe(B);
    expect(rename.newPrivateID).toBe('b-renamed');
    expect(rename.data.result.change).toEqual({ oldPrivateID: B, newPrivateID: 'b-renamed' });
    expect((await cSeesRename).newPrivateID).toBe('b-renamed');
    expect(a.client.peers).toEqual([C, 'b-renamed']);
    expect(a.client.peerOptions['b-renamed']?.name).toBe('B');

    // A direct message with the {rcp} form, to the new ID.
    const bGetsDirect = b.next('message');
    await c.client.send({ n: 1 }, { rcp: ['b-renamed'] });
    expect((await bGetsDirect).data.result).toEqual({ type: 'direct', from: C, data: { n: 1 } });

    // A server-originated update.
    const update = a.next('update');
    expect(server.sendRaw(A, JSON.stringify({ jsonrpc: '2.0', result: { type: 'update', data: 'maintenance' } }))).toBe(
      true,
    );
    expect((await update).data.result.data).toBe('maintenance');

    // Raw requests resolve with the response, including server error responses.
    const getPid = await a.client.request(
      {
        jsonrpc: '2.0',
        method: 'WSS_Session',
        params: { user_token: a.client.userToken, server_token: a.client.serverToken, action: 'getPID' },
        id: 'mine-1',
      },
      'mine-1',
    );
    expect(JSON.parse(getPid.data)).toEqual({ jsonrpc: '2.0', id: 'mine-1', result: { privateID: A } });
    const refused = await a.client.request({ method: 'WSS_Session', params: { action: 'nonsense' }, id: 'mine-2' });
    expect(JSON.parse(refused.data)).toMatchObject({ jsonrpc: '2.0', id: 'mine-2', error: { code: -32602 } });

    // C leaves: A and B see peerdisconnect; C itself gets no close event (as before).
    const aSeesLeave = a.next('peerdisconnect');
    const bSeesLeave = b.next('peerdisconnect');
    await expect(c.client.disconnect()).resolves.toBe(true);
    expect(c.client.webSocket).toBeNull();
    expect((await aSeesLeave).data.result.disconnect).toBe(C);
    expect((await bSeesLeave).data.result.disconnect).toBe(C);
    expect(a.client.peers).toEqual(['b-renamed']);
    expect(a.client.peerOptions).toEqual({ 'b-renamed': { wss: true, webrtc: false, ortc: false, name: 'B' } });
    expect(c.count('close')).toBe(0);

    // The server goes away: the remaining routers get close events and empty peer lists.
    const aClosed = a.next('close');
    const bClosed = b.next('close');
    await server.close();
    expect((await aClosed).code).toBe(1001);
    expect((await bClosed).code).toBe(1001);
    expect(a.client.peers).toEqual([]);

    for (const r of routers) expect(r.wrongThis).toEqual([]);
    expect(contextFailures).toEqual([]);
    expect(listenerErrors).toEqual([]);
    expect(a.count('message') + a.count('peerpid')).toBe(0);
  });
});

describe('legacy WSSClient against the reference server: errors', () => {
  it('rejects a refused handshake with the server error and can connect again after destroy()', async () => {
    server = await createServer({ port: 0, host: '127.0.0.1', httpOnlyHandshake: true });
    const router = new Router('X', null);
    routers.push(router);
    await expect(router.client.connect(server.url)).rejects.toMatchObject({ code: 'ERR_RPC', rpcCode: -32002 });
    await router.client.destroy();
    expect(router.client.webSocket).toBeNull();
    expect(server.sessions).toEqual([]);
    // The same instance, the documented way: HTTP handshake to the same server.
    const response = await router.client.connect(server.url, true);
    expect(JSON.parse(response.data).result.private_id).toBe(router.client.privateID);
    expect(server.sessions).toEqual([router.client.privateID]);
  });
});
