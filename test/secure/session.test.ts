import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConnectionClosedError,
  InvalidArgumentError,
  NotConnectedError,
  QueueFullError,
  SecureSession,
  generateSigningKeyPair,
  identityFingerprint,
  exportVerifyKeyRaw,
  type SecureMessageEvent,
} from '../../src/secure/index.js';
import { WSSClient } from '../../src/index.js';
import { Harness, collect, next, trackedWebSocket, untilPeer, untilState } from './helpers.js';

const h = new Harness();
afterEach(() => h.stop());

const SAFETY_NUMBER = /^\d{5}( \d{5}){5}$/;
const dataOf = (messages: SecureMessageEvent[]): unknown[] => messages.map((m) => m.data);
const endMarker = (e: SecureMessageEvent): boolean => (e.data as { end?: boolean } | null)?.end === true;

describe('SecureSession through the reference server', () => {
  it('four peers: direct, multi-recipient direct and broadcast with exclusions; the relay never sees plaintext', async () => {
    const frames: string[] = [];
    const record = (frame: string): string => {
      frames.push(frame);
      return frame;
    };
    await h.start({ hooks: { incoming: record, outgoing: record } });
    const [a, b, c, d] = await h.group(4);
    const [pa, pb, pc, pd] = [a, b, c, d].map((s) => s.privateId as string);
    const got = [b, c, d].map((s) => collect(s, 'message'));
    const errors = [a, b, c, d].flatMap((s) => collect(s, 'decrypt_error'));
    const done = [b, c, d].map((s) => next(s, 'message', endMarker));

    await a.send(pb, { secret: 'one' });
    await a.send([pb, pc], { secret: 'two' });
    const result = await a.broadcast({ secret: 'three' }, { exclude: [pc] });
    expect(result.recipients.sort()).toEqual([pb, pd].sort());
    expect(result.skipped).toEqual([]);
    await a.broadcast({ end: true });
    await Promise.all(done);

    const [gb, gc, gd] = got;
    expect(gb.map((m) => [m.type, m.from, m.encrypted])).toEqual([
      ['direct', pa, true],
      ['direct', pa, true],
      ['broadcast', pa, true],
      ['broadcast', pa, true],
    ]);
    expect(dataOf(gb)).toEqual([{ secret: 'one' }, { secret: 'two' }, { secret: 'three' }, { end: true }]);
    expect(dataOf(gc)).toEqual([{ secret: 'two' }, { end: true }]);
    expect(dataOf(gd)).toEqual([{ secret: 'three' }, { end: true }]);
    expect(gd[0]?.type).toBe('broadcast');
    expect(errors).toEqual([]);
    // The relay carried envelopes only.
    const sends = frames.filter((f) => f.includes('"WSS_Send"'));
    expect(sends).toHaveLength(4);
    expect(frames.some((f) => f.includes('secret') || f.includes('three'))).toBe(false);
    expect(sends.every((f) => f.includes('"e2e":2'))).toBe(true);
  });

  it('a burst to the same recipients is coalesced into few envelopes; each message is its own event, in order', async () => {
    let sendFrames = 0;
    await h.start({
      hooks: {
        incoming: (f) => {
          if (f.includes('"WSS_Send"')) sendFrames++;
          return f;
        },
      },
    });
    const [a, b, c] = await h.group(3);
    const [pb, pc] = [b.privateId as string, c.privateId as string];
    const atB = collect(b, 'message');
    const last = next(b, 'message', (m) => m.data === 99);
    const lastBroadcast = next(c, 'message', (m) => m.data === 'b9');
    sendFrames = 0;
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.send(pb, i)));
    await last;
    expect(atB.map((m) => m.data)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Set(atB.map((m) => m.type))).toEqual(new Set(['direct']));
    expect(sendFrames).toBeLessThan(100);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => a.broadcast(`b${i}`, { exclude: [pb] })));
    await lastBroadcast;
    expect(results.every((r) => r.recipients.length === 1 && r.recipients[0] === pc)).toBe(true);
  });

  it('a throwing listener is logged and does not stop delivery; server updates pass through', async () => {
    const errors: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (...args: unknown[]) => errors.push(args) };
    await h.start();
    const a = h.session();
    await a.connect();
    const b = h.session({ logger });
    await b.connect();
    await untilPeer(a, () => b.privateId);
    b.once('message', () => {
      throw new Error('listener bug');
    });
    const second = next(b, 'message', (m) => m.data === 2);
    await a.send(b.privateId as string, 1);
    await a.send(b.privateId as string, 2);
    await second;
    expect(errors).toHaveLength(1);
    const update = next(b, 'update');
    h.server.sendRaw(
      b.privateId as string,
      JSON.stringify({ jsonrpc: '2.0', result: { type: 'update', data: { notice: 'maintenance' } } }),
    );
    expect(await update).toMatchObject({ data: { notice: 'maintenance' } });
  });

  it('data that is not JSON rejects its own send only', async () => {
    await h.start();
    const [a, b] = await h.group(2);
    const pb = b.privateId as string;
    const got = next(b, 'message');
    const bad = [a.send(pb, 1n), a.send(pb, () => 1), a.broadcast(Symbol('x'))];
    const good = a.send(pb, undefined);
    for (const p of bad) await expect(p).rejects.toThrow(/JSON-serialisable/);
    await good;
    expect(await got).toMatchObject({ from: a.privateId, data: null });
  });

  it('safety numbers: the same at both ends of a pair, different per pair and per connection', async () => {
    await h.start();
    const [a, b, c] = await h.group(3);
    const [pa, pb, pc] = [a, b, c].map((s) => s.privateId as string);
    const ab = a.fingerprint(pb);
    expect(ab).toMatch(SAFETY_NUMBER);
    expect(b.fingerprint(pa)).toBe(ab);
    expect(a.fingerprint(pc)).toBe(c.fingerprint(pa));
    expect(a.fingerprint(pc)).not.toBe(ab);
    expect(a.fingerprint()).toMatch(SAFETY_NUMBER);
    expect(new Set([a.fingerprint(), b.fingerprint(), c.fingerprint()]).size).toBe(3);
    expect(a.peers.get(pb)).toMatchObject({ privateId: pb, fingerprint: ab, verified: null, usable: true });
    expect(a.fingerprint('nobody')).toBeNull();
    expect(a.peers.get(pb)?.options).toMatchObject({ wss: true, e2e: { v: 2, pk: expect.any(String) } });
  });

  it('setPrivateId: peers follow the rename; after a drop the ID is restored with new keys', async () => {
    await h.start();
    const tracked = trackedWebSocket();
    const a = h.session();
    await a.connect();
    const b = h.session({ WebSocket: tracked.WebSocket });
    await b.connect();
    await untilPeer(a, () => b.privateId);
    const renamed = next(a, 'peerpid');
    expect(await b.setPrivateId('bob')).toBe('bob');
    expect(await renamed).toMatchObject({ oldPrivateId: expect.any(String), newPrivateId: 'bob' });
    expect(b.privateId).toBe('bob');
    expect(a.peers.has('bob')).toBe(true);

    const toA = next(a, 'message');
    await b.send(a.privateId as string, 'from bob');
    expect(await toA).toMatchObject({ from: 'bob', data: 'from bob', encrypted: true });
    const before = a.fingerprint('bob');

    const aEvents = collect(a, 'peerdisconnect');
    const rekeyed = next(a, 'peerkey', (e) => e.privateId !== 'bob');
    const back = next(a, 'peerpid', (e) => e.newPrivateId === 'bob');
    const reconnected = next(b, 'reconnected');
    tracked.sockets[0]?.terminate();
    expect(await reconnected).toMatchObject({ attempts: 1, privateId: 'bob' });
    await Promise.all([rekeyed, back]);
    expect(aEvents.map((e) => e.privateId)).toEqual(['bob']);
    expect(b.privateId).toBe('bob');
    expect(b.state).toBe('connected');
    expect(a.fingerprint('bob')).not.toBe(before);
    expect(a.fingerprint('bob')).toBe(b.fingerprint(a.privateId as string));

    const toB = next(b, 'message');
    await a.send('bob', 'welcome back');
    expect(await toB).toMatchObject({ from: a.privateId, data: 'welcome back' });
  });

  it('peers leaving and joining: a left peer is no recipient, a newcomer is, keys follow', async () => {
    await h.start();
    const [a, b, c] = await h.group(3);
    const pc = c.privateId as string;
    const left = next(a, 'peerdisconnect');
    await c.disconnect();
    expect(await left).toEqual({ privateId: pc });
    expect(a.peers.has(pc)).toBe(false);
    await expect(a.send(pc, 'gone')).rejects.toBeInstanceOf(InvalidArgumentError);

    const joined = next(a, 'peerconnect');
    const keyed = next(a, 'peerkey');
    const e = h.session();
    await e.connect();
    expect(await joined).toMatchObject({ privateId: e.privateId, options: { e2e: { v: 2 } } });
    expect(await keyed).toMatchObject({
      privateId: e.privateId,
      fingerprint: e.fingerprint(a.privateId as string),
      verified: null,
    });
    const atE = next(e, 'message');
    const atB = next(b, 'message');
    const result = await a.broadcast('hello all');
    expect(result.recipients.sort()).toEqual([b.privateId, e.privateId].sort());
    expect(await atE).toMatchObject({ type: 'broadcast', data: 'hello all' });
    expect(await atB).toMatchObject({ type: 'broadcast', data: 'hello all' });
  });

  it('a dropped server connection: every session reconnects with new keys, peers re-key, traffic resumes', async () => {
    const server = await h.start();
    const [a, b, c] = await h.group(3);
    const oldOwn = a.fingerprint();
    const oldPair = a.fingerprint(b.privateId as string);
    const states = collect(a, 'state');
    const reconnecting = next(a, 'reconnecting');
    const ids = collect(a, 'privateid');
    const all = [a, b, c].map((s) => next(s, 'reconnected'));
    server.dropConnections();
    expect(await reconnecting).toEqual({ attempt: 1, delay: 0 });
    await Promise.all(all);
    await Promise.all(
      [a, b, c].flatMap((s) => [a, b, c].filter((o) => o !== s).map((o) => untilPeer(s, () => o.privateId))),
    );
    expect(states.map((e) => e.state)).toEqual(['reconnecting', 'connected']);
    expect(ids).toEqual([{ privateId: a.privateId }]);
    expect(a.fingerprint()).not.toBe(oldOwn);
    expect(a.fingerprint(b.privateId as string)).not.toBe(oldPair);
    expect(a.fingerprint(b.privateId as string)).toBe(b.fingerprint(a.privateId as string));
    const got = next(c, 'message');
    await b.send(c.privateId as string, 'after');
    expect(await got).toMatchObject({ from: b.privateId, data: 'after', encrypted: true });
  });

  /** A server, then b, then a (whose socket the test can cut, with a send queue of `queueSize`) seen by b. */
  async function droppablePair(queueSize: number) {
    await h.start();
    const tracked = trackedWebSocket();
    const b = h.session();
    await b.connect();
    const a = h.session({ WebSocket: tracked.WebSocket, queueSize });
    await a.connect();
    await untilPeer(b, () => a.privateId);
    return { a, b, tracked, pb: b.privateId as string, received: collect(b, 'message') };
  }

  it('sends made while reconnecting wait in the bounded queue and go out once, under the new keys', async () => {
    const { a, b, tracked, pb, received } = await droppablePair(3);
    const errors = collect(b, 'decrypt_error');
    const queued: Promise<unknown>[] = [];
    let overflow: Promise<unknown> | undefined;
    a.once('reconnecting', () => {
      queued.push(a.send(pb, 1), a.send(pb, 2), a.broadcast(3));
      overflow = a.send(pb, 4);
    });
    const newKey = next(b, 'peerkey');
    const done = next(b, 'message', (m) => m.data === 3);
    tracked.sockets[0]?.terminate();
    await untilState(a, 'reconnecting');
    await expect(overflow).rejects.toBeInstanceOf(QueueFullError);
    await expect(overflow).rejects.toThrow(/queueSize 3\b.*raise queueSize/);
    const results = await Promise.all(queued);
    expect(results[2]).toEqual({ recipients: [pb], skipped: [] });
    await done;
    expect((await newKey).fingerprint).toBe(a.fingerprint(pb));
    expect(received.map((m) => [m.type, m.data, m.from])).toEqual([
      ['direct', 1, a.privateId],
      ['direct', 2, a.privateId],
      ['broadcast', 3, a.privateId],
    ]);
    expect(errors).toEqual([]);
  });

  it('a close listener that calls the API gets NotConnectedError, not a TypeError', async () => {
    const { a, tracked } = await droppablePair(3);
    let fromListener: Promise<unknown> | undefined;
    a.once('close', () => {
      fromListener = a.getPrivateId();
      fromListener.catch(() => {});
    });
    tracked.sockets[0]?.terminate();
    await untilState(a, 'reconnecting');
    await expect(fromListener).rejects.toBeInstanceOf(NotConnectedError);
    await expect(fromListener).rejects.toThrow(/^getPrivateId needs a connected session/);
  });

  it('in-flight sends at a drop are acknowledged or rejected, never delivered twice', async () => {
    const { a, b, tracked, pb, received } = await droppablePair(1000);
    const reconnected = next(a, 'reconnected');
    // Cut the socket as the fifth acknowledgement arrives: some sends are then acknowledged, some written but unanswered, some not yet written.
    const outcomes = Array.from({ length: 200 }, (_, i) =>
      a.send(pb, i).then(
        () => {
          if (i === 4) tracked.sockets[0]?.terminate();
          return 'ok' as const;
        },
        (e: unknown) => e,
      ),
    );
    await reconnected;
    const settled = await Promise.all(outcomes);
    const marker = next(b, 'message', (m) => m.data === 'marker');
    await a.send(pb, 'marker');
    await marker;
    const seen = received.map((m) => m.data).filter((d) => d !== 'marker') as number[];
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((x, y) => x - y)).toEqual(seen);
    settled.forEach((outcome, i) => {
      if (outcome === 'ok') expect(seen).toContain(i);
      else expect(outcome).toBeInstanceOf(ConnectionClosedError);
    });
  });

  it('reconnect gives up after maxRetries: reconnect_failed, queued sends rejected, nothing left running', async () => {
    const server = await h.start();
    const a = h.session({ reconnect: { interval: 0, maxInterval: 0, jitter: 0, maxRetries: 2 } });
    await a.connect();
    const attempts = collect(a, 'reconnecting');
    const failed = next(a, 'reconnect_failed');
    let queued: Promise<void> | undefined;
    a.once('reconnecting', () => (queued = a.send('someone', 'x')));
    await server.close();
    const { attempts: count, error } = await failed;
    expect(count).toBe(2);
    expect(error).toBeInstanceOf(Error);
    expect(attempts.map((e) => e.attempt)).toEqual([1, 2]);
    expect(a.state).toBe('disconnected');
    await expect(queued).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(a.send('someone', 'y')).rejects.toBeInstanceOf(NotConnectedError);
  });

  it('an attempt that fails after listing its peers reports them gone again before giving up', async () => {
    let dropSetPid = false;
    await h.start({ hooks: { incoming: (f) => (dropSetPid && f.includes('"setPID"') ? null : f) } });
    const tracked = trackedWebSocket();
    const b = h.session();
    await b.connect();
    const a = h.session({
      WebSocket: tracked.WebSocket,
      requestTimeout: 200,
      reconnect: { interval: 0, maxInterval: 0, jitter: 0, maxRetries: 1 },
    });
    await a.connect();
    await a.setPrivateId('alice');
    await untilPeer(a, () => b.privateId);
    const joins = collect(a, 'peerconnect');
    const leaves = collect(a, 'peerdisconnect');
    const failed = next(a, 'reconnect_failed');
    // The attempt connects and lists b, then restoring 'alice' gets no answer.
    dropSetPid = true;
    tracked.sockets[0]?.terminate();
    expect((await failed).error.name).toBe('TimeoutError');
    await a.disconnect();
    expect(joins.map((e) => e.privateId)).toEqual([b.privateId]);
    expect(leaves.map((e) => e.privateId)).toEqual([b.privateId, b.privateId]);
    expect(a.peers.size).toBe(0);
  });

  it('reconnect attempts follow the backoff: exponential, capped', async () => {
    const server = await h.start();
    const a = h.session({
      reconnect: { interval: 4, backoffMultiplier: 2, maxInterval: 16, jitter: 0, maxRetries: 4 },
    });
    await a.connect();
    const attempts = collect(a, 'reconnecting');
    const failed = next(a, 'reconnect_failed');
    await server.close();
    expect((await failed).attempts).toBe(4);
    expect(attempts).toEqual([
      { attempt: 1, delay: 4 },
      { attempt: 2, delay: 8 },
      { attempt: 3, delay: 16 },
      { attempt: 4, delay: 16 },
    ]);
  });

  it('disconnect() while reconnecting stops the retries', async () => {
    const server = await h.start();
    const a = h.session({ reconnect: { interval: 5, maxInterval: 5, jitter: 0 } });
    await a.connect();
    const second = next(a, 'reconnecting', (e) => e.attempt === 2);
    await server.close();
    await second;
    await a.disconnect();
    expect(a.state).toBe('disconnected');
    const later = collect(a, 'reconnecting');
    await expect(a.broadcast('x')).rejects.toBeInstanceOf(NotConnectedError);
    expect(later).toEqual([]);
  });

  it('after a drop, peers leave in the order close, state, departures: a listener sees why they left', async () => {
    const server = await h.start();
    const [a, b] = await h.group(2);
    const seen: string[] = [];
    a.on('close', () => seen.push('close'));
    a.on('state', ({ state }) => seen.push(`state ${state}`));
    a.on('peerdisconnect', ({ privateId }) =>
      seen.push(`left ${privateId === b.privateId ? 'b' : privateId} while ${a.state}`),
    );
    const left = next(a, 'peerdisconnect');
    server.dropConnections();
    await left;
    expect(seen.slice(0, 3)).toEqual(['close', 'state reconnecting', 'left b while reconnecting']);
  });

  it('with reconnect disabled a drop ends the session', async () => {
    const server = await h.start();
    const a = h.session({ reconnect: { enabled: false } });
    await a.connect();
    const closed = next(a, 'close');
    server.dropConnections();
    expect(await closed).toMatchObject({ requested: false });
    expect(a.state).toBe('disconnected');
  });

  it('identity keys: peers verify each other; pinning rejects an unknown identity', async () => {
    await h.start();
    const [ia, ib, ic] = await Promise.all([
      generateSigningKeyPair(),
      generateSigningKeyPair(),
      generateSigningKeyPair(),
    ]);
    const trusted = new Set(
      await Promise.all([ia, ib].map(async (k) => identityFingerprint(await exportVerifyKeyRaw(k.publicKey)))),
    );
    const verifyPeerIdentity = ({ identityFingerprint: fp }: { identityFingerprint: string }): boolean =>
      trusted.has(fp);
    const a = h.session({ identity: ia, verifyPeerIdentity });
    await a.connect();
    const b = h.session({ identity: ib });
    const bKey = next(a, 'peerkey');
    await b.connect();
    expect(await bKey).toMatchObject({
      privateId: b.privateId,
      verified: true,
      identityFingerprint: b.identityFingerprint,
    });
    expect(b.peers.get(a.privateId as string)).toMatchObject({
      verified: true,
      identityFingerprint: a.identityFingerprint,
      usable: true,
    });

    const c = h.session({ identity: ic });
    const cKey = next(a, 'peerkey');
    await c.connect();
    const rejected = await cKey;
    expect(rejected).toMatchObject({
      privateId: c.privateId,
      verified: false,
      fingerprint: null,
      identityFingerprint: c.identityFingerprint,
    });
    expect(rejected.error).toBeInstanceOf(AuthenticationError);
    await expect(a.send(c.privateId as string, 'no')).rejects.toBeInstanceOf(AuthenticationError);
    expect(await a.broadcast('only b')).toEqual({ recipients: [b.privateId], skipped: [c.privateId] });
    const cErrors = next(a, 'decrypt_error');
    await c.send(a.privateId as string, 'let me in');
    expect(await cErrors).toMatchObject({ reason: 'untrusted-peer', from: c.privateId });
  });

  it('peers without identity are unusable when identities are required', async () => {
    await h.start();
    const a = h.session({ identity: await generateSigningKeyPair() });
    await a.connect();
    const key = next(a, 'peerkey');
    const plain = h.session();
    await plain.connect();
    expect(await key).toMatchObject({ verified: false, fingerprint: null });
    expect(a.peers.get(plain.privateId as string)?.usable).toBe(false);
    // The other side has no identity requirement and agrees keys, but a drops what it sends.
    const dropped = next(a, 'decrypt_error');
    await plain.send(a.privateId as string, 'hi');
    expect(await dropped).toMatchObject({ reason: 'untrusted-peer' });
    // A peer with no key at all is just as unverified.
    const keyedPlain = next(a, 'peerkey');
    const p = h.session({ encryption: false });
    await p.connect();
    expect(await keyedPlain).toMatchObject({ privateId: p.privateId, verified: false, fingerprint: null });
  });
});

describe('plaintext sessions (encryption: false)', () => {
  it('same API and reconnect, plain messages, server broadcast with exclusions', async () => {
    const frames: string[] = [];
    const server = await h.start({
      hooks: {
        incoming: (f) => {
          frames.push(f);
          return f;
        },
      },
    });
    const [a, b, c] = await h.group(3, { encryption: false });
    const [pb, pc] = [b.privateId as string, c.privateId as string];
    expect(a.fingerprint(pb)).toBeNull();
    expect(a.peers.get(pb)).toMatchObject({ fingerprint: null, verified: null, usable: true });
    const atB = collect(b, 'message');
    const atC = next(c, 'message');
    const done = next(b, 'message', (m) => m.data === 'direct');
    expect(await a.broadcast('to b only', { exclude: [pc] })).toEqual({ recipients: [pb], skipped: [] });
    await a.send(pb, 'direct');
    await a.send(pc, 'to c');
    await done;
    expect(atB.map((m) => [m.type, m.data, m.encrypted])).toEqual([
      ['broadcast', 'to b only', false],
      ['direct', 'direct', false],
    ]);
    expect(await atC).toMatchObject({ type: 'direct', data: 'to c', encrypted: false });
    expect(frames.some((f) => f.includes('to b only'))).toBe(true);

    const back = [a, b, c].map((s) => next(s, 'reconnected'));
    server.dropConnections();
    await Promise.all(back);
    await untilPeer(a, () => b.privateId);
    const again = next(a, 'message');
    await b.send(a.privateId as string, 'plain again');
    expect(await again).toMatchObject({ data: 'plain again', encrypted: false });
  });

  it('an encrypted session drops plaintext from a plain peer and will not send to it', async () => {
    await h.start();
    const a = h.session();
    await a.connect();
    const keyed = next(a, 'peerkey');
    const p = h.session({ encryption: false });
    await p.connect();
    expect(await keyed).toMatchObject({ privateId: p.privateId, fingerprint: null, verified: null });
    const dropped = next(a, 'decrypt_error');
    const received = collect(a, 'message');
    await p.send(a.privateId as string, { text: 'in the clear' });
    expect(await dropped).toMatchObject({ reason: 'plaintext', from: p.privateId, type: 'direct' });
    expect(received).toEqual([]);
    await expect(a.send(p.privateId as string, 'x')).rejects.toBeInstanceOf(AuthenticationError);
    expect(await a.broadcast('x')).toEqual({ recipients: [], skipped: [p.privateId] });
  });
});

describe('cleanup', () => {
  it('200 drop/reconnect cycles, then disconnect(): no timer, socket or listener left', async () => {
    const baseline = new Map<string, number>();
    for (const type of process.getActiveResourcesInfo()) baseline.set(type, (baseline.get(type) ?? 0) + 1);
    const server = await h.start();
    const tracked = trackedWebSocket();
    const a = h.session({ WebSocket: tracked.WebSocket });
    const b = h.session({ WebSocket: tracked.WebSocket });
    await a.connect();
    await b.connect();
    for (let i = 0; i < 200; i++) {
      const back = [next(a, 'reconnected'), next(b, 'reconnected')];
      server.dropConnections();
      await Promise.all(back);
    }
    await untilPeer(a, () => b.privateId);
    const got = next(a, 'message');
    await b.send(a.privateId as string, 'still here');
    expect(await got).toMatchObject({ data: 'still here' });
    await Promise.all([a.disconnect(), b.disconnect()]);
    await server.close();

    expect(tracked.sockets.length).toBeGreaterThanOrEqual(402);
    expect(tracked.sockets.every((ws) => ws.readyState === ws.CLOSED)).toBe(true);
    expect(tracked.sockets.every((ws) => ws.listenerCount('message') === 0 || ws.readyState === ws.CLOSED)).toBe(true);
    for (const s of [a, b]) expect(s.eventNames()).toEqual([]);
    const after = new Map<string, number>();
    for (const type of process.getActiveResourcesInfo()) after.set(type, (after.get(type) ?? 0) + 1);
    for (const [type, count] of after)
      expect({ type, count }).toEqual({ type, count: Math.min(count, baseline.get(type) ?? 0) });
  });

  it('disconnect() during connect() rejects the connect and leaves the session reusable', async () => {
    await h.start();
    const a = h.session();
    const connecting = a.connect();
    await a.disconnect();
    await expect(connecting).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(a.state).toBe('disconnected');
    const info = await a.connect();
    expect(info.privateId).toBe(a.privateId);
  });

  it('connect() twice is an error; a plain WSSClient peer sees the published key advert', async () => {
    await h.start();
    const watcher = new WSSClient({ url: h.server.url });
    await watcher.connect();
    const seen = new Promise<Record<string, unknown>>((resolve) =>
      watcher.once('peerconnect', (e) => resolve(e.options)),
    );
    const a = h.session({ connectOptions: { name: 'a' } });
    await a.connect();
    await expect(a.connect()).rejects.toThrow(/connect\(\) needs state 'disconnected'/);
    expect(await seen).toMatchObject({
      name: 'a',
      wss: true,
      e2e: { v: 2, pk: expect.stringMatching(/^B[A-Za-z0-9+/]{86}=$/) },
    });
    await watcher.disconnect();
  });
});

void SecureSession;
