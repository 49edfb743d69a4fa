/**
 * A hostile relay lying about presence: it announces, removes, re-announces and
 * renames peers as it likes, then replays what it recorded. Replay state is bound
 * to the key pair, not the private ID; renames cannot overwrite a peer; every key
 * change is reported and checked again. With and without identity keys.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateECDHKeyPair } from '../../src/crypto/ecdh.js';
import {
  type DecryptErrorEvent,
  generateSigningKeyPair,
  KeyFormatError,
  type PeerIdentityInfo,
  ProtocolError,
  ReplayError,
  type SecureMessageEvent,
  type SecureSession,
  type SecureSessionOptions,
} from '../../src/secure/index.js';
import type { FrameParty } from '../../src/server/index.js';
import { collect, Harness, next, untilPeer } from './helpers.js';

type Push = { jsonrpc: '2.0'; id?: unknown; result?: { type?: string; from?: string; data?: unknown } };

const h = new Harness();
/** Frames the relay recorded: every message push to `watch.target` from `watch.from`. */
let recorded: string[] = [];
let watch: { from: string; target: string } | null = null;
/** Resolves the promise of {@link nextRecorded}. */
let onRecord: ((raw: string) => void) | null = null;

beforeEach(async () => {
  recorded = [];
  watch = null;
  await h.start({
    hooks: {
      outgoing(raw: string, target: FrameParty) {
        const frame = JSON.parse(raw) as Push;
        if (watch && target.privateId === watch.target && frame.result?.from === watch.from && !('id' in frame)) {
          recorded.push(raw);
          onRecord?.(raw);
          onRecord = null;
        }
        return raw;
      },
    },
  });
});
afterEach(() => h.stop());

/** The next frame the relay records. */
const nextRecorded = (): Promise<string> => new Promise((resolve) => (onRecord = resolve));

const push = (result: Record<string, unknown>): string => JSON.stringify({ jsonrpc: '2.0', result });
/** A recorded message push as if from `from`. */
const as = (raw: string, from: string): string => {
  const frame = JSON.parse(raw) as { result: Record<string, unknown> };
  return push({ ...frame.result, from });
};

/** A session's view of one peer, and the events it reported. */
function observe(s: SecureSession) {
  return {
    messages: collect(s, 'message'),
    drops: collect(s, 'decrypt_error'),
    keys: collect(s, 'peerkey'),
    errors: collect(s, 'error'),
    pids: collect(s, 'peerpid'),
    joins: collect(s, 'peerconnect'),
    leaves: collect(s, 'peerdisconnect'),
  };
}

/** Waits until `s` has emitted `count` more message + decrypt_error events in all. */
function settled(s: SecureSession, count: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => {
    const step = (): void => {
      if (++seen < count) return;
      s.off('message', step);
      s.off('decrypt_error', step);
      resolve();
    };
    s.on('message', step);
    s.on('decrypt_error', step);
  });
}

const reasons = (drops: DecryptErrorEvent[]): string[] => drops.map((d) => d.reason);
const delivered = (messages: SecureMessageEvent[]): Array<[string, unknown]> => messages.map((m) => [m.from, m.data]);

describe.each([
  ['without identity keys', false],
  ['with identity keys', true],
])('a hostile relay, %s', (_name, identities) => {
  /** Questions `verifyPeerIdentity` was asked (when identities are on). */
  let asked: PeerIdentityInfo[] = [];
  beforeEach(() => {
    asked = [];
  });

  async function options(watching = false): Promise<Partial<SecureSessionOptions>> {
    if (!identities) return {};
    return {
      identity: await generateSigningKeyPair(),
      ...(watching && { verifyPeerIdentity: (p: PeerIdentityInfo) => asked.push(p) > 0 }),
    };
  }

  /** b (which the test watches), then a (and c with `three`), each keyed with the others; a's messages to b are recorded. */
  async function peers(three = false) {
    const b = h.session(await options(true));
    await b.connect();
    const a = h.session(await options());
    await a.connect();
    const c = three ? h.session(await options()) : undefined;
    await c?.connect();
    for (const [x, y] of [[a, b], [b, a], ...(c ? [[b, c] as const, [c, b] as const, [a, c] as const] : [])] as const)
      await untilPeer(x, () => y.privateId);
    const [pa, pb] = [a.privateId as string, b.privateId as string];
    watch = { from: pa, target: pb };
    const advert = b.peers.get(pa)?.options as Record<string, unknown>;
    asked = [];
    return { a, b, c, pa, pb, advert, seen: observe(b) };
  }

  /** a sends `data` to b, one message at a time; resolves once b has it. */
  async function sendAll(a: SecureSession, b: SecureSession, data: unknown[]): Promise<void> {
    const done = settled(b, data.length);
    for (const d of data) await a.send(b.privateId as string, d);
    await done;
  }

  it('re-announce with the same key, then replay: every replay is dropped, the counter goes on', async () => {
    const { a, b, pa, pb, advert, seen } = await peers();
    await sendAll(a, b, ['one', 'two']);
    const before = b.fingerprint(pa);
    const back = next(b, 'peerkey');
    h.server.sendRaw(pb, push({ type: 'session', disconnect: pa }));
    h.server.sendRaw(pb, push({ type: 'session', connect: pa, options: advert }));
    // The same key announced again without a removal changes nothing.
    h.server.sendRaw(pb, push({ type: 'session', connect: pa, options: advert }));
    expect(await back).toMatchObject({ privateId: pa, fingerprint: before, verified: identities ? true : null });
    const drops = settled(b, recorded.length);
    for (const frame of recorded) h.server.sendRaw(pb, frame);
    await drops;
    await sendAll(a, b, ['three']);
    expect(delivered(seen.messages)).toEqual([
      [pa, 'one'],
      [pa, 'two'],
      [pa, 'three'],
    ]);
    expect(reasons(seen.drops)).toEqual(['replay', 'replay']);
    expect(seen.drops.every((d) => d.error instanceof ReplayError)).toBe(true);
    expect(seen.leaves.map((e) => e.privateId)).toEqual([pa]);
    expect(seen.joins.map((e) => e.privateId)).toEqual([pa]);
    expect(seen.keys.map((e) => [e.privateId, e.fingerprint, e.previousFingerprint])).toEqual([
      [pa, before, undefined],
    ]);
    expect(asked.map((p) => p.privateId)).toEqual(identities ? [pa] : []);
  });

  it('re-announce under a new private ID, then replay: the key keeps its counter, never two IDs at once', async () => {
    const { a, b, pa, pb, advert, seen } = await peers();
    await sendAll(a, b, ['one', 'two']);
    const before = b.fingerprint(pa);
    // While a is listed, its key under a second private ID is refused.
    const refused = next(b, 'peerkey', (e) => e.privateId === 'mallory');
    h.server.sendRaw(pb, push({ type: 'session', connect: 'mallory', options: advert }));
    const refusal = await refused;
    expect(refusal).toMatchObject({ fingerprint: null });
    expect(refusal.error).toBeInstanceOf(KeyFormatError);
    expect(b.peers.get('mallory')?.usable).toBe(false);
    let drops = settled(b, recorded.length * 2);
    for (const frame of recorded) h.server.sendRaw(pb, as(frame, 'mallory'));
    for (const frame of recorded) h.server.sendRaw(pb, frame);
    await drops;
    expect(reasons(seen.drops)).toEqual(['untrusted-peer', 'untrusted-peer', 'replay', 'replay']);
    // a is removed; its key comes back as 'trudy' and continues from its counter.
    const trudy = next(b, 'peerkey', (e) => e.privateId === 'trudy');
    h.server.sendRaw(pb, push({ type: 'session', disconnect: pa }));
    h.server.sendRaw(pb, push({ type: 'session', connect: 'trudy', options: advert }));
    expect(await trudy).toMatchObject({ fingerprint: before });
    drops = settled(b, recorded.length);
    for (const frame of recorded) h.server.sendRaw(pb, as(frame, 'trudy'));
    await drops;
    expect(reasons(seen.drops).slice(4)).toEqual(['replay', 'replay']);
    expect(delivered(seen.messages)).toEqual([
      [pa, 'one'],
      [pa, 'two'],
    ]);
    // a's own traffic now reaches b under a private ID b no longer lists.
    const lost = next(b, 'decrypt_error');
    await a.send(pb, 'three');
    expect(await lost).toMatchObject({ reason: 'unknown-sender', from: pa });
    expect(seen.messages).toHaveLength(2);
  });

  it('bad key, then the real key again, then replay: both are key changes, checked again; replays dropped', async () => {
    const { a, b, pa, pb, advert, seen } = await peers();
    await sendAll(a, b, ['one', 'two']);
    const before = b.fingerprint(pa);
    const fake = await generateECDHKeyPair();
    const e2e = advert.e2e as Record<string, unknown>;
    const changed = next(b, 'peerkey');
    h.server.sendRaw(
      pb,
      push({ type: 'session', connect: pa, options: { ...advert, e2e: { ...e2e, pk: fake.publicKeyB64 } } }),
    );
    const bad = await changed;
    expect(bad).toMatchObject({ privateId: pa, previousFingerprint: before });
    // Without identities the fake key is usable (only safety numbers show it); with them its signature fails.
    expect(bad.fingerprint === null).toBe(identities);
    const restored = next(b, 'peerkey');
    h.server.sendRaw(pb, push({ type: 'session', connect: pa, options: advert }));
    expect(await restored).toMatchObject({ privateId: pa, fingerprint: before, previousFingerprint: bad.fingerprint });
    // With identities the bad key's signature fails before any pin is asked; the real key is asked again.
    expect(asked.map((p) => p.privateId)).toEqual(identities ? [pa] : []);
    const drops = settled(b, recorded.length);
    for (const frame of recorded) h.server.sendRaw(pb, frame);
    await drops;
    await sendAll(a, b, ['three']);
    expect(reasons(seen.drops)).toEqual(['replay', 'replay']);
    expect(delivered(seen.messages)).toEqual([
      [pa, 'one'],
      [pa, 'two'],
      [pa, 'three'],
    ]);
    expect(seen.keys.map((e) => e.privateId)).toEqual([pa, pa]);
    expect(seen.leaves).toEqual([]);
  });

  it('rename onto a connected peer: refused with an error, both peers unchanged, nothing misattributed', async () => {
    const { a, b, c, pa, pb, seen } = await peers(true);
    const pc = (c as SecureSession).privateId as string;
    const [fa, fc] = [b.fingerprint(pa), b.fingerprint(pc)];
    const [viewA, viewC] = [b.peers.get(pa), b.peers.get(pc)];
    const refused = next(b, 'error');
    h.server.sendRaw(pb, push({ type: 'session', change: { oldPrivateID: pa, newPrivateID: pc } }));
    const error = await refused;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toMatch(new RegExp(`rename ${pa} -> ${pc} refused`));
    expect([b.peers.get(pa), b.peers.get(pc)]).toEqual([viewA, viewC]);
    expect([b.fingerprint(pa), b.fingerprint(pc)]).toEqual([fa, fc]);
    await sendAll(a, b, ['from a']);
    await sendAll(c as SecureSession, b, ['from c']);
    // a's message relayed in c's name fails: c's keys do not open it.
    const forged = next(b, 'decrypt_error');
    const copy = nextRecorded();
    await a.send(pb, 'really from a');
    h.server.sendRaw(pb, as(await copy, pc));
    expect(await forged).toMatchObject({ reason: 'authentication', from: pc });
    expect(delivered(seen.messages)).toEqual([
      [pa, 'from a'],
      [pc, 'from c'],
      [pa, 'really from a'],
    ]);
    expect(seen.pids).toEqual([]);
    expect(seen.keys).toEqual([]);
    expect(seen.errors).toHaveLength(1);
  });
});

describe('a key change with identity keys', () => {
  it('holds every later message until verifyPeerIdentity answers', async () => {
    // Answered at once until `holding`; then the question is handed to `held` and waits for its answer.
    let holding = false;
    let onHeld: (question: { privateId: string; answer: (ok: boolean) => void }) => void = () => {};
    const held = new Promise<{ privateId: string; answer: (ok: boolean) => void }>((resolve) => (onHeld = resolve));
    const verifyPeerIdentity = ({ privateId }: PeerIdentityInfo): boolean | Promise<boolean> =>
      holding ? new Promise<boolean>((answer) => onHeld({ privateId, answer })) : true;
    const b = h.session({ identity: await generateSigningKeyPair(), verifyPeerIdentity });
    await b.connect();
    const a = h.session({ identity: await generateSigningKeyPair() });
    await a.connect();
    await untilPeer(b, () => a.privateId);
    await untilPeer(a, () => b.privateId);
    holding = true;
    const [pa, pb] = [a.privateId as string, b.privateId as string];
    watch = { from: pa, target: pb };
    const advert = b.peers.get(pa)?.options as Record<string, unknown>;
    const seen = observe(b);
    const done = settled(b, 2);
    await a.send(pb, 'one');
    await a.send(pb, 'two');
    await done;
    // The relay announces a again (a key change back to the same key after a bad one): the pin is asked again.
    const fake = await generateECDHKeyPair();
    const bad = next(b, 'peerkey');
    h.server.sendRaw(
      pb,
      push({
        type: 'session',
        connect: pa,
        options: { ...advert, e2e: { ...(advert.e2e as object), pk: fake.publicKeyB64 } },
      }),
    );
    expect(await bad).toMatchObject({ verified: false, fingerprint: null });
    h.server.sendRaw(pb, push({ type: 'session', connect: pa, options: advert }));
    for (const frame of recorded.slice(0, 2)) h.server.sendRaw(pb, frame);
    await a.send(pb, 'three');
    // A reply sent after all of that reaches b after it: b has received everything, delivered nothing yet.
    await b.getPrivateId();
    const question = await held;
    expect(question.privateId).toBe(pa);
    expect(seen.messages.map((m) => m.data)).toEqual(['one', 'two']);
    expect(seen.drops).toEqual([]);
    expect(b.backlog.frames).toBe(4);
    expect(b.backlog.bytes).toBeGreaterThan(0);
    const rest = settled(b, 3);
    question.answer(true);
    await rest;
    expect(reasons(seen.drops)).toEqual(['replay', 'replay']);
    expect(delivered(seen.messages)).toEqual([
      [pa, 'one'],
      [pa, 'two'],
      [pa, 'three'],
    ]);
    expect(seen.keys.map((e) => [e.verified, e.previousFingerprint === null])).toEqual([
      [false, false],
      [true, true],
    ]);
    expect(b.backlog).toEqual({ frames: 0, bytes: 0 });
  });
});
