/**
 * Faults of a three-node cluster on a real redis-server: Redis restarted under live sessions, and
 * a node killed with SIGKILL. The order matters: the Redis restart runs with all three nodes, the
 * node is killed last.
 */
import { createClient } from '@redis/client';
import { describe, expect, it, vi } from 'vitest';
import { pushOf, RawClient } from '../server/helpers.js';
import { announced, useCluster } from './cluster-fixture.js';

/** The default node heartbeat (ms); peers must hear of a dead node within twice that. */
const HEARTBEAT_MS = 2000;
const cluster = useCluster();

async function health(node: number): Promise<{ status: number; body: any }> {
  const res = await fetch(`${cluster.nodes[node]!.httpUrl}/healthz`);
  return { status: res.status, body: await res.json() };
}

/** Polls `/healthz` of `node` (every 50 ms) until its cluster status is `status`. */
async function clusterStatus(node: number, status: string, timeoutMs: number): Promise<void> {
  await vi.waitFor(async () => expect((await health(node)).body.cluster).toMatchObject({ status }), {
    timeout: timeoutMs,
    interval: 50,
  });
}

/** Every frame queued on `client` after a round trip through its node. */
async function drained(client: RawClient): Promise<any[]> {
  await client.barrier();
  const frames: any[] = [];
  while (client.pending > 0) frames.push(JSON.parse(await client.nextFrame()));
  return frames;
}

describe('Redis restarted under live sessions', () => {
  it('keeps every socket, delivers on each node meanwhile, answers -32006 across nodes, and recovers within 10 s', async () => {
    const a = await cluster.joined(0, { name: 'a' });
    const near = await cluster.joined(0, { name: 'near' });
    const leaver = await cluster.joined(0, { name: 'leaver' });
    const far = await cluster.joined(1, { name: 'far' });
    await Promise.all([announced(a, far), announced(near, far)]);
    await Promise.all([a, near, far].map((client) => drained(client)));
    expect((await health(0)).body.cluster).toMatchObject({ status: 'up' });

    await cluster.redis.stop();
    await Promise.all([0, 1, 2].map((node) => clusterStatus(node, 'down', 5000)));
    expect((await health(0)).status).toBe(503);

    // On one node everything still works; what needs another node answers -32006.
    const unavailable = { code: -32006, message: expect.stringMatching(/cluster is unavailable/i) };
    const broadcast = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'while down' }));
    expect(broadcast.error).toMatchObject(unavailable);
    expect(await pushOf(near)).toMatchObject({ type: 'broadcast', data: 'while down', from: a.privateId });
    const local = await a.request('WSS_Send', a.tokens({ type: 'direct', to: { rcp: [near.privateId] }, data: 'd' }));
    expect(local.result).toEqual({ message: 'ok' });
    expect(await pushOf(near)).toMatchObject({ type: 'direct', data: 'd' });
    const remote = await a.request('WSS_Send', a.tokens({ type: 'direct', to: { rcp: [far.privateId] }, data: 'd' }));
    expect(remote.error).toMatchObject(unavailable);
    const handshake = await (await cluster.client(2)).request('WSS_Handshake', { user_token: 'during-outage' });
    expect(handshake.error).toMatchObject(unavailable);
    const getPid = await far.request('WSS_Session', far.tokens({ action: 'getPID' }));
    expect(getPid.result).toEqual({ privateID: far.privateId });
    // A session that ends meanwhile is announced on its node now, elsewhere once Redis is back.
    await leaver.close();
    expect(await pushOf(near)).toEqual({ type: 'session', disconnect: leaver.privateId });

    const restarted = Date.now();
    await cluster.redis.restart();
    await Promise.all([0, 1, 2].map((node) => clusterStatus(node, 'up', 10_000)));
    expect(Date.now() - restarted).toBeLessThan(10_000);

    expect(await pushOf(far)).toEqual({ type: 'session', disconnect: leaver.privateId });
    const after = await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'after' }));
    expect(after.result).toEqual({ message: 'ok' });
    expect(await pushOf(far)).toMatchObject({ type: 'broadcast', data: 'after', from: a.privateId });
    // The sessions registered again: a newcomer sees them, and no survivor saw another leave or join.
    const newcomer = await cluster.client(2);
    const joined = await newcomer.join();
    expect(joined.result.connect).toEqual(expect.arrayContaining([a.privateId, near.privateId, far.privateId]));
    expect(joined.result.connect).not.toContain(leaver.privateId);
    const churn = (await drained(far)).filter(
      (m) => m.result?.type === 'session' && m.result.connect !== newcomer.privateId,
    );
    expect(churn).toEqual([]);
    for (const client of [a, near, far]) expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});

describe('Redis losing its data under live links', () => {
  it('nodes register their sessions again; a session whose private ID another node took meanwhile is closed with 1012', async () => {
    const a = await cluster.joined(0);
    const b = await cluster.joined(1);
    const c = await cluster.joined(2);
    await announced(b, c);
    await Promise.all([a, b, c].map((client) => drained(client)));
    const redis = createClient({ url: cluster.redis.url });
    await redis.connect();
    try {
      // As after a failover to an empty replica: the links stay up, the data is gone, and a session
      // of a node nobody knows claims a's private ID.
      await redis.flushAll();
      await redis.hSet('wss:sessions', a.privateId, JSON.stringify(['intruder', 'IPv4:192.0.2.1\nx', '{}']));
    } finally {
      redis.destroy();
    }
    expect((await a.closed).code).toBe(1012);
    // The others stay, and still reach each other across nodes.
    const sent = await b.request(
      'WSS_Send',
      b.tokens({ type: 'direct', to: { rcp: [c.privateId] }, data: 'still here' }),
    );
    expect(sent.result).toEqual({ message: 'ok' });
    expect(await c.until((m) => m.result?.data === 'still here')).toMatchObject({ result: { from: b.privateId } });
    const newcomer = await cluster.client(0);
    const joined = await newcomer.join();
    expect(joined.result.connect).toEqual(expect.arrayContaining([b.privateId, c.privateId]));
  });
});

describe('a node drained with SIGTERM', () => {
  it('its clients get 1001 "going away", and peers on other nodes get disconnect for its sessions', async () => {
    const extra = await cluster.addNode();
    const leaving = await RawClient.open(extra.url);
    await leaving.join();
    const watcher = await cluster.joined(0);
    await drained(watcher);
    const stopped = extra.stop();
    expect((await leaving.closed).code).toBe(1001);
    expect(await pushOf(watcher)).toEqual({ type: 'session', disconnect: leaving.privateId });
    expect((await stopped).code).toBe(0);
  });
});

describe('a node killed with SIGKILL', () => {
  it('its sessions leave the cluster, and peers on other nodes hear it within 2 × the heartbeat', async () => {
    const watcher = await cluster.joined(0);
    const other = await cluster.joined(1);
    const victims = [await cluster.joined(2), await cluster.joined(2)];
    await drained(watcher);
    await drained(other);
    const killed = Date.now();
    await cluster.nodes[2]!.kill();
    const victimIds = new Set(victims.map((v) => v.privateId));
    for (const peer of [watcher, other]) {
      // Every session of node 2 leaves (earlier tests' ones too); wait for the two made here.
      const gone = new Set<string>();
      while ([...victimIds].some((id) => !gone.has(id))) {
        const push = await pushOf(peer);
        expect(push.type).toBe('session');
        if (push.disconnect) gone.add(push.disconnect);
      }
    }
    expect(Date.now() - killed).toBeLessThanOrEqual(2 * HEARTBEAT_MS);
    const newcomer = await cluster.client(1);
    const joined = await newcomer.join();
    for (const victim of victims) expect(joined.result.connect).not.toContain(victim.privateId);
    expect((await health(0)).body.cluster).toMatchObject({ status: 'up', nodes: 2 });
  });
});
