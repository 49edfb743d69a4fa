/**
 * SecureSession against a hostile relay: the reference server with an
 * outgoing hook that duplicates, reorders, reflects, alters, drops and
 * injects frames and replaces published keys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateECDHKeyPair } from '../../src/crypto/ecdh.js';
import {
  ReplayError,
  generateSigningKeyPair,
  exportVerifyKeyRaw,
  identityFingerprint,
  type DecryptErrorEvent,
  type SecureSession,
} from '../../src/secure/index.js';
import type { FrameParty } from '../../src/server/index.js';
import { Harness, collect, next, untilPeer } from './helpers.js';

type Frame = { jsonrpc: '2.0'; id?: unknown; result: Record<string, unknown> & { data?: Record<string, unknown> } };
type Attack = (frame: Frame, raw: string, target: FrameParty) => string | string[] | null;

const h = new Harness();
let attack: Attack | null = null;

beforeEach(async () => {
  attack = null;
  await h.start({
    hooks: {
      outgoing(raw, target) {
        if (!attack) return raw;
        const frame = JSON.parse(raw) as Frame;
        return attack(frame, raw, target);
      },
    },
  });
});
afterEach(() => h.stop());

const isMessageTo = (frame: Frame, target: FrameParty, pid: string): boolean =>
  target.privateId === pid &&
  !('id' in frame) &&
  (frame.result?.type === 'direct' || frame.result?.type === 'broadcast');

const pushFrame = (result: Record<string, unknown>): string => JSON.stringify({ jsonrpc: '2.0', result });

/** Waits until `session` has emitted `count` events of `message` + `decrypt_error` together. */
function settle(
  session: SecureSession,
  count: number,
): { messages: unknown[]; errors: DecryptErrorEvent[]; done: Promise<void> } {
  const messages: unknown[] = [];
  const errors: DecryptErrorEvent[] = [];
  const done = new Promise<void>((resolve) => {
    const check = (): void => {
      if (messages.length + errors.length >= count) resolve();
    };
    session.on('message', (m) => {
      messages.push(m.data);
      check();
    });
    session.on('decrypt_error', (e) => {
      errors.push(e);
      check();
    });
  });
  return { messages, errors, done };
}

async function pair(): Promise<[SecureSession, SecureSession, string, string]> {
  const [a, b] = await h.group(2);
  return [a, b, a.privateId as string, b.privateId as string];
}

describe('a hostile relay', () => {
  it('duplicates every message: each is delivered once, every copy is a replay decrypt_error', async () => {
    const [a, b, , pb] = await pair();
    attack = (frame, raw, target) => (isMessageTo(frame, target, pb) ? [raw, raw] : raw);
    const seen = settle(b, 6);
    await a.send(pb, 1);
    await a.send(pb, 2);
    await a.broadcast(3);
    await seen.done;
    expect(seen.messages).toEqual([1, 2, 3]);
    expect(seen.errors.map((e) => e.reason)).toEqual(['replay', 'replay', 'replay']);
    expect(seen.errors.every((e) => e.error instanceof ReplayError)).toBe(true);
  });

  it('reorders two messages: the older one arriving late is dropped; later traffic flows', async () => {
    const [a, b, , pb] = await pair();
    let held: string | null = null;
    attack = (frame, raw, target) => {
      if (!isMessageTo(frame, target, pb)) return raw;
      if (held === null && (frame.result.data as Record<string, unknown>).n === 1) {
        held = raw;
        return null;
      }
      if (held !== null) {
        const out = [raw, held];
        held = null;
        attack = null;
        return out;
      }
      return raw;
    };
    const seen = settle(b, 3);
    await a.send(pb, 'first');
    await a.send(pb, 'second');
    await a.send(pb, 'third');
    await seen.done;
    expect(seen.messages).toEqual(['second', 'third']);
    expect(seen.errors.map((e) => e.reason)).toEqual(['replay']);
  });

  it('drops a message: the gap is accepted and the next message is delivered', async () => {
    const [a, b, , pb] = await pair();
    attack = (frame, raw, target) => {
      if (!isMessageTo(frame, target, pb)) return raw;
      attack = null;
      return null;
    };
    const got = next(b, 'message');
    const errors = collect(b, 'decrypt_error');
    await a.send(pb, 'lost');
    await a.send(pb, 'kept');
    expect((await got).data).toBe('kept');
    expect(errors).toEqual([]);
  });

  it("reflects a peer's message back to its sender: it holds no key for the sender, not-for-us", async () => {
    const [a, b, pa, pb] = await pair();
    attack = (frame, raw, target) => {
      if (isMessageTo(frame, target, pb)) h.server.sendRaw(pa, pushFrame({ ...frame.result, from: pb }));
      return raw;
    };
    const reflected = next(a, 'decrypt_error');
    const atB = next(b, 'message');
    await a.send(pb, 'to b');
    expect((await atB).data).toBe('to b');
    expect(await reflected).toMatchObject({ reason: 'not-for-us', from: pb });
  });

  it('the push type does not decide the message type; a forged from fails authentication', async () => {
    const [a, b] = await h.group(2);
    const c = h.session();
    await c.connect();
    await Promise.all([untilPeer(b, () => c.privateId), untilPeer(a, () => c.privateId)]);
    const [pa, pb, pc] = [a, b, c].map((s) => s.privateId as string);
    attack = (frame, raw, target) =>
      isMessageTo(frame, target, pb) ? pushFrame({ ...frame.result, type: 'broadcast' }) : raw;
    const got = next(b, 'message');
    await a.send(pb, 'who am i');
    expect(await got).toMatchObject({ type: 'direct', from: pa, data: 'who am i' });
    attack = (frame, raw, target) => (isMessageTo(frame, target, pb) ? pushFrame({ ...frame.result, from: pc }) : raw);
    const received = collect(b, 'message');
    const dropped = next(b, 'decrypt_error');
    await a.send(pb, "in c's name");
    expect(await dropped).toMatchObject({ reason: 'authentication', from: pc });
    expect(received).toEqual([]);
  });

  describe('tampering with an envelope fails closed', () => {
    const flip = (b64: string): string => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[bytes.length - 1] ^= 1;
      return bytes.toString('base64');
    };
    type Envelope = Record<string, unknown> & { k: Record<string, string> };
    const cases: Array<[string, (e: Envelope, kids: { b: string; c: string }) => unknown, string]> = [
      ['type letter', (e) => ({ ...e, t: e.t === 'd' ? 'b' : 'd' }), 'authentication'],
      ['counter raised', (e) => ({ ...e, n: (e.n as number) + 5 }), 'authentication'],
      ['payload bit', (e) => ({ ...e, ct: flip(e.ct as string) }), 'authentication'],
      ['payload not base64', (e) => ({ ...e, ct: '%%%' }), 'authentication'],
      ['wrapped key bit', (e, k) => ({ ...e, k: { ...e.k, [k.b]: flip(e.k[k.b] as string) } }), 'authentication'],
      ["another recipient's wrap", (e, k) => ({ ...e, k: { [k.b]: e.k[k.c] } }), 'authentication'],
      ['own wrap removed', (e, k) => ({ ...e, k: { [k.c]: e.k[k.c] } }), 'not-for-us'],
      ['own wrap not a string', (e, k) => ({ ...e, k: { [k.b]: 7 } }), 'malformed'],
      ['version', (e) => ({ ...e, e2e: 1 }), 'malformed'],
      ['counter not a number', (e) => ({ ...e, n: '1' }), 'malformed'],
      ['counter zero', (e) => ({ ...e, n: 0 }), 'malformed'],
      ['no recipient map', (e) => ({ ...e, k: undefined }), 'malformed'],
      ['plaintext substituted', () => ({ text: 'hello' }), 'plaintext'],
    ];

    it.each(cases)('%s', async (_name, mutate, reason) => {
      const [a, b, c] = await h.group(3);
      const pb = b.privateId as string;
      const kidOf = (s: SecureSession): string =>
        (a.peers.get(s.privateId as string)?.options.e2e as { pk: string } | undefined)?.pk.slice(0, 16) ?? '';
      const kids = { b: kidOf(b), c: kidOf(c) };
      attack = (frame, raw, target) =>
        isMessageTo(frame, target, pb)
          ? pushFrame({ ...frame.result, data: mutate(frame.result.data as Envelope, kids) })
          : raw;
      const received = collect(b, 'message');
      const dropped = next(b, 'decrypt_error');
      const atC = next(c, 'message');
      await a.broadcast('to both');
      expect(await dropped).toMatchObject({ reason });
      expect((await atC).data).toBe('to both');
      attack = null;
      const after = next(b, 'message');
      await a.send(pb, 'after');
      await after;
      expect(received.map((m) => m.data)).toEqual(['after']);
    });
  });

  it('an excluded peer handed a copy of a broadcast cannot read it', async () => {
    const [a, b, c] = await h.group(3);
    const [pb, pc] = [b.privateId as string, c.privateId as string];
    attack = (frame, raw, target) => {
      if (isMessageTo(frame, target, pb)) h.server.sendRaw(pc, raw);
      return raw;
    };
    const atB = next(b, 'message');
    const atC = next(c, 'decrypt_error');
    const cMessages = collect(c, 'message');
    const { recipients } = await a.broadcast('not for c', { exclude: [pc] });
    expect(recipients).toEqual([pb]);
    expect((await atB).data).toBe('not for c');
    expect(await atC).toMatchObject({ reason: 'not-for-us' });
    expect(cMessages).toEqual([]);
  });

  it('a peer that left and came back gets nothing readable from messages after it left', async () => {
    const [a, b, c] = await h.group(3);
    const pb = b.privateId as string;
    await c.disconnect();
    await c.connect();
    await untilPeer(a, () => c.privateId);
    const pc = c.privateId as string;
    const copies: string[] = [];
    attack = (frame, raw, target) => {
      if (isMessageTo(frame, target, pb)) copies.push(raw);
      return raw;
    };
    const atB = next(b, 'message', (m) => m.data === 'second');
    await a.broadcast('first', { exclude: [pc] });
    await a.send(pb, 'second');
    await atB;
    const dropped = collect(c, 'decrypt_error');
    const all = new Promise<void>((resolve) =>
      c.on('decrypt_error', () => dropped.length === copies.length && resolve()),
    );
    const cMessages = collect(c, 'message');
    for (const copy of copies) h.server.sendRaw(pc, copy);
    await all;
    expect(dropped.map((e) => e.reason)).toEqual(['not-for-us', 'not-for-us']);
    expect(cMessages).toEqual([]);
  });

  it('injects a plaintext message and a malformed envelope: both dropped with decrypt_error', async () => {
    const [, b, pa, pb] = await pair();
    const seen = settle(b, 2);
    h.server.sendRaw(pb, pushFrame({ type: 'direct', from: pa, data: { text: 'trust me' } }));
    h.server.sendRaw(pb, pushFrame({ type: 'broadcast', from: pa, data: { e2e: 2, t: 'x' } }));
    await seen.done;
    expect(seen.messages).toEqual([]);
    expect(seen.errors.map((e) => [e.reason, e.from])).toEqual([
      ['plaintext', pa],
      ['malformed', pa],
    ]);
  });

  it('a message in the name of no current peer is dropped as unknown-sender', async () => {
    const [a, b, , pb] = await pair();
    let copy: Frame | null = null;
    attack = (frame, raw, target) => {
      if (isMessageTo(frame, target, pb)) copy = frame;
      return raw;
    };
    const got = next(b, 'message');
    await a.send(pb, 'once');
    await got;
    const dropped = next(b, 'decrypt_error');
    h.server.sendRaw(pb, pushFrame({ ...(copy as unknown as Frame).result, from: 'nobody' }));
    expect(await dropped).toMatchObject({ reason: 'unknown-sender', from: 'nobody' });
  });

  it("a peer announced with this session's key or another peer's is never used", async () => {
    const [a, b, pa, pb] = await pair();
    const own = (b.peers.get(pa)?.options.e2e as { pk: string } | undefined)?.pk as string;
    const keys = collect(b, 'peerkey');
    const both = new Promise<void>((resolve) => b.on('peerkey', () => keys.length === 2 && resolve()));
    const bOwn = (a.peers.get(pb)?.options.e2e as { pk: string } | undefined)?.pk as string;
    h.server.sendRaw(pb, pushFrame({ type: 'session', connect: 'copy-of-a', options: { e2e: { v: 2, pk: own } } }));
    h.server.sendRaw(pb, pushFrame({ type: 'session', connect: 'mirror', options: { e2e: { v: 2, pk: bOwn } } }));
    await both;
    expect(keys.map((e) => [e.privateId, e.fingerprint, e.error?.name])).toEqual([
      ['copy-of-a', null, 'KeyFormatError'],
      ['mirror', null, 'KeyFormatError'],
    ]);
    expect(b.peers.get('mirror')?.usable).toBe(false);
    await expect(b.send('mirror', 'x')).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION' });
  });

  it('replaces a published key without identities: the safety numbers differ and messages fail', async () => {
    const b = h.session();
    await b.connect();
    const pb = b.privateId as string;
    const fake = await generateECDHKeyPair();
    const swap = (options: Record<string, unknown>): void => {
      (options.e2e as Record<string, unknown>).pk = fake.publicKeyB64;
    };
    attack = (frame, raw, target) => {
      if (target.privateId !== pb || !frame.result || frame.result.type !== 'session' || !('connect' in frame.result))
        return raw;
      swap(frame.result.options as Record<string, unknown>);
      return JSON.stringify(frame);
    };
    const keyed = next(b, 'peerkey');
    const a = h.session();
    await a.connect();
    const pa = a.privateId as string;
    await keyed;
    await untilPeer(a, () => pb);
    expect(a.fingerprint(pb)).toMatch(/^\d/);
    expect(b.fingerprint(pa)).not.toBe(a.fingerprint(pb));
    const dropped = next(b, 'decrypt_error');
    await a.send(pb, 'secret');
    expect(await dropped).toMatchObject({ reason: 'authentication' });
    const droppedAtA = next(a, 'decrypt_error');
    await b.send(pa, 'to the fake key');
    expect(await droppedAtA).toMatchObject({ reason: 'not-for-us' });
  });

  it('replaces a signed key: with identities the swap fails closed', async () => {
    const [ia, ib] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair()]);
    const pinned = await identityFingerprint(await exportVerifyKeyRaw(ia.publicKey));
    const b = h.session({ identity: ib, verifyPeerIdentity: (p) => p.identityFingerprint === pinned });
    await b.connect();
    const pb = b.privateId as string;
    const fake = await generateECDHKeyPair();
    attack = (frame, raw, target) => {
      if (target.privateId !== pb || frame.result?.type !== 'session' || !('connect' in frame.result)) return raw;
      ((frame.result.options as Record<string, unknown>).e2e as Record<string, unknown>).pk = fake.publicKeyB64;
      return JSON.stringify(frame);
    };
    const keyed = next(b, 'peerkey');
    const a = h.session({ identity: ia });
    await a.connect();
    const pa = a.privateId as string;
    const event = await keyed;
    expect(event).toMatchObject({ privateId: pa, verified: false, fingerprint: null });
    expect(event.error?.message).toMatch(/bad identity signature/);
    expect(b.peers.get(pa)?.usable).toBe(false);
    await expect(b.send(pa, 'x')).rejects.toMatchObject({ code: 'ERR_AUTHENTICATION' });
    const dropped = next(b, 'decrypt_error');
    await untilPeer(a, () => pb);
    await a.send(pb, 'hello');
    expect((await dropped).reason).toBe('untrusted-peer');
  });

  it('a relay that re-signs a swapped key with its own identity is caught by pinning', async () => {
    const [ia, ib, relay] = await Promise.all([
      generateSigningKeyPair(),
      generateSigningKeyPair(),
      generateSigningKeyPair(),
    ]);
    const pinned = await identityFingerprint(await exportVerifyKeyRaw(ia.publicKey));
    const b = h.session({ identity: ib, verifyPeerIdentity: (p) => p.identityFingerprint === pinned });
    await b.connect();
    const pb = b.privateId as string;
    // The relay runs its own session with the relay identity and copies that advert over a's.
    const mitm = h.session({ identity: relay });
    let forged: Record<string, unknown> | null = null;
    attack = (frame, raw, target) => {
      if (target.privateId !== pb || frame.result?.type !== 'session' || !('connect' in frame.result)) return raw;
      const options = frame.result.options as Record<string, unknown>;
      if (forged === null) {
        forged = options.e2e as Record<string, unknown>;
        return null;
      }
      options.e2e = forged;
      return JSON.stringify(frame);
    };
    await mitm.connect();
    const keyed = next(b, 'peerkey');
    const a = h.session({ identity: ia });
    await a.connect();
    const event = await keyed;
    expect(event).toMatchObject({
      privateId: a.privateId,
      verified: false,
      fingerprint: null,
      identityFingerprint: mitm.identityFingerprint,
    });
    expect(event.identityFingerprint).not.toBe(pinned);
  });

  it('a second announcement of a known peer with another key: peerkey reports the change; the old key stops working', async () => {
    const [a, b, pa, pb] = await pair();
    const before = b.fingerprint(pa);
    const fake = await generateECDHKeyPair();
    const changed = next(b, 'peerkey');
    h.server.sendRaw(
      pb,
      pushFrame({ type: 'session', connect: pa, options: { wss: true, e2e: { v: 2, pk: fake.publicKeyB64 } } }),
    );
    expect(await changed).toMatchObject({ privateId: pa, previousFingerprint: before });
    expect(b.fingerprint(pa)).not.toBe(before);
    const dropped = next(b, 'decrypt_error');
    await a.send(pb, 'with the real key');
    expect(await dropped).toMatchObject({ reason: 'authentication' });
  });
});
