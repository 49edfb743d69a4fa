/**
 * Three nodes started with the `wss-sessions serve --redis … --trust-proxy …` CLI behind a real
 * HAProxy using examples/cluster/haproxy.cfg (round robin, not sticky): handshakes and sockets
 * land on different nodes, and clients still see one server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Haproxy, RedisServer, ServerNode } from '../../scripts/cluster/processes.mjs';
import { privateIdOf, RawClient } from '../server/helpers.js';

let redis: RedisServer;
let proxy: Haproxy;
const nodes: ServerNode[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  for (let i = 0; i < 3; i++) {
    const args = ['--redis', redis.url, '--trust-proxy', '127.0.0.1', '--no-demo', '--max-connections-per-ip', '4'];
    nodes.push(await ServerNode.cli(args, { name: `node${i}` }));
  }
  proxy = await Haproxy.start(nodes);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await proxy?.stop();
  await Promise.all(nodes.map((node) => node.stop()));
  await redis?.close();
});

async function open(): Promise<RawClient> {
  const client = await RawClient.open(proxy.url);
  clients.push(client);
  return client;
}

/** Handshakes each node accepted, from its /metrics. */
async function handshakesPerNode(): Promise<number[]> {
  return Promise.all(
    nodes.map(async (node) => {
      const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
      return Number(/^wss_sessions_handshakes_total (\d+)$/m.exec(text)?.[1]);
    }),
  );
}

/** The index of the one entry that grew from `before` to `after`. */
function grown(before: number[], after: number[]): number {
  const changed = after.flatMap((value, i) => (value !== before[i] ? [i] : []));
  expect(changed).toHaveLength(1);
  return changed[0]!;
}

/** Sessions each node holds, from its /healthz. */
async function sessionsPerNode(): Promise<number[]> {
  return Promise.all(
    nodes.map(async (node) => ((await (await fetch(`${node.httpUrl}/healthz`)).json()) as any).sessions as number),
  );
}

describe('a cluster behind HAProxy', () => {
  it('spreads sockets round robin, and peers on different nodes talk as on one server', async () => {
    const [a, b, c] = [await open(), await open(), await open()];
    for (const client of [a, b, c]) await client.join();
    expect(await sessionsPerNode()).toEqual([1, 1, 1]);
    expect((await c.request('WSS_Session', c.tokens({ action: 'getPID' }))).result.privateID).toBe(c.privateId);
    const sent = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'through the proxy' }));
    expect(sent.result).toEqual({ message: 'ok' });
    for (const peer of [b, c]) {
      const push = await peer.until((m) => m.result?.type === 'broadcast');
      expect(push.result).toEqual({ type: 'broadcast', from: a.privateId, data: 'through the proxy' });
    }
  });

  it('an HTTP handshake and the socket that connects it land on different nodes', async () => {
    const userToken = `http-${Date.now()}`;
    const post = (token: string) =>
      fetch(proxy.httpUrl, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'WSS_Handshake', params: { user_token: token } }),
      }).then((res) => res.json() as Promise<any>);
    const handshakes = await handshakesPerNode();
    const hs = await post(userToken);
    const handshakeNode = grown(handshakes, await handshakesPerNode());
    const sessions = await sessionsPerNode();
    // Round robin: the socket goes to the node after the one that took the handshake.
    const client = await open();
    const res = await client.request('WSS_Connect', {
      user_token: userToken,
      server_token: hs.result.server_token,
      options: {},
    });
    expect(res.result).toMatchObject({ message: 'open', private_id: privateIdOf(hs.result.server_token, userToken) });
    expect(grown(sessions, await sessionsPerNode())).not.toBe(handshakeNode);
  });

  it('ties handshakes to the client’s address from X-Forwarded-For, so the per-IP limit counts clients, not the proxy', async () => {
    const post = (token: string, ip: string) =>
      fetch(proxy.httpUrl, {
        method: 'POST',
        headers: { 'X-Forwarded-For': ip },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'WSS_Handshake', params: { user_token: token } }),
      }).then((res) => res.json() as Promise<any>);
    // HAProxy appends the address it saw after the one the client wrote. Here that address is the
    // test's own, 127.0.0.1, which the nodes trust as a proxy: the chain reads as a client behind two
    // proxies, and the entry before them is the client.
    for (let i = 0; i < 4; i++) expect((await post(`x${i}`, '203.0.113.7')).result.numconnections).toBe(i + 1);
    expect((await post('x4', '203.0.113.7')).error).toMatchObject({
      code: -32001,
      message: 'Too many connections from your IP.',
    });
    expect((await post('x0', '203.0.113.8')).result.numconnections).toBe(1);
  });
});
