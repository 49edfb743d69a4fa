/**
 * The cluster's Redis scripts against a real redis-server: each step is atomic, answers what the
 * protocol needs, and publishes its presence event with the next `seq`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterUnavailableError } from '../../src/errors.js';
import { decodeBusMessage, type BusMessage } from '../../src/server/cluster/bus.js';
import { RedisLink } from '../../src/server/cluster/link.js';
import { resolveClusterOptions } from '../../src/server/cluster/options.js';
import { ClusterStore, handshakeMember } from '../../src/server/cluster/store.js';
import { silentLogger } from '../../src/util/logger.js';
import { type ChannelTap, useRedis } from './redis-fixture.js';

/** How long and how often a test polls Redis for a state it waits on. */
const UNTIL = { timeout: 10_000, interval: 20 };

const redis = useRedis();
const links: RedisLink[] = [];
let bus: ChannelTap;
let prefix = '';
let runs = 0;

const noEvents = { message: () => {}, up: () => {}, down: () => {}, refused: () => {} };

async function store(node: string): Promise<ClusterStore> {
  const options = resolveClusterOptions({ redis: redis.url, prefix });
  const link = await RedisLink.open(options, [], noEvents, silentLogger);
  links.push(link);
  return new ClusterStore(link, prefix, node);
}

/** The next message on the bus that is not a heartbeat, decoded. */
async function nextEvent(): Promise<BusMessage> {
  for (;;) {
    const decoded = decodeBusMessage((await bus.next()).text);
    if (!decoded.ok) throw new Error(decoded.reason);
    if (decoded.message.kind !== 'beat') return decoded.message;
  }
}

const member = (token: string) => handshakeMember('IPv4:10.0.0.1', token);

beforeAll(() => {
  expect(redis.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
});

beforeEach(async () => {
  // A fresh prefix per test: a cluster of its own in the same Redis.
  prefix = `t${++runs}:`;
  bus = await redis.tap([`${prefix}bus`]);
});

afterAll(async () => {
  await Promise.all(links.map((link) => link.close()));
});

describe('handshakes', () => {
  it('records one per IP and user token, counts them per IP and in total, and refuses past the limit', async () => {
    const a = await store('a');
    expect(await a.openHandshake(member('u1'), 'st1', 0, 2)).toEqual({ ok: true, perIp: 1, total: 1 });
    expect(await a.openHandshake(member('u1'), 'st9', 0, 2)).toEqual({ ok: false, reason: 'exists' });
    expect(await a.openHandshake(member('u2'), 'st2', 0, 2)).toEqual({ ok: true, perIp: 2, total: 2 });
    expect(await a.openHandshake(member('u3'), 'st3', 0, 2)).toEqual({ ok: false, reason: 'limit', perIp: 2 });
    expect(await a.openHandshake(handshakeMember('IPv4:10.0.0.2', 'u1'), 's', 0, 2)).toEqual({
      ok: true,
      perIp: 1,
      total: 3,
    });
    expect(await a.findHandshake(member('u2'))).toEqual({ serverToken: 'st2', privateId: null });
  });

  it('is found from another node, expires after its ttl and then frees its slot', async () => {
    const [a, b] = [await store('a'), await store('b')];
    await a.openHandshake(member('u1'), 'st1', 150, 1);
    expect(await b.findHandshake(member('u1'))).toEqual({ serverToken: 'st1', privateId: null });
    expect(await b.openHandshake(member('u2'), 'st2', 0, 1)).toMatchObject({ ok: false, reason: 'limit' });
    await vi.waitFor(async () => expect(await b.findHandshake(member('u1'))).toBeNull(), UNTIL);
    expect(await b.openHandshake(member('u2'), 'st2', 0, 1)).toEqual({ ok: true, perIp: 1, total: 1 });
  });

  it('drops a pending handshake but not one a session holds', async () => {
    const a = await store('a');
    await a.openHandshake(member('u1'), 'st1', 0, 5);
    await a.openHandshake(member('u2'), 'st2', 0, 5);
    await a.join(member('u2'), 'st2', 'p2', '{}', 'connect p2');
    await a.dropHandshake(member('u1'));
    await a.dropHandshake(member('u2'));
    expect(await a.findHandshake(member('u1'))).toBeNull();
    expect(await a.findHandshake(member('u2'))).toEqual({ serverToken: 'st2', privateId: 'p2' });
  });
});

describe('sessions', () => {
  it('joins a handshake made on another node, once, with a private ID nobody holds', async () => {
    const [a, b] = [await store('a'), await store('b')];
    await a.openHandshake(member('u1'), 'st1', 60_000, 5);
    await a.openHandshake(member('u2'), 'st2', 60_000, 5);
    expect(await b.join(member('nobody'), 'x', 'p0', '{}', '')).toEqual({ ok: false, reason: 'no-handshake' });
    expect(await b.join(member('u1'), 'wrong', 'p1', '{}', '')).toEqual({ ok: false, reason: 'token-mismatch' });
    expect(await b.join(member('u1'), 'st1', 'p1', '{"wss":true}', 'connect p1')).toEqual({ ok: true, seq: 1 });
    expect(await nextEvent()).toEqual({
      kind: 'join',
      seq: 1,
      node: 'b',
      pid: 'p1',
      options: '{"wss":true}',
      announce: 'connect p1',
    });
    expect(await a.join(member('u1'), 'st1', 'p9', '{}', '')).toEqual({ ok: false, reason: 'bound' });
    expect(await a.join(member('u2'), 'st2', 'p1', '{}', '')).toEqual({ ok: false, reason: 'taken' });
    // Joined handshakes no longer expire.
    expect(await redis.client.pTTL(`${prefix}hs:${member('u1')}`)).toBe(-1);
  });

  it('renames and leaves in event order, and refuses a taken or foreign private ID', async () => {
    const [a, b] = [await store('a'), await store('b')];
    for (const [token, pid, node] of [
      ['u1', 'p1', a],
      ['u2', 'p2', b],
    ] as const) {
      await node.openHandshake(member(token), `st-${token}`, 0, 5);
      await node.join(member(token), `st-${token}`, pid, '{}', `connect ${pid}`);
    }
    expect(await a.rename('p1', 'p2', 'change')).toBe('taken');
    expect(await b.rename('p1', 'p3', 'change')).toBe('gone');
    expect(await a.rename('p1', 'p3', 'change p1 p3')).toBe(3);
    expect(await b.leave('p3', 'disconnect p3')).toBe('gone');
    expect(await a.leave('p3', 'disconnect p3')).toBe(4);
    expect((await a.snapshot()).sessions).toEqual([{ pid: 'p2', node: 'b', optionsJson: '{}' }]);
    expect(await a.findHandshake(member('u1'))).toBeNull();
    const kinds = [await nextEvent(), await nextEvent(), await nextEvent(), await nextEvent()];
    expect(kinds.map((e) => [e.kind, 'seq' in e ? e.seq : 0])).toEqual([
      ['join', 1],
      ['join', 2],
      ['rename', 3],
      ['leave', 4],
    ]);
    expect(kinds[2]).toMatchObject({ from: 'p1', to: 'p3', announce: 'change p1 p3' });
  });

  it('lists the presence in join order, renamed sessions last', async () => {
    const a = await store('a');
    for (const n of [1, 2, 3]) {
      await a.openHandshake(member(`u${n}`), 'st', 0, 5);
      await a.join(member(`u${n}`), 'st', `p${n}`, `{"n":${n}}`, '');
    }
    await a.rename('p1', 'p1b', '');
    const snapshot = await a.snapshot();
    expect(snapshot.seq).toBe(4);
    expect(snapshot.sessions.map((s) => s.pid)).toEqual(['p2', 'p3', 'p1b']);
    expect(snapshot.sessions[2]).toEqual({ pid: 'p1b', node: 'a', optionsJson: '{"n":1}' });
  });
});

describe('nodes', () => {
  it('reaps a node whose heartbeat expired: its sessions leave in one event and their IDs are free', async () => {
    const [a, b] = [await store('a'), await store('b')];
    expect(await a.beat(100)).toBe(true);
    expect(await a.beat(100)).toBe(false);
    await a.openHandshake(member('u1'), 'st', 0, 5);
    await a.join(member('u1'), 'st', 'p1', '{}', '');
    await a.openHandshake(member('u2'), 'st', 60_000, 5);
    const alive = await b.reap('a');
    expect(alive.kind).toBe('alive');
    await vi.waitFor(async () => expect((await b.reap('a')).kind).not.toBe('alive'), UNTIL);
    const events: BusMessage[] = [await nextEvent(), await nextEvent()];
    expect(events[1]).toEqual({ kind: 'reaped', seq: 2, node: 'b', dead: 'a', pids: ['p1'] });
    expect((await b.snapshot()).sessions).toEqual([]);
    expect(await b.findHandshake(member('u2'))).toBeNull();
    expect(await b.reap('a')).toEqual({ kind: 'unknown' });
    // The private ID is free again, and a's handshakes no longer count against the IP.
    await b.openHandshake(member('u3'), 'st', 0, 1);
    expect(await b.join(member('u3'), 'st', 'p1', '{}', '')).toMatchObject({ ok: true });
  });

  it('a beat says when Redis forgot the node; sync registers its sessions again and reports conflicts', async () => {
    const [a, b] = [await store('a'), await store('b')];
    await a.beat(60_000);
    await a.openHandshake(member('u1'), 'st1', 0, 5);
    await a.join(member('u1'), 'st1', 'p1', '{"a":1}', '');
    await a.openHandshake(member('u2'), 'st2', 0, 5);
    await a.join(member('u2'), 'st2', 'p2', '{"a":2}', '');
    await redis.client.flushAll();
    expect(await a.beat(60_000)).toBe(true);
    // Meanwhile another node's session took p2.
    await b.openHandshake(member('u3'), 'st3', 0, 5);
    await b.join(member('u3'), 'st3', 'p2', '{"b":3}', '');
    const own = [
      { pid: 'p1', member: member('u1'), serverToken: 'st1', optionsJson: '{"a":1}' },
      { pid: 'p2', member: member('u2'), serverToken: 'st2', optionsJson: '{"a":2}' },
    ];
    expect(await a.sync(own, 60_000)).toEqual({ seq: 2, conflicts: ['p2'] });
    expect((await a.snapshot()).sessions.map((s) => [s.pid, s.node])).toEqual([
      ['p2', 'b'],
      ['p1', 'a'],
    ]);
    expect(await b.findHandshake(member('u1'))).toEqual({ serverToken: 'st1', privateId: 'p1' });
    const sync = await bus.until((text) => text.includes('"k":"s"'));
    expect(decodeBusMessage(sync)).toEqual({
      ok: true,
      message: { kind: 'sync', seq: 2, node: 'a', sessions: [['p1', '{"a":1}']] },
    });
  });

  it('sync drops what the node no longer holds', async () => {
    const a = await store('a');
    await a.openHandshake(member('u1'), 'st1', 0, 5);
    await a.join(member('u1'), 'st1', 'p1', '{}', '');
    expect(await a.sync([], 60_000)).toEqual({ seq: 2, conflicts: [] });
    expect((await a.snapshot()).sessions).toEqual([]);
    expect(await a.findHandshake(member('u1'))).toBeNull();
  });
});

describe('Signal rooms', () => {
  it('counts each room’s members per node, publishes room events with the cluster-wide count, and forgets a dead node’s', async () => {
    const [a, b] = [await store('a'), await store('b')];
    await a.beat(100);
    await a.roomCount('lobby', 2);
    await b.roomCount('lobby', 3);
    await b.roomCount('other', 1);
    expect(await a.roomPublish('lobby', 'room message')).toBe(5);
    expect(await bus.until((text) => text === 'room message')).toBe('room message');
    await b.roomCount('lobby', 0);
    expect(await b.roomPublish('lobby', 'x')).toBe(2);
    await vi.waitFor(async () => expect((await b.reap('a')).kind).not.toBe('alive'), UNTIL);
    expect(await b.roomPublish('lobby', 'x')).toBe(0);
    // A node's rooms as it knows them replace what Redis had.
    await b.syncRooms([['lobby', 4]]);
    expect(await b.roomPublish('lobby', 'x')).toBe(4);
    expect(await b.roomPublish('other', 'x')).toBe(0);
  });
});

describe('the link', () => {
  it('fails at once with ClusterUnavailableError while Redis is unreachable', async () => {
    const options = resolveClusterOptions({ redis: 'redis://127.0.0.1:1', commandTimeout: 500 });
    await expect(RedisLink.open(options, [], noEvents, silentLogger)).rejects.toThrow(ClusterUnavailableError);
  });
});
