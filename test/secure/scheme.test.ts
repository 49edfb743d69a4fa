/** Unit tests of the scheme, envelopes, options and the ordered outbox (no network). */
import { describe, expect, it } from 'vitest';
import { decryptBytes, encryptBytes, importAesGcmKey } from '../../src/crypto/aead.js';
import { base64ToBytes, bytesToBase64 } from '../../src/crypto/base64.js';
import { utf8Decode, utf8Encode } from '../../src/crypto/bytes.js';
import { importPeerPublicKey } from '../../src/crypto/ecdh.js';
import { DecryptError, InvalidArgumentError, KeyFormatError, AuthenticationError, ProtocolError, QueueFullError } from '../../src/errors.js';
import { openEnvelope, sealMulti, sealSingle, type SealTarget } from '../../src/secure/cipher.js';
import { parseEnvelope, type MultiEnvelope } from '../../src/secure/envelope.js';
import { createLocalKeys, readPeerAdvert, type LocalKeys } from '../../src/secure/local-keys.js';
import { backoffDelay, resolveSecureOptions, secureSessionDefaults } from '../../src/secure/options.js';
import { Outbox } from '../../src/secure/outbox.js';
import { buildAad, counterIv, derivePairKeys, Format, keyFingerprint, pairFingerprint, type PairKeys } from '../../src/secure/scheme.js';
import { generateSigningKeyPair } from '../../src/crypto/signing.js';

async function keysBetween(x: LocalKeys, y: LocalKeys, info = 'app'): Promise<PairKeys> {
  return derivePairKeys(x.privateKey, x.publicRaw, await importPeerPublicKey(y.publicRaw), y.publicRaw, info);
}

const target = (to: LocalKeys, keys: PairKeys, n: number): SealTarget => ({ publicRaw: to.publicRaw, kid: to.kid, sendKey: keys.send, n });
const text = (bytes: Uint8Array): string => utf8Decode(bytes);

describe('key derivation', () => {
  it('gives each direction its own key, agreed by both ends, bound to both public keys and the label', async () => {
    const [a, b, c] = await Promise.all([createLocalKeys('app', null), createLocalKeys('app', null), createLocalKeys('app', null)]);
    const ab = await keysBetween(a, b);
    const ba = await keysBetween(b, a);
    const iv = counterIv(1);
    const ct = await encryptBytes({ key: ab.send, iv, plaintext: utf8Encode('hi') });
    expect(text(await decryptBytes({ key: ba.receive, iv, ciphertext: ct }))).toBe('hi');
    // The other direction's key, another pair's key, another label: all fail.
    await expect(decryptBytes({ key: ba.send, iv, ciphertext: ct })).rejects.toBeInstanceOf(DecryptError);
    await expect(decryptBytes({ key: ab.receive, iv, ciphertext: ct })).rejects.toBeInstanceOf(DecryptError);
    const ca = await keysBetween(c, a);
    await expect(decryptBytes({ key: ca.receive, iv, ciphertext: ct })).rejects.toBeInstanceOf(DecryptError);
    const otherLabel = await keysBetween(b, a, 'other-app');
    await expect(decryptBytes({ key: otherLabel.receive, iv, ciphertext: ct })).rejects.toBeInstanceOf(DecryptError);
  });

  it('safety numbers: symmetric per pair, label-bound, six groups of five digits', async () => {
    const [a, b] = await Promise.all([createLocalKeys('app', null), createLocalKeys('app', null)]);
    const ab = await pairFingerprint('app', a.publicRaw, b.publicRaw);
    expect(ab).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(await pairFingerprint('app', b.publicRaw, a.publicRaw)).toBe(ab);
    expect(await pairFingerprint('other', a.publicRaw, b.publicRaw)).not.toBe(ab);
    expect(a.fingerprint).toBe(await keyFingerprint('app', a.publicRaw));
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it('counter IVs are 4 zero bytes then the 64-bit big-endian counter; AAD differs in every bound field', () => {
    expect([...counterIv(0x0102030405)]).toEqual([0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
    const sender = new Uint8Array(65).fill(1);
    const recipient = new Uint8Array(65).fill(2);
    const base = { format: Format.single, type: 'direct' as const, sender, recipient, counter: 7 };
    const variants = [
      base,
      { ...base, format: Format.wrap },
      { ...base, type: 'broadcast' as const },
      { ...base, sender: recipient, recipient: sender },
      { ...base, counter: 8 },
    ].map((f) => bytesToBase64(buildAad(f as Parameters<typeof buildAad>[0])));
    expect(new Set(variants).size).toBe(variants.length);
  });
});

describe('envelopes', () => {
  it('single recipient: round trip; the counter and type are authenticated', async () => {
    const [a, b] = await Promise.all([createLocalKeys('app', null), createLocalKeys('app', null)]);
    const [ab, ba] = await Promise.all([keysBetween(a, b), keysBetween(b, a)]);
    const env = await sealSingle(a, target(b, ab, 3), 'direct', utf8Encode('"x"'));
    expect(env).toMatchObject({ e2e: 1, t: 'd', s: a.kid, r: b.kid, n: 3 });
    const ctx = { sender: a, recipient: b, receiveKey: ba.receive };
    const open = (e: object) => openEnvelope(ctx, parseEnvelope({ ...e }, b.kid));
    expect(text(await open(env))).toBe('"x"');
    await expect(open({ ...env, n: 4 })).rejects.toBeInstanceOf(DecryptError);
    await expect(open({ ...env, t: 'b' })).rejects.toBeInstanceOf(DecryptError);
    // Addressed to another key: nothing to open.
    expect(parseEnvelope({ ...env }, a.kid).n).toBeNull();
    await expect(openEnvelope(ctx, parseEnvelope({ ...env }, a.kid))).rejects.toBeInstanceOf(DecryptError);
  });

  it('several recipients: each opens its own wrap; a recipient cannot pass off another payload under the sender', async () => {
    const [a, b, c] = await Promise.all([createLocalKeys('app', null), createLocalKeys('app', null), createLocalKeys('app', null)]);
    const [ab, ac, ba, ca] = await Promise.all([keysBetween(a, b), keysBetween(a, c), keysBetween(b, a), keysBetween(c, a)]);
    const env = await sealMulti(a, [target(b, ab, 1), target(c, ac, 9)], 'broadcast', utf8Encode('"all"'));
    expect(Object.keys(env.k).sort()).toEqual([b.kid, c.kid].sort());
    const openAt = (to: LocalKeys, receiveKey: CryptoKey, e: MultiEnvelope) => openEnvelope({ sender: a, recipient: to, receiveKey }, parseEnvelope({ ...e }, to.kid));
    expect(text(await openAt(b, ba.receive, env))).toBe('"all"');
    expect(text(await openAt(c, ca.receive, env))).toBe('"all"');
    expect(parseEnvelope({ ...env }, a.kid).n).toBeNull();

    // b learns the message key from its wrap and re-encrypts a payload of its own choosing for c.
    const wrapAad = buildAad({ format: Format.wrap, type: 'broadcast', sender: a.publicRaw, recipient: b.publicRaw, counter: 1, payload: base64ToBytes(env.ct) });
    const messageKeyRaw = await decryptBytes({ key: ba.receive, iv: counterIv(1), ciphertext: base64ToBytes((env.k[b.kid] as [number, string])[1]), aad: wrapAad });
    const forgedPayload = await encryptBytes({
      key: await importAesGcmKey(messageKeyRaw),
      iv: new Uint8Array(12),
      plaintext: utf8Encode('"forged"'),
      aad: buildAad({ format: Format.payload, type: 'broadcast', sender: a.publicRaw }),
    });
    const forged: MultiEnvelope = { ...env, ct: bytesToBase64(forgedPayload) };
    await expect(openAt(c, ca.receive, forged)).rejects.toBeInstanceOf(DecryptError);
  });

  it('parseEnvelope names the bad field', () => {
    const good = { e2e: 1, t: 'd', s: 'A'.repeat(16), r: 'B'.repeat(16), n: 1, ct: 'AAAA' };
    expect(parseEnvelope(good, 'B'.repeat(16))).toEqual({ t: 'd', s: 'A'.repeat(16), ct: 'AAAA', n: 1 });
    const multi = { e2e: 1, t: 'b', s: 'A'.repeat(16), ct: 'AAAA', k: { ['B'.repeat(16)]: [3, 'BBBB'] } };
    expect(parseEnvelope(multi, 'B'.repeat(16))).toEqual({ t: 'b', s: 'A'.repeat(16), ct: 'AAAA', n: 3, wrapped: 'BBBB' });
    expect(() => parseEnvelope({ ...multi, k: { ['B'.repeat(16)]: [0, 'BBBB'] } }, 'B'.repeat(16))).toThrow(/recipient entry/);
    for (const [patch, field] of [
      [{ e2e: 2 }, 'version'],
      [{ t: 'x' }, "'t'"],
      [{ s: 'short' }, "'s'"],
      [{ r: 5 }, "'r'"],
      [{ n: 0 }, "'n'"],
      [{ n: 2 ** 53 }, "'n'"],
      [{ ct: 1 }, "'ct'"],
      [{ k: [] }, "'k'"],
    ] as const) {
      expect(() => parseEnvelope({ ...good, ...patch }, 'B'.repeat(16))).toThrow(ProtocolError);
      expect(() => parseEnvelope({ ...good, ...patch }, 'B'.repeat(16))).toThrow(field);
    }
  });

  it('readPeerAdvert checks the published key and the identity pair', async () => {
    const a = await createLocalKeys('app', null);
    expect(readPeerAdvert({ wss: true })).toBeNull();
    expect(readPeerAdvert({ e2e: a.advert })?.publicB64).toBe(a.publicB64);
    expect(() => readPeerAdvert({ e2e: 'x' })).toThrow(KeyFormatError);
    expect(() => readPeerAdvert({ e2e: { v: 2, pk: a.publicB64 } })).toThrow(/version/);
    expect(() => readPeerAdvert({ e2e: { v: 1, pk: a.publicB64.slice(0, 40) } })).toThrow(KeyFormatError);
    expect(() => readPeerAdvert({ e2e: { v: 1, pk: a.publicB64, sig: 'AAAA' } })).toThrow(AuthenticationError);
    // Only the uncompressed 65-byte form of an identity key, whatever the platform would import.
    expect(() => readPeerAdvert({ e2e: { v: 1, pk: a.publicB64, idk: a.publicB64.slice(0, 44), sig: 'AAAA' } })).toThrow(/e2e.idk is 33 bytes.*65-byte uncompressed P-256 point/);
    expect(() => readPeerAdvert({ e2e: { v: 1, pk: a.publicB64, idk: a.publicB64, sig: 5 } })).toThrow(KeyFormatError);
  });
});

describe('options', () => {
  const url = 'ws://127.0.0.1:1';
  it('fills in the defaults', () => {
    const o = resolveSecureOptions({ url });
    expect(o).toMatchObject({ info: secureSessionDefaults.info, encryption: true, queueSize: 100, identity: null, requirePeerIdentity: false });
    expect(o.reconnect).toEqual({ enabled: true, maxRetries: Infinity, interval: 1000, backoffMultiplier: 2, maxInterval: 30_000, jitter: 0.5 });
    expect(o.client).toEqual({ url });
  });

  it('rejects bad values and combinations, naming the options', async () => {
    const identity = await generateSigningKeyPair();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: 'http://x' }, /'url'/],
      [{ url, colour: 1 }, /unknown option 'colour'/],
      [{ url, info: '' }, /'info'/],
      [{ url, encryption: 'yes' }, /'encryption'/],
      [{ url, encryption: false, identity }, /'identity' needs 'encryption: true'/],
      [{ url, encryption: false, requirePeerIdentity: true }, /'requirePeerIdentity' needs/],
      [{ url, reconnect: { enabled: false }, queueSize: 5 }, /'queueSize' needs 'reconnect.enabled: true'/],
      [{ url, reconnect: { interval: 5000, maxInterval: 1000 } }, /'reconnect.maxInterval' \(1000\) must not be below 'reconnect.interval' \(5000\)/],
      [{ url, reconnect: { jitter: 2 } }, /'reconnect.jitter'/],
      [{ url, reconnect: { backoffMultiplier: 0.5 } }, /'reconnect.backoffMultiplier'/],
      [{ url, reconnect: { maxRetries: 1.5 } }, /'reconnect.maxRetries'/],
      [{ url, reconnect: { retries: 3 } }, /unknown option 'reconnect.retries'/],
      [{ url, queueSize: -1 }, /'queueSize'/],
      [{ url, identity: { privateKey: 1, publicKey: 2 } }, /'identity'/],
      [{ url, identity: { privateKey: identity.publicKey, publicKey: identity.publicKey } }, /'identity'/],
      [{ url, connectOptions: { e2e: {} } }, /'connectOptions.e2e' is reserved/],
    ];
    for (const [options, message] of cases) {
      expect(() => resolveSecureOptions(options as never), JSON.stringify(Object.keys(options))).toThrow(InvalidArgumentError);
      expect(() => resolveSecureOptions(options as never)).toThrow(message);
    }
    expect(resolveSecureOptions({ url, identity }).requirePeerIdentity).toBe(true);
    expect(resolveSecureOptions({ url, identity, requirePeerIdentity: false }).requirePeerIdentity).toBe(false);
  });

  it('backoff: exponential, capped, jitter takes off at most its share', () => {
    const r = { enabled: true, maxRetries: Infinity, interval: 100, backoffMultiplier: 2, maxInterval: 1000, jitter: 0.5 };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, r, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 5].map((n) => backoffDelay(n, r, () => 1))).toEqual([50, 100, 500]);
    expect(backoffDelay(3, { ...r, jitter: 0 }, () => 0.7)).toBe(400);
  });
});

describe('outbox', () => {
  /** A preparer whose batches finish only when the test says so. */
  function preparer(log: string[][]) {
    const gates: Array<() => void> = [];
    const prepare = (batch: string[]): Promise<() => Promise<string>> =>
      new Promise((resolve) => gates.push(() => resolve(async () => (log.push(batch), batch.join('+')))));
    const release = async (): Promise<void> => {
      while (gates.length === 0) await Promise.resolve();
      (gates.shift() as () => void)();
    };
    return { prepare, release };
  }
  const sameLetter = (batch: readonly string[], next: string): boolean => batch.length < 3 && next[0] === (batch[0] as string)[0];

  it('writes in order, one batch at a time; sends that wait meanwhile join the next batch when allowed', async () => {
    const log: string[][] = [];
    const { prepare, release } = preparer(log);
    const box = new Outbox<string, string>(10, sameLetter);
    box.attach(prepare);
    const results = ['a1', 'a2', 'a3', 'a4', 'b1', 'a5'].map((r) => box.submit(r));
    expect(box.pending).toBe(6);
    for (let i = 0; i < 4; i++) await release();
    expect(await Promise.all(results)).toEqual(['a1', 'a2+a3+a4', 'a2+a3+a4', 'a2+a3+a4', 'b1', 'a5']);
    expect(log).toEqual([['a1'], ['a2', 'a3', 'a4'], ['b1'], ['a5']]);
  });

  it('while detached: bounded queue; on attach, waiting sends are prepared anew; a failed preparation rejects only its batch', async () => {
    const log: string[][] = [];
    const first = preparer(log);
    const box = new Outbox<string, string>(2);
    box.attach(first.prepare);
    const a = box.submit('a');
    box.detach();
    await first.release();
    const b = box.submit('b');
    await expect(box.submit('c')).rejects.toBeInstanceOf(QueueFullError);
    expect(box.pending).toBe(2);
    expect(log).toEqual([]);
    box.attach(async ([req]) => {
      if (req === 'b') throw new InvalidArgumentError('no such peer');
      return async () => (log.push([`${req}'`]), `${req}:again`);
    });
    expect(await a).toBe('a:again');
    await expect(b).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(log).toEqual([["a'"]]);
  });

  it('rejectAll rejects every waiting send', async () => {
    const box = new Outbox<string, string>(5);
    const waiting = [box.submit('a'), box.submit('b')];
    box.rejectAll(new QueueFullError('stop'));
    for (const p of waiting) await expect(p).rejects.toBeInstanceOf(QueueFullError);
    expect(box.pending).toBe(0);
  });
});
