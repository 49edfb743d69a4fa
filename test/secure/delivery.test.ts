/**
 * Reliable delivery between SecureSessions through the reference server:
 * receipts, exactly once in order across cut sockets, the bounds, timeouts and
 * `undelivered`, and peers that do not run it.
 */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  ConnectionClosedError,
  DeliveryTimeoutError,
  InvalidArgumentError,
  QueueFullError,
  type SecureSession,
  type SecureSessionOptions,
} from '../../src/secure/index.js';
import type { FrameParty } from '../../src/server/index.js';
import { Harness, collect, next, trackedWebSocket, untilPeer } from './helpers.js';

const RELIABLE = { delivery: 'reliable' } as const;

type Hook = (frame: string, target: FrameParty) => string | string[] | null;

const h = new Harness();
/** The relay's outgoing hook, replaceable per test: it may drop or rewrite frames. */
let hook: Hook | null = null;

beforeEach(async () => {
  hook = null;
  await h.start({ hooks: { outgoing: (frame, target) => (hook ? hook(frame, target) : frame) } });
});
afterEach(() => h.stop());

const pid = (s: SecureSession): string => s.privateId as string;

/** Whether a frame is a message push (a peer's envelope), as opposed to a response or a presence push. */
const isMessagePush = (frame: string): boolean => {
  const parsed = JSON.parse(frame) as { id?: unknown; result?: { type?: unknown } };
  return !('id' in parsed) && (parsed.result?.type === 'direct' || parsed.result?.type === 'broadcast');
};

/** Drops every message push to `to` (its receipts, when it only receives) until the returned function is called. */
function withhold(to: SecureSession): () => void {
  hook = (frame, target) => (target.privateId === pid(to) && isMessagePush(frame) ? null : frame);
  return () => {
    hook = null;
  };
}

/** Connects sessions with these options, one after another, each knowing the others. */
async function sessions(...options: Array<Partial<SecureSessionOptions>>): Promise<SecureSession[]> {
  const out: SecureSession[] = [];
  for (const o of options) {
    const s = h.session(o);
    await s.connect();
    await Promise.all(out.map((other) => untilPeer(other, () => s.privateId)));
    await Promise.all(out.map((other) => untilPeer(s, () => other.privateId)));
    out.push(s);
  }
  return out;
}

/** Resolves once `session` has received `count` messages; they are in the returned list. */
function receive(session: SecureSession, count: number): { data: unknown[]; done: Promise<void> } {
  const data: unknown[] = [];
  const done = new Promise<void>((resolve) => {
    session.on('message', (m) => {
      data.push(m.data);
      if (data.length === count) resolve();
    });
  });
  return { data, done };
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('receipts', () => {
  it('a burst of direct messages and broadcasts is confirmed, each delivered once and in order', async () => {
    const [a, b, c] = await sessions(RELIABLE, RELIABLE, RELIABLE);
    const atB = receive(b as SecureSession, 300);
    const atC = receive(c as SecureSession, 150);
    const sends = range(150).map((i) => a?.send(pid(b as SecureSession), i, { await: 'delivered' }));
    const casts = range(150).map((i) => a?.broadcast(1000 + i, { await: 'delivered' }));
    await Promise.all(sends);
    for (const result of await Promise.all(casts)) {
      expect(result?.confirmed.sort()).toEqual([pid(b as SecureSession), pid(c as SecureSession)].sort());
      expect(result?.unconfirmed).toEqual([]);
    }
    await Promise.all([atB.done, atC.done]);
    expect(atB.data.filter((d) => (d as number) < 1000)).toEqual(range(150));
    expect(atB.data.filter((d) => (d as number) >= 1000)).toEqual(range(150).map((i) => 1000 + i));
    expect(atC.data).toEqual(range(150).map((i) => 1000 + i));
    expect(b?.peers.get(pid(a as SecureSession))?.delivery).toBe('reliable');
  });

  for (const side of ['sender', 'recipient'] as const)
    it(`exactly once and in order across a cut of the ${side}'s socket`, async () => {
      const tracked = trackedWebSocket();
      const reconnect = { interval: 20, maxInterval: 20, jitter: 0 };
      const [a, b] = await sessions(
        { ...RELIABLE, reconnect, ...(side === 'sender' && { WebSocket: tracked.WebSocket }) },
        { ...RELIABLE, reconnect, ...(side === 'recipient' && { WebSocket: tracked.WebSocket }) },
      );
      const [sender, recipient] = [a as SecureSession, b as SecureSession];
      await recipient.setPrivateId('recipient');
      await untilPeer(sender, () => 'recipient');
      const got = receive(recipient, 200);
      const outcomes: Array<Promise<void>> = [];
      for (const i of range(200)) {
        outcomes.push(sender.send('recipient', i, { await: 'delivered' }));
        if (i === 100) tracked.sockets[0]?.terminate();
      }
      await Promise.all(outcomes);
      await got.done;
      expect(got.data).toEqual(range(200));
      expect(tracked.sockets.length).toBeGreaterThan(1);
    });

  it('a peer renamed after its session was known is reached under its new private ID while this session reconnects', async () => {
    const tracked = trackedWebSocket();
    const [a, b] = await sessions({ ...RELIABLE, WebSocket: tracked.WebSocket }, RELIABLE);
    const [sender, peer] = [a as SecureSession, b as SecureSession];
    await sender.send(pid(peer), 'hello', { await: 'delivered' });
    await peer.setPrivateId('renamed');
    await untilPeer(sender, () => 'renamed');
    const got = receive(peer, 1);
    // Sent once the peer is reported gone, while the session is reconnecting and lists no peer.
    const sent = new Promise<void>((resolve, reject) => {
      sender.once('peerdisconnect', () => {
        expect([sender.state, sender.peers.size]).toEqual(['reconnecting', 0]);
        sender.send('renamed', 'while away', { await: 'delivered' }).then(resolve, reject);
      });
    });
    tracked.sockets[0]?.terminate();
    await sent;
    await got.done;
    expect(got.data).toEqual(['while away']);
  });
});

describe('peer sessions by private ID', () => {
  /** `peer` takes `privateId`; resolves once `sender` lists it so and has a message to it confirmed. */
  async function rename(sender: SecureSession, peer: SecureSession, privateId: string): Promise<void> {
    await peer.setPrivateId(privateId);
    await untilPeer(sender, () => privateId);
    await sender.send(privateId, 'known', { await: 'delivered' });
  }

  /** Runs `leave` (a peer's connection ends); resolves once `sender` saw the peer leave. */
  async function away(sender: SecureSession, leave: () => unknown): Promise<void> {
    const gone = next(sender, 'peerdisconnect');
    await leave();
    await gone;
  }

  /** A message from `sender` to `to` is confirmed, and `recipient` got it. */
  async function expectReaches(sender: SecureSession, to: string, recipient: SecureSession): Promise<void> {
    const got = receive(recipient, 1);
    await sender.send(to, 'reached', { await: 'delivered' });
    await got.done;
    expect(got.data).toEqual(['reached']);
  }

  it('a peer away is reached under the private ID it was last known by, not an earlier one', async () => {
    const tracked = trackedWebSocket();
    const [a, b] = await sessions(RELIABLE, { ...RELIABLE, WebSocket: tracked.WebSocket });
    const [sender, peer] = [a as SecureSession, b as SecureSession];
    const before = pid(peer);
    await sender.send(before, 'hello', { await: 'delivered' });
    await rename(sender, peer, 'renamed');
    // The peer's connection is cut: it is not listed while it reconnects, but its session is expected back.
    await away(sender, () => tracked.sockets[0]?.terminate());
    expect(sender.peers.has('renamed')).toBe(false);
    await expect(sender.send(before, 'old name')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expectReaches(sender, 'renamed', peer);
  });

  it('of two sessions known under one private ID, a peer away is reached through the one active last', async () => {
    const tracked = trackedWebSocket();
    // A message that went to the wrong session fails in time, instead of waiting for it.
    const [a, b] = await sessions({ ...RELIABLE, deliveryTimeout: 5000 }, RELIABLE);
    const [sender, earlier] = [a as SecureSession, b as SecureSession];
    await rename(sender, earlier, 'shared');
    await away(sender, () => earlier.disconnect());
    const later = h.session({ ...RELIABLE, WebSocket: tracked.WebSocket });
    await later.connect();
    await rename(sender, later, 'shared');
    await away(sender, () => tracked.sockets[0]?.terminate());
    await expectReaches(sender, 'shared', later);
  });

  it('a session forgotten past maxPeerSessions is no longer reached under its private ID; the one that took its place is', async () => {
    const [a, b] = await sessions({ ...RELIABLE, maxPeerSessions: 1, deliveryTimeout: 5000 }, RELIABLE);
    const [sender, first] = [a as SecureSession, b as SecureSession];
    const name = pid(first);
    await sender.send(name, 'hello', { await: 'delivered' });
    await away(sender, () => first.disconnect());
    // Its session is remembered (nothing unconfirmed), until a new one needs the only place.
    const second = h.session(RELIABLE);
    await second.connect();
    await untilPeer(sender, () => second.privateId);
    await sender.send(pid(second), 'hello', { await: 'delivered' });
    await expect(sender.send(name, 'gone')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expectReaches(sender, pid(second), second);
  });
});

describe('await with a signal', () => {
  it('the signal stops the waiting, not the delivery; its listener goes when the wait ends, either way', async () => {
    const [a, b] = await sessions(RELIABLE, RELIABLE);
    const [sender, recipient] = [a as SecureSession, b as SecureSession];
    const kept = new AbortController();
    await sender.send(pid(recipient), 1, { await: 'delivered', signal: kept.signal });
    await sender.broadcast(2, { await: 'delivered', signal: kept.signal });
    expect(getEventListeners(kept.signal, 'abort')).toEqual([]);
    const got = receive(recipient, 2);
    // The recipient gets the messages, the sender none of its receipts: both wait until aborted.
    const release = withhold(sender);
    const controller = new AbortController();
    const sending = sender.send(pid(recipient), 3, { await: 'delivered', signal: controller.signal });
    const casting = sender.broadcast(4, { await: 'delivered', signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(2);
    controller.abort(new Error('user left'));
    // Each error names the call that was aborted.
    await expect(sending).rejects.toBeInstanceOf(AbortError);
    await expect(sending).rejects.toMatchObject({
      message: 'send was aborted by its AbortSignal',
      cause: controller.signal.reason,
    });
    await expect(casting).rejects.toBeInstanceOf(AbortError);
    await expect(casting).rejects.toMatchObject({
      message: 'broadcast was aborted by its AbortSignal',
      cause: controller.signal.reason,
    });
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    await got.done;
    expect(got.data).toEqual([3, 4]);
    release();
  });
});

describe('bounds', () => {
  it('past maxUnackedMessages and maxUnackedBytes, send() rejects with QueueFullError; a message larger than the bytes alone with InvalidArgumentError', async () => {
    const [a, b] = await sessions({ ...RELIABLE, maxUnackedMessages: 3, maxUnackedBytes: 200 }, RELIABLE);
    const [sender, recipient] = [a as SecureSession, b as SecureSession];
    await sender.send(pid(recipient), 'hello', { await: 'delivered' });
    const release = withhold(sender);
    const kept = [1, 2, 3].map((i) => sender.send(pid(recipient), i, { await: 'delivered' }));
    await expect(sender.send(pid(recipient), 4)).rejects.toBeInstanceOf(QueueFullError);
    await expect(sender.broadcast(4)).rejects.toBeInstanceOf(QueueFullError);
    await expect(sender.send(pid(recipient), 'x'.repeat(300))).rejects.toBeInstanceOf(InvalidArgumentError);
    release();
    await Promise.all(kept);
    await sender.send(pid(recipient), 'a'.repeat(150), { await: 'delivered' });
    release();
    withhold(sender);
    const big = sender.send(pid(recipient), 'b'.repeat(150), { await: 'delivered' });
    await expect(sender.send(pid(recipient), 'c'.repeat(60))).rejects.toBeInstanceOf(QueueFullError);
    hook = null;
    await big;
  });

  it('with receipts withheld, a recipient gets exactly receiptWindow messages; the rest follow in order once receipts flow', async () => {
    // The recipient logs a copy of what it had (a debug line): the sender went back, having sent all it could.
    let copy = (): void => {};
    const copied = new Promise<void>((resolve) => {
      copy = resolve;
    });
    const logger = {
      debug: (message: string) => void (message.includes('delivered before') && copy()),
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    const [a, b] = await sessions({ ...RELIABLE, receiptWindow: 5 }, { ...RELIABLE, logger });
    const [sender, recipient] = [a as SecureSession, b as SecureSession];
    await sender.send(pid(recipient), -1, { await: 'delivered' });
    const got = receive(recipient, 20);
    const release = withhold(sender);
    const sent = range(20).map((i) => sender.send(pid(recipient), i, { await: 'delivered' }));
    // The sender re-sends what got no receipt: once the recipient has seen a copy, the window was all it sent.
    await copied;
    expect(got.data).toEqual(range(5));
    release();
    await Promise.all(sent);
    await got.done;
    expect(got.data).toEqual(range(20));
  });
});

describe('giving up', () => {
  it('a peer gone for good: DeliveryTimeoutError after deliveryTimeout, one undelivered per message and recipient, a broadcast lists it unconfirmed', async () => {
    // Long enough for a receipt on a busy machine (the first send must be confirmed), short enough to wait out.
    const [a, b, c] = await sessions({ ...RELIABLE, deliveryTimeout: 1500 }, RELIABLE, RELIABLE);
    const [sender, gone, stays] = [a as SecureSession, b as SecureSession, c as SecureSession];
    await sender.send(pid(gone), 'hello', { await: 'delivered' });
    const undelivered = collect(sender, 'undelivered');
    // The relay swallows everything to the peer: for the sender it is listed but never answers.
    hook = (frame, target) => (target.privateId === pid(gone) && isMessagePush(frame) ? null : frame);
    const [failure, cast] = await Promise.all([
      sender.send(pid(gone), { n: 1 }, { await: 'delivered' }).catch((error: unknown) => error),
      sender.broadcast({ n: 2 }, { await: 'delivered' }),
    ]);
    expect(failure).toBeInstanceOf(DeliveryTimeoutError);
    expect(failure).toMatchObject({ deliveryTimeout: 1500, recipients: [pid(gone)] });
    expect(cast).toMatchObject({ confirmed: [pid(stays)], unconfirmed: [pid(gone)] });
    expect(undelivered).toEqual([
      { to: pid(gone), type: 'direct', data: { n: 1 }, error: expect.any(DeliveryTimeoutError) },
      { to: pid(gone), type: 'broadcast', data: { n: 2 }, error: expect.any(DeliveryTimeoutError) },
    ]);
  });

  it('disconnect(): every unconfirmed message is reported undelivered with ConnectionClosedError and its await rejects', async () => {
    const [a, b] = await sessions(RELIABLE, RELIABLE);
    const [sender, recipient] = [a as SecureSession, b as SecureSession];
    await sender.send(pid(recipient), 'hello', { await: 'delivered' });
    withhold(sender);
    const undelivered = collect(sender, 'undelivered');
    const waiting = [1, 2].map((i) =>
      sender.send(pid(recipient), i, { await: 'delivered' }).catch((error: unknown) => error),
    );
    const accepted = sender.send(pid(recipient), 3);
    await accepted;
    await sender.disconnect();
    for (const w of waiting) expect(await w).toBeInstanceOf(ConnectionClosedError);
    expect(undelivered.map((e) => [e.to, e.data, e.error instanceof ConnectionClosedError])).toEqual([
      [pid(recipient), 1, true],
      [pid(recipient), 2, true],
      [pid(recipient), 3, true],
    ]);
  });
});

describe('peers that do not run reliable delivery', () => {
  it('a reliable and an at-most-once session talk without errors, at most once between them', async () => {
    const [a, b, c] = await sessions(RELIABLE, {}, RELIABLE);
    const [reliable, plain, other] = [a as SecureSession, b as SecureSession, c as SecureSession];
    const problems = [
      ...[reliable, plain, other].map((s) => collect(s, 'decrypt_error')),
      ...[reliable, plain, other].map((s) => collect(s, 'error')),
      collect(reliable, 'undelivered'),
    ];
    expect(reliable.peers.get(pid(plain))?.delivery).toBe('at-most-once');
    expect(plain.peers.get(pid(reliable))?.delivery).toBe('reliable');
    const atPlain = receive(plain, 3);
    const atReliable = receive(reliable, 2);
    await reliable.send(pid(plain), 'to plain');
    await expect(reliable.send(pid(plain), 'x', { await: 'delivered' })).rejects.toBeInstanceOf(InvalidArgumentError);
    const cast = await reliable.broadcast('to all', { await: 'delivered' });
    expect(cast).toMatchObject({ confirmed: [pid(other)], unconfirmed: [pid(plain)] });
    expect(cast.recipients.sort()).toEqual([pid(plain), pid(other)].sort());
    await plain.send(pid(reliable), 'from plain');
    await plain.broadcast('from plain to all');
    await reliable.send(pid(plain), 'again');
    await Promise.all([atPlain.done, atReliable.done]);
    expect(atPlain.data).toEqual(['to plain', 'to all', 'again']);
    expect(atReliable.data).toEqual(['from plain', 'from plain to all']);
    await expect(plain.send(pid(reliable), 'x', { await: 'delivered' })).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const list of problems) expect(list).toEqual([]);
  });

  it("a relay that hides both sides' reliable delivery makes them talk at most once, without errors", async () => {
    // The advert is not authenticated: strip its `d` from every connect result and push.
    hook = (frame) => frame.replace(/,"d":"r"/g, '');
    const [a, b] = await sessions(RELIABLE, RELIABLE);
    const [one, two] = [a as SecureSession, b as SecureSession];
    const problems = [one, two].flatMap((s) => [collect(s, 'decrypt_error'), collect(s, 'error')]);
    expect(one.peers.get(pid(two))?.delivery).toBe('at-most-once');
    const got = receive(two, 2);
    await one.send(pid(two), 1);
    await expect(one.send(pid(two), 2, { await: 'delivered' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(one.request(pid(two), 1)).rejects.toBeInstanceOf(InvalidArgumentError);
    await one.broadcast(2);
    await got.done;
    expect(got.data).toEqual([1, 2]);
    for (const list of problems) expect(list).toEqual([]);
  });

  it('a relay that claims an at-most-once peer runs reliable delivery: the peer drops what it cannot read, the sender reports it undelivered', async () => {
    const plain = h.session();
    await plain.connect();
    // Only the reliable session is told the lie.
    hook = (frame, target) => (target.privateId !== pid(plain) ? frame.replace(/,"d":"a"/g, ',"d":"r"') : frame);
    const reliable = h.session({ ...RELIABLE, deliveryTimeout: 300 });
    await reliable.connect();
    await untilPeer(plain, () => reliable.privateId);
    expect(reliable.peers.get(pid(plain))?.delivery).toBe('reliable');
    const dropped = next(plain, 'decrypt_error');
    const lost = next(reliable, 'undelivered');
    await expect(reliable.send(pid(plain), 'x', { await: 'delivered' })).rejects.toBeInstanceOf(DeliveryTimeoutError);
    expect(await dropped).toMatchObject({ reason: 'malformed' });
    expect(await lost).toMatchObject({ to: pid(plain), data: 'x' });
  });
});

describe('options', () => {
  it('rejects delivery options without reliable delivery, and reliable delivery without encryption', () => {
    expect(() => h.session({ deliveryTimeout: 5 })).toThrow(/'deliveryTimeout' needs 'delivery: reliable'/);
    expect(() => h.session({ delivery: 'reliable', encryption: false })).toThrow(/needs 'encryption: true'/);
    expect(() => h.session({ delivery: 'sometimes' as 'reliable' })).toThrow(/'delivery' must be/);
    expect(() => h.session({ ...RELIABLE, receiptWindow: 0 })).toThrow(/'receiptWindow' must be an integer/);
    expect(() => h.session({ maxPendingRequests: 3, encryption: false })).toThrow(/needs 'encryption: true'/);
  });

  it("await: 'delivered' needs reliable delivery; await takes 'accepted' or 'delivered'", async () => {
    const [a, b] = await sessions({}, RELIABLE);
    const [plain, reliable] = [a as SecureSession, b as SecureSession];
    await expect(plain.send(pid(reliable), 1, { await: 'delivered' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(reliable.send(pid(plain), 1, { await: 'read' as 'delivered' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});

it('drops, reconnects and disconnect() with messages still unconfirmed: no timer, socket or listener left', async () => {
  const baseline = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) baseline.set(type, (baseline.get(type) ?? 0) + 1);
  const tracked = trackedWebSocket();
  const [a, b] = await sessions(
    { ...RELIABLE, WebSocket: tracked.WebSocket },
    { ...RELIABLE, WebSocket: tracked.WebSocket },
  );
  const [one, two] = [a as SecureSession, b as SecureSession];
  // Stable private IDs: a message for a peer whose session is not known yet waits under its private ID.
  await one.setPrivateId('one');
  await two.setPrivateId('two');
  await untilPeer(two, () => 'one');
  one.handle(() => 'ok');
  for (let i = 0; i < 20; i++) {
    const back = [next(one, 'reconnected'), next(two, 'reconnected')];
    const sent = [one.broadcast(i, { await: 'delivered' }), two.request('one', i)];
    h.server.dropConnections();
    await Promise.all(back);
    await Promise.all(sent);
  }
  withhold(one);
  const left = one.send(pid(two), 'never confirmed', { await: 'delivered' }).catch((error: unknown) => error);
  await Promise.all([one.disconnect(), two.disconnect()]);
  expect(await left).toBeInstanceOf(ConnectionClosedError);
  await h.server.close();
  expect(tracked.sockets.every((ws) => ws.readyState === ws.CLOSED)).toBe(true);
  for (const s of [one, two]) expect(s.eventNames()).toEqual([]);
  const after = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) after.set(type, (after.get(type) ?? 0) + 1);
  for (const [type, count] of after)
    expect({ type, count }).toEqual({ type, count: Math.min(count, baseline.get(type) ?? 0) });
});
