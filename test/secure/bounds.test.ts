/**
 * SecureSession's bounds against a hostile relay: the incoming backlog (frames
 * and bytes waiting for keys or decryption) and the retired keys remembered
 * for replay protection. Past either: an error, the connection closed (1008),
 * its backlog released, and a reconnect that works.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  generateSigningKeyPair,
  type PeerIdentityInfo,
  ProtocolError,
  QueueFullError,
  type SecureSession,
  type SecureSessionOptions,
} from '../../src/secure/index.js';
import type { FrameParty } from '../../src/server/index.js';
import { collect, Harness, next, untilPeer } from './helpers.js';

const h = new Harness();
/** Every message push the relay sends to `watched`. */
let recorded: string[] = [];
let watched: string | null = null;

beforeEach(async () => {
  recorded = [];
  watched = null;
  await h.start({
    // The relay floods faster than any client reads: the reference server's own outbound
    // bound (1013 past maxBufferedBytes) would cut it first, and these tests are about the client's bounds.
    maxBufferedBytes: 64 * 1024 * 1024,
    hooks: {
      outgoing(raw: string, target: FrameParty) {
        if (watched && target.privateId === watched && raw.includes('"e2e":2')) recorded.push(raw);
        return raw;
      },
    },
  });
});
afterEach(() => h.stop());

const push = (result: Record<string, unknown>): string => JSON.stringify({ jsonrpc: '2.0', result });

/**
 * b pins identities with a `verifyPeerIdentity` the test can hold, a is its peer.
 * Holding the pin while the relay announces a again is how frames pile up in b's backlog.
 */
async function heldPair(limits: Partial<SecureSessionOptions>) {
  const pin = { holding: false, asked: 0, answer: (_ok: boolean): void => {} };
  const verifyPeerIdentity = (_peer: PeerIdentityInfo): boolean | Promise<boolean> => {
    pin.asked++;
    return pin.holding ? new Promise<boolean>((resolve) => (pin.answer = resolve)) : true;
  };
  const b = h.session({ identity: await generateSigningKeyPair(), verifyPeerIdentity, ...limits });
  await b.connect();
  const a = h.session({ identity: await generateSigningKeyPair() });
  await a.connect();
  await untilPeer(b, () => a.privateId);
  await untilPeer(a, () => b.privateId);
  const [pa, pb] = [a.privateId as string, b.privateId as string];
  watched = pb;
  const got = next(b, 'message');
  await a.send(pb, 'before');
  await got;
  // From here the pin is held: the relay's new announcement of a blocks b's backlog.
  pin.holding = true;
  const advert = b.peers.get(pa)?.options;
  h.server.sendRaw(pb, push({ type: 'session', disconnect: pa }));
  h.server.sendRaw(pb, push({ type: 'session', connect: pa, options: advert }));
  return { a, b, pa, pb, pin, envelope: recorded[0] as string };
}

/** What b reports when it goes past a bound: the error, with the backlog as it was then, and the close. */
function overflowOf(b: SecureSession) {
  let backlog = { frames: -1, bytes: -1 };
  b.once('error', () => {
    backlog = b.backlog;
  });
  return { error: next(b, 'error'), close: next(b, 'close'), backlog: () => backlog };
}

describe('the incoming backlog', () => {
  it('a flood past maxBacklogFrames: error, close 1008, backlog released, a reconnect that works', async () => {
    const { a, b, pa, pb, pin, envelope } = await heldPair({ maxBacklogFrames: 20 });
    const messages = collect(b, 'message');
    const drops = collect(b, 'decrypt_error');
    // 1 announcement + 19 messages: exactly at the bound, nothing is refused.
    for (let i = 0; i < 19; i++) h.server.sendRaw(pb, envelope);
    await b.getPrivateId();
    expect(b.backlog.frames).toBe(20);
    expect(b.state).toBe('connected');
    const over = overflowOf(b);
    const back = next(b, 'reconnected');
    b.once('error', () => {
      pin.holding = false;
    });
    for (let i = 0; i < 1000; i++) h.server.sendRaw(pb, envelope);
    const error = await over.error;
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error.message).toMatch(/incoming backlog full: 20 frames .*maxBacklogFrames 20/);
    expect(over.backlog().frames).toBe(20);
    expect(await over.close).toEqual({ code: 1008, reason: 'client limit exceeded', requested: false });
    expect(b.backlog).toEqual({ frames: 0, bytes: 0 });
    await back;
    pin.answer(true);
    await untilPeer(a, () => b.privateId);
    await untilPeer(b, () => pa);
    const after = next(b, 'message');
    await a.send(b.privateId as string, 'after');
    expect(await after).toMatchObject({ from: pa, data: 'after' });
    // What waited was dropped with its connection: nothing of the flood reached a listener.
    expect(messages.map((m) => m.data)).toEqual(['after']);
    expect(drops).toEqual([]);
    expect(b.backlog).toEqual({ frames: 0, bytes: 0 });
  });

  it('frames past maxBacklogBytes: the same, and the bytes waiting never pass the bound', async () => {
    const maxBacklogBytes = 256 * 1024;
    const { b, pb, pa, pin } = await heldPair({ maxFrameSize: 64 * 1024, maxBacklogBytes });
    const big = (n: number): string =>
      push({ type: 'direct', from: pa, data: { e2e: 2, t: 'd', n, ct: 'A'.repeat(50_000), k: {} } });
    for (let i = 1; i <= 4; i++) h.server.sendRaw(pb, big(i));
    await b.getPrivateId();
    expect(b.backlog.frames).toBe(5);
    expect(b.backlog.bytes).toBeGreaterThan(200_000);
    const over = overflowOf(b);
    const back = next(b, 'reconnected');
    b.once('error', () => {
      pin.holding = false;
    });
    for (let i = 5; i < 200; i++) h.server.sendRaw(pb, big(i));
    const error = await over.error;
    expect(error).toBeInstanceOf(QueueFullError);
    expect(error.message).toMatch(/maxBacklogBytes 262144/);
    expect(over.backlog().bytes).toBeLessThanOrEqual(maxBacklogBytes);
    expect(over.backlog().frames).toBeLessThan(10);
    expect((await over.close).code).toBe(1008);
    await back;
    expect(b.state).toBe('connected');
    pin.answer(true);
  });
});

describe('retired keys', () => {
  it('past maxRetiredPeerKeys the session renews its keys; old envelopes are unreadable after', async () => {
    const b = h.session({ maxRetiredPeerKeys: 1 });
    await b.connect();
    const [a, c] = [h.session(), h.session()];
    await a.connect();
    await c.connect();
    const pb = b.privateId as string;
    for (const s of [a, c]) {
      await untilPeer(b, () => s.privateId);
      await untilPeer(s, () => pb);
    }
    watched = pb;
    const [pa, pc] = [a.privateId as string, c.privateId as string];
    const both = new Promise<void>((resolve) => {
      let n = 0;
      b.on('message', () => ++n === 2 && resolve());
    });
    await a.send(pb, 'from a');
    await c.send(pb, 'from c');
    await both;
    const oldFingerprint = b.fingerprint();
    const errors = collect(b, 'error');
    // The relay removes a: its key is remembered (1 of 1). Then c: one too many.
    const aGone = next(b, 'peerdisconnect');
    h.server.sendRaw(pb, push({ type: 'session', disconnect: pa }));
    await aGone;
    expect(errors).toEqual([]);
    const close = next(b, 'close');
    const back = next(b, 'reconnected');
    h.server.sendRaw(pb, push({ type: 'session', disconnect: pc }));
    expect(await close).toMatchObject({ code: 1008, requested: false });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0]?.message).toMatch(/more than 1 peer keys .*maxRetiredPeerKeys/);
    await back;
    expect(b.fingerprint()).not.toBe(oldFingerprint);
    await untilPeer(b, () => pa);
    // What the relay recorded was sealed for b's old key: nothing in it is for b now.
    const dropped = next(b, 'decrypt_error');
    h.server.sendRaw(b.privateId as string, recorded[0] as string);
    expect(await dropped).toMatchObject({ reason: 'not-for-us', from: pa });
  });
});
