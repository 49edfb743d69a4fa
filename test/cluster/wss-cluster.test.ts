/**
 * The WSS protocol across three nodes (each its own process) sharing a real redis-server:
 * everything a client sees on one node holds for peers on any node.
 */
import { describe, expect, it } from 'vitest';
import { privateIdOf, pushOf, randomToken, type RawClient } from '../server/helpers.js';
import { announced, useCluster } from './cluster-fixture.js';

const HANDSHAKE_TIMEOUT_MS = 1500;
const cluster = useCluster({ server: { handshakeTimeout: HANDSHAKE_TIMEOUT_MS } });

async function httpHandshake(node: number, userToken: string): Promise<any> {
  const res = await fetch(cluster.nodes[node]!.httpUrl, {
    method: 'POST',
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'WSS_Handshake', params: { user_token: userToken } }),
  });
  return res.json();
}

/** Messages pushed to `client` up to and including the first whose data is `marker`. */
async function messagesUntil(client: RawClient, marker: string): Promise<any[]> {
  const seen: any[] = [];
  for (;;) {
    const push = await pushOf(client);
    if (push.type !== 'broadcast' && push.type !== 'direct') continue;
    seen.push(push);
    if (push.data === marker) return seen;
  }
}

describe('handshakes across nodes', () => {
  it('a handshake over HTTP on one node connects over a socket on another', async () => {
    const userToken = randomToken();
    const hs = await httpHandshake(0, userToken);
    expect(hs.result).toMatchObject({ message: 'accept', maxconnections: 1000 });
    const client = await cluster.client(1);
    const res = await client.request('WSS_Connect', {
      user_token: userToken,
      server_token: hs.result.server_token,
      options: { wss: true },
    });
    expect(res.result).toMatchObject({ message: 'open', private_id: privateIdOf(hs.result.server_token, userToken) });
    // The same handshake cannot be bound twice, wherever the second socket is.
    const again = await (await cluster.client(2)).request('WSS_Connect', {
      user_token: userToken,
      server_token: hs.result.server_token,
      options: {},
    });
    expect(again.error).toEqual({ code: -32001, message: 'Socket session exists.' });
  });

  it('counts an IP’s handshakes on every node, and a user token is taken until its handshake expires', async () => {
    const first = await httpHandshake(0, randomToken());
    const second = await httpHandshake(1, randomToken());
    expect(second.result.numconnections).toBe(first.result.numconnections + 1);
    const token = randomToken();
    expect((await httpHandshake(2, token)).result.message).toBe('accept');
    expect((await httpHandshake(0, token)).error).toEqual({
      code: -32001,
      message: 'User token already exists for your IP.',
    });
    const started = Date.now();
    let answer = await httpHandshake(1, token);
    while (answer.error) {
      expect(Date.now() - started).toBeLessThan(HANDSHAKE_TIMEOUT_MS * 4);
      answer = await httpHandshake(1, token);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 200);
  });
});

describe('presence across nodes', () => {
  it('lists every peer of the cluster with its options and announces connect, change and disconnect in order', async () => {
    const a = await cluster.joined(0, { wss: true, name: 'a' });
    const b = await cluster.joined(1, { wss: true, name: 'b' });
    expect(await pushOf(a)).toEqual({ type: 'session', connect: b.privateId, options: { wss: true, name: 'b' } });
    const c = await cluster.client(2);
    const res = await c.join({ wss: true, name: 'c' });
    const listed = Object.fromEntries(res.result.connect.map((id: string, i: number) => [id, res.result.options[i]]));
    expect(listed[a.privateId]).toEqual({ wss: true, name: 'a' });
    expect(listed[b.privateId]).toEqual({ wss: true, name: 'b' });
    expect(await pushOf(a)).toMatchObject({ connect: c.privateId });
    expect(await pushOf(b)).toMatchObject({ connect: c.privateId });

    const renamed = `b-${randomToken()}`;
    const set = await b.request('WSS_Session', b.tokens({ action: 'setPID', privateID: renamed }));
    expect(set.result).toEqual({ privateID: renamed });
    await b.close();
    for (const peer of [a, c]) {
      expect(await pushOf(peer)).toEqual({
        type: 'session',
        change: { oldPrivateID: b.privateId, newPrivateID: renamed },
      });
      expect(await pushOf(peer)).toEqual({ type: 'session', disconnect: renamed });
    }
  });

  it('a private ID is unique in the cluster: setPID to an ID held on another node is refused, and of two at once one wins', async () => {
    const a = await cluster.joined(0);
    const b = await cluster.joined(1);
    const taken = await b.request('WSS_Session', b.tokens({ action: 'setPID', privateID: a.privateId }));
    expect(taken.error).toEqual({
      code: -32602,
      message: 'Parameter "privateID" is already in use by another session.',
    });

    const wanted = `race-${randomToken()}`;
    const c = await cluster.joined(2);
    const answers = await Promise.all(
      [a, b, c].map((client) => client.request('WSS_Session', client.tokens({ action: 'setPID', privateID: wanted }))),
    );
    expect(answers.filter((answer) => answer.result?.privateID === wanted)).toHaveLength(1);
    expect(answers.filter((answer) => answer.error?.code === -32602)).toHaveLength(2);

    // A handshake whose private ID another node's session took cannot connect.
    const userToken = randomToken();
    const hs = await httpHandshake(0, userToken);
    const derived = privateIdOf(hs.result.server_token, userToken);
    const d = await cluster.joined(1);
    expect((await d.request('WSS_Session', d.tokens({ action: 'setPID', privateID: derived }))).result).toBeDefined();
    const e = await cluster.client(2);
    const refused = await e.request('WSS_Connect', {
      user_token: userToken,
      server_token: hs.result.server_token,
      options: {},
    });
    expect(refused.error).toEqual({ code: -32001, message: "Socket session can't be established at this time." });
  });
});

describe('messages across nodes', () => {
  it('broadcasts with exclusions and direct messages to many reach each recipient once, in send order', async () => {
    const sender = await cluster.joined(0);
    const near = await cluster.joined(0);
    const far1 = await cluster.joined(1);
    const far2 = await cluster.joined(2);
    const excluded = await cluster.joined(1);
    const recipients = [near, far1, far2];
    await announced(sender, far1, far2);
    const expected: Array<{ type: string; data: string }> = [];
    const requests: any[] = [];
    for (let i = 0; i < 30; i++) {
      const params =
        i % 3 === 2
          ? { type: 'direct', to: { rcp: recipients.map((r) => r.privateId) }, data: `d${i}` }
          : { type: 'broadcast', exclude: { rcp: [excluded.privateId] }, data: `b${i}` };
      requests.push(params);
      expected.push({ type: params.type, data: params.data });
    }
    requests.push({ type: 'broadcast', data: 'end' });
    // Sent back to back without waiting (pipelined), then every answer read.
    requests.forEach((params, i) => {
      sender.sendRaw(
        JSON.stringify({ jsonrpc: '2.0', id: `s${i}`, method: 'WSS_Send', params: sender.tokens(params) }),
      );
    });
    for (let i = 0; i < requests.length; i++) {
      expect(await sender.until((m) => m.id === `s${i}`)).toMatchObject({ result: { message: 'ok' } });
    }
    for (const recipient of recipients) {
      const got = await messagesUntil(recipient, 'end');
      expect(got.map((m) => ({ type: m.type, data: m.data }))).toEqual([
        ...expected,
        { type: 'broadcast', data: 'end' },
      ]);
      expect(got.every((m) => m.from === sender.privateId)).toBe(true);
    }
    expect((await messagesUntil(excluded, 'end')).map((m) => m.data)).toEqual(['end']);
    // A broadcast never reaches its sender: nothing but the answers came back to it.
    await sender.barrier();
    const leftovers: any[] = [];
    while (sender.pending > 0) leftovers.push(JSON.parse(await sender.nextFrame()));
    expect(leftovers.filter((m) => m.result?.type === 'broadcast')).toEqual([]);
  });

  it('a direct message to an unknown private ID is dropped and the sender is told ok, as on one node', async () => {
    const a = await cluster.joined(0);
    const b = await cluster.joined(2);
    await announced(a, b);
    const sent = await a.request(
      'WSS_Send',
      a.tokens({ type: 'direct', to: { rcp: ['nobody', b.privateId] }, data: 1 }),
    );
    expect(sent.result).toEqual({ message: 'ok' });
    expect(await pushOf(b)).toMatchObject({ type: 'direct', data: 1, from: a.privateId });
  });
});

describe('operations', () => {
  it('/healthz reports the cluster link and /metrics counts cross-node traffic', async () => {
    const a = await cluster.joined(0);
    const b = await cluster.joined(1);
    await a.request('WSS_Send', a.tokens({ type: 'broadcast', data: 'counted' }));
    await b.until((m) => m.result?.data === 'counted');
    const res = await fetch(`${cluster.nodes[1]!.httpUrl}/healthz`);
    const health: any = await res.json();
    expect(res.status).toBe(200);
    expect(health.cluster).toEqual({
      status: 'up',
      node: expect.stringMatching(/^[0-9a-f]{16}$/),
      nodes: 3,
      sessions: expect.any(Number),
    });
    expect(health.cluster.sessions).toBeGreaterThan(health.sessions);
    const sent = await (await fetch(`${cluster.nodes[0]!.httpUrl}/metrics`)).text();
    const received = await (await fetch(`${cluster.nodes[1]!.httpUrl}/metrics`)).text();
    const value = (text: string, metric: string) => Number(new RegExp(`^${metric} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value(sent, 'wss_sessions_cluster_messages_sent_total\\{kind="broadcast"\\}')).toBeGreaterThan(0);
    expect(value(sent, 'wss_sessions_cluster_sent_bytes_total\\{kind="broadcast"\\}')).toBeGreaterThan(0);
    expect(value(received, 'wss_sessions_cluster_messages_received_total\\{kind="broadcast"\\}')).toBeGreaterThan(0);
    expect(value(received, 'wss_sessions_cluster_messages_received_total\\{kind="join"\\}')).toBeGreaterThan(0);
    expect(value(received, 'wss_sessions_cluster_link_up')).toBe(1);
    expect(value(received, 'wss_sessions_cluster_nodes')).toBe(3);
  });
});
