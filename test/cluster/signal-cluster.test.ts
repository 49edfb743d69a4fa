/**
 * The Signal endpoint across a cluster: one node in this process (for `server.signal`) and two in
 * processes of their own, sharing a real redis-server. Rooms, joins, leaves and room events
 * reach members on every node, each encrypted under its own connection's key.
 */
import { createClient } from '@redis/client';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import type { WssSessionsServer } from '../../src/server/index.js';
import { EncryptedWebSocketClient } from '../../src/signal/index.js';
import { ECDH_INFO, makeToken, nextEvent, recordingLogger, SECRET } from '../signal/helpers.js';
import { useCluster } from './cluster-fixture.js';

const cluster = useCluster({ nodes: 2, server: { signal: { ecdhInfo: ECDH_INFO, jwtSecret: SECRET } } });
const clients: EncryptedWebSocketClient[] = [];

afterAll(() => {
  for (const client of clients) client.destroy();
});

async function connect(url: string, user: string, rooms: string[]): Promise<EncryptedWebSocketClient> {
  const client = new EncryptedWebSocketClient({
    url: `${url}/stream`,
    ecdhInfo: ECDH_INFO,
    token: await makeToken(user),
    autoJoinRooms: rooms,
    WebSocket,
    logger: recordingLogger(),
  });
  clients.push(client);
  await client.connect();
  await barrier(client);
  return client;
}

/** An echo round trip: every frame the client sent before it has been handled by its node. */
async function barrier(client: EncryptedWebSocketClient): Promise<void> {
  const echoed = nextEvent(client, 'echo');
  await client.send('echo', 'barrier');
  await echoed;
}

/** Waits until Redis counts `members` in `room` on every node together (room counts are recorded as joins happen). */
async function roomHas(room: string, members: number): Promise<void> {
  const redis = createClient({ url: cluster.redis.url });
  await redis.connect();
  try {
    const deadline = Date.now() + 5000;
    for (;;) {
      const counts = Object.values(await redis.hGetAll(`wss:room:${room}`)).map(Number);
      if (counts.reduce((x, y) => x + y, 0) === members) return;
      if (Date.now() > deadline) throw new Error(`room ${room} never had ${members} members: ${counts}`);
      await delay(20);
    }
  } finally {
    redis.destroy();
  }
}

describe('Signal rooms across nodes', () => {
  it('joins, leaves and room events reach members on every node, never the sender', async () => {
    const local: WssSessionsServer = await cluster.inProcess();
    const [n1, n2] = cluster.nodes;
    const a = await connect(local.url, 'ann', ['lobby']);
    const b = await connect(n1!.url, 'bob', ['lobby']);
    const c = await connect(n2!.url, 'cat', []);
    // A member on c's node: once it has 'hi', that node has handled the publish, so c's later join cannot catch it.
    const d = await connect(n2!.url, 'dee', ['lobby']);
    const got = { a: [] as unknown[], c: [] as unknown[] };
    a.on('chat', (data) => got.a.push(data));
    c.on('chat', (data) => got.c.push(data));

    const [toB, toD] = [nextEvent(b, 'chat'), nextEvent(d, 'chat')];
    await a.send('publish', { room: 'lobby', event: 'chat', data: { text: 'hi' } });
    expect([await toB, await toD]).toEqual([{ text: 'hi' }, { text: 'hi' }]);

    c.joinRooms(['lobby']);
    await barrier(c);
    const [bAgain, cFirst] = [nextEvent(b, 'chat'), nextEvent(c, 'chat')];
    await a.send('publish', { room: 'lobby', event: 'chat', data: 2 });
    expect([await bAgain, await cFirst]).toEqual([2, 2]);

    // A member on another node publishes: the member in this process gets it too.
    const toA = nextEvent(a, 'chat');
    await b.send('publish', { room: 'lobby', event: 'chat', data: 'from bob' });
    expect(await toA).toBe('from bob');

    b.leaveRooms(['lobby']);
    await barrier(b);
    await roomHas('lobby', 3);
    const notice = [nextEvent(a, 'notice'), nextEvent(c, 'notice'), nextEvent(d, 'notice')];
    expect(await local.signal!.publish('lobby', 'notice', 'from the server')).toBe(3);
    expect(await Promise.all(notice)).toEqual(['from the server', 'from the server', 'from the server']);
    await Promise.all([barrier(a), barrier(c)]);
    expect(got.a).toEqual(['from bob']);
    expect(got.c).toEqual([2, 'from bob']);
  });

  it('a member’s room count leaves with its socket', async () => {
    const [n1] = cluster.nodes;
    const d = await connect(n1!.url, 'dan', ['quiet']);
    await roomHas('quiet', 1);
    d.destroy();
    await roomHas('quiet', 0);
  });
});
