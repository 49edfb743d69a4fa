/** Unit tests of the scheme (keys, adverts, safety numbers, envelopes) and of the options (no network). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { decryptBytes, encryptBytes, importAesGcmKey } from '../../src/crypto/aead.js';
import { base64ToBytes, bytesToBase64 } from '../../src/crypto/base64.js';
import { utf8Decode, utf8Encode } from '../../src/crypto/bytes.js';
import { generateSigningKeyPair } from '../../src/crypto/signing.js';
import { AuthenticationError, DecryptError, InvalidArgumentError, KeyFormatError } from '../../src/errors.js';
import { backoffDelay, resolveSecureOptions, secureSessionDefaults } from '../../src/secure/options.js';
import {
  checkPeer,
  createLocalKeys,
  keyId,
  loadIdentity,
  open,
  seal,
  type IdentityPolicy,
  type LocalKeys,
  type PeerKeys,
} from '../../src/secure/scheme.js';

const policy: IdentityPolicy = { info: 'app', requirePeerIdentity: false };
const fresh = (n: number): Promise<LocalKeys[]> => Promise.all(Array.from({ length: n }, () => createLocalKeys('app')));
/** `x`'s view of `y`: the pair keys `x` derives from `y`'s advert. */
const keysFor = (x: LocalKeys, y: LocalKeys, p: IdentityPolicy = policy): Promise<PeerKeys> =>
  checkPeer('y', y.advert, x, p);
const usable = (k: PeerKeys): { pk: string; kid: string; send: CryptoKey } => ({
  pk: k.pk as string,
  kid: keyId(k.pk as string),
  send: k.send as CryptoKey,
});

describe('keys and adverts', () => {
  it('gives each direction its own key, agreed by both ends, bound to both public keys and the label', async () => {
    const [a, b, c] = await fresh(3);
    const [ab, ba, ca] = await Promise.all([keysFor(a, b), keysFor(b, a), keysFor(c, a)]);
    const iv = new Uint8Array(12);
    const ct = await encryptBytes({ key: ab.send as CryptoKey, iv, plaintext: utf8Encode('hi') });
    expect(utf8Decode(await decryptBytes({ key: ba.receive as CryptoKey, iv, ciphertext: ct }))).toBe('hi');
    // The other direction's key, another pair's key, another label: all fail.
    await expect(decryptBytes({ key: ba.send as CryptoKey, iv, ciphertext: ct })).rejects.toBeInstanceOf(DecryptError);
    await expect(decryptBytes({ key: ab.receive as CryptoKey, iv, ciphertext: ct })).rejects.toBeInstanceOf(
      DecryptError,
    );
    await expect(decryptBytes({ key: ca.receive as CryptoKey, iv, ciphertext: ct })).rejects.toBeInstanceOf(
      DecryptError,
    );
    const otherLabel = await keysFor(b, a, { ...policy, info: 'other-app' });
    await expect(decryptBytes({ key: otherLabel.receive as CryptoKey, iv, ciphertext: ct })).rejects.toBeInstanceOf(
      DecryptError,
    );
  });

  it('safety numbers: symmetric per pair, label-bound, six groups of five digits', async () => {
    const [a, b] = await fresh(2);
    const [ab, ba, other] = await Promise.all([
      keysFor(a, b),
      keysFor(b, a),
      keysFor(a, b, { ...policy, info: 'other' }),
    ]);
    expect(ab.fingerprint).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(ba.fingerprint).toBe(ab.fingerprint);
    expect(other.fingerprint).not.toBe(ab.fingerprint);
    expect(a.fingerprint).toMatch(/^\d{5}( \d{5}){5}$/);
    expect(a.fingerprint).not.toBe(b.fingerprint);
  });

  it('rejects malformed adverts: each leaves the peer unusable with a KeyFormatError or AuthenticationError', async () => {
    const [a, b] = await fresh(2);
    const compressed = bytesToBase64(
      base64ToBytes(b.pk)
        .slice(0, 33)
        .map((x, i) => (i === 0 ? 2 : x)),
    );
    // The right form, 0x04 ‖ X ‖ Y, but (1, 1) is not on the curve: WebCrypto refuses it, the scheme names it.
    const offCurve = bytesToBase64(Uint8Array.of(4, ...new Uint8Array(31), 1, ...new Uint8Array(31), 1));
    const cases: Array<[unknown, typeof KeyFormatError | typeof AuthenticationError]> = [
      [undefined, AuthenticationError],
      ['x', KeyFormatError],
      [{ v: 1, pk: b.pk }, KeyFormatError],
      [{ v: 2, pk: b.pk.slice(0, 40) }, KeyFormatError],
      [{ v: 2, pk: compressed }, KeyFormatError],
      [{ v: 2, pk: offCurve }, KeyFormatError],
      [{ v: 2, pk: b.pk, idk: offCurve, sig: 'AAAA' }, KeyFormatError],
      [{ v: 2, pk: b.pk, sig: 'AAAA' }, KeyFormatError],
      [{ v: 2, pk: b.pk, idk: compressed, sig: 'AAAA' }, KeyFormatError],
      [{ v: 2, pk: b.pk, idk: b.pk, sig: 5 }, KeyFormatError],
      [{ v: 2, pk: b.pk, idk: b.pk, sig: 'AAAA' }, AuthenticationError],
    ];
    for (const [advert, type] of cases) {
      const keys = await checkPeer('b', advert, a, policy);
      expect(keys, JSON.stringify(advert)).toMatchObject({ send: null, receive: null, fingerprint: null });
      expect(keys.error, JSON.stringify(advert)).toBeInstanceOf(type);
    }
    expect((await checkPeer('b', { v: 2, pk: offCurve }, a, policy)).error?.message).toBe(
      'peer b: e2e.pk is not a point on the P-256 curve',
    );
  });

  it('identities: a valid signature verifies; a pin can reject it; without one, a required identity fails', async () => {
    const identity = await loadIdentity(await generateSigningKeyPair());
    const [a, signed] = await Promise.all([createLocalKeys('app'), createLocalKeys('app', identity)]);
    expect(await keysFor(a, signed)).toMatchObject({
      verified: true,
      identityFingerprint: identity.fingerprint,
      error: null,
    });
    const pinned = await keysFor(a, signed, {
      ...policy,
      verifyPeerIdentity: ({ identityFingerprint }) => identityFingerprint === 'someone else',
    });
    expect(pinned).toMatchObject({ verified: false, send: null, identityFingerprint: identity.fingerprint });
    expect(pinned.error).toBeInstanceOf(AuthenticationError);
    // The signature covers the label and the key.
    const otherLabel = await keysFor(a, signed, { ...policy, info: 'other' });
    expect(otherLabel.error?.message).toMatch(/bad identity signature/);
    const unsigned = await keysFor(a, await createLocalKeys('app'), { ...policy, requirePeerIdentity: true });
    expect(unsigned).toMatchObject({ verified: false, send: null });
    expect(unsigned.error).toBeInstanceOf(AuthenticationError);
  });
});

describe('envelopes', () => {
  it('each recipient opens its own wrap; the counter, type, payload and wrap are authenticated', async () => {
    const [a, b, c] = await fresh(3);
    const [ab, ac, ba, ca] = await Promise.all([keysFor(a, b), keysFor(a, c), keysFor(b, a), keysFor(c, a)]);
    const env = await seal(a, [usable(ab), usable(ac)], 'b', utf8Encode('"all"'));
    expect(env).toMatchObject({ e2e: 2, t: 'b', n: 1 });
    expect(Object.keys(env.k).sort()).toEqual([keyId(b.pk), keyId(c.pk)].sort());
    expect((await seal(a, [usable(ab)], 'd', utf8Encode('1'))).n).toBe(2);
    const at = (keys: PeerKeys, kid: string, e = env): Uint8Array | Promise<Uint8Array> =>
      open(keys.receive as CryptoKey, e.t, e.n, e.ct, e.k[kid] as string);
    expect(utf8Decode(await at(ba, keyId(b.pk)))).toBe('"all"');
    expect(utf8Decode(await at(ca, keyId(c.pk)))).toBe('"all"');
    await expect(at(ba, keyId(b.pk), { ...env, n: 3 })).rejects.toBeInstanceOf(DecryptError);
    await expect(at(ba, keyId(b.pk), { ...env, t: 'd' })).rejects.toBeInstanceOf(DecryptError);
    await expect(at(ba, keyId(c.pk))).rejects.toBeInstanceOf(DecryptError);
  });

  it('a recipient cannot pass off another payload under the sender', async () => {
    const [a, b, c] = await fresh(3);
    const [ab, ac, ba, ca] = await Promise.all([keysFor(a, b), keysFor(a, c), keysFor(b, a), keysFor(c, a)]);
    const env = await seal(a, [usable(ab), usable(ac)], 'b', utf8Encode('"all"'));
    // b unwraps the message key and encrypts a payload of its own choosing for c.
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setBigUint64(4, BigInt(env.n));
    const aad = new Uint8Array([0x62, ...base64ToBytes(env.ct)]);
    const messageKey = await decryptBytes({
      key: ba.receive as CryptoKey,
      iv,
      ciphertext: base64ToBytes(env.k[keyId(b.pk)] as string),
      aad,
    });
    const forged = await encryptBytes({
      key: await importAesGcmKey(messageKey),
      iv,
      plaintext: utf8Encode('"forged"'),
    });
    await expect(
      open(ca.receive as CryptoKey, 'b', env.n, bytesToBase64(forged), env.k[keyId(c.pk)] as string),
    ).rejects.toBeInstanceOf(DecryptError);
  });
});

describe('on Node (node:crypto under AES-GCM)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('seals and opens at once: no promise, no key import, no WebCrypto call', async () => {
    const [a, b, c] = await fresh(3);
    const [ab, ac, ba] = await Promise.all([keysFor(a, b), keysFor(a, c), keysFor(b, a)]);
    const subtle = globalThis.crypto.subtle;
    const calls = ['importKey', 'encrypt', 'decrypt'].map((name) => vi.spyOn(subtle, name as 'encrypt'));
    // A new recipient set draws a new message key: that needs no import either.
    for (const [recipients, text] of [
      [[usable(ab)], '[1]'],
      [[usable(ab)], '[2]'],
      [[usable(ab), usable(ac)], '[3]'],
    ] as const) {
      const env = seal(a, recipients, 'd', utf8Encode(text));
      expect(env).not.toBeInstanceOf(Promise);
      const { t, n, ct, k } = env as Awaited<typeof env>;
      const opened = open(ba.receive as CryptoKey, t, n, ct, k[keyId(b.pk)] as string);
      expect(opened).toBeInstanceOf(Uint8Array);
      expect(utf8Decode(opened as Uint8Array)).toBe(text);
    }
    for (const call of calls) expect(call).not.toHaveBeenCalled();
  });

  it('refuses a wrapped message key that is not 32 bytes (node:crypto would take 16 as an AES-128 key)', async () => {
    const [a, b] = await fresh(2);
    const [ab, ba] = await Promise.all([keysFor(a, b), keysFor(b, a)]);
    // A sender with the pair key wraps a 16-byte key and encrypts the payload with AES-128 under it.
    const iv = new Uint8Array(12);
    iv[11] = 1;
    const short = crypto.getRandomValues(new Uint8Array(16));
    const aes128 = await crypto.subtle.importKey('raw', short, 'AES-GCM', false, ['encrypt']);
    const payload = await encryptBytes({ key: aes128, iv, plaintext: utf8Encode('[1]') });
    const wrap = await encryptBytes({
      key: ab.send as CryptoKey,
      iv,
      plaintext: short,
      aad: new Uint8Array([0x64, ...payload]),
    });
    const opening = open(ba.receive as CryptoKey, 'd', 1, bytesToBase64(payload), bytesToBase64(wrap));
    await expect(opening).rejects.toBeInstanceOf(DecryptError);
    await expect(opening).rejects.toMatchObject({ cause: expect.any(KeyFormatError) });
  });

  it('reports every failure as a rejection, never a throw', async () => {
    const [a, b] = await fresh(2);
    const [ab, ba] = await Promise.all([keysFor(a, b), keysFor(b, a)]);
    const env = await seal(a, [usable(ab)], 'd', utf8Encode('[1]'));
    const wrap = env.k[keyId(b.pk)] as string;
    for (const [ct, w] of [
      ['not base64!', wrap],
      [env.ct, 'AAAA'],
      [env.ct.replace(/^./, (x) => (x === 'A' ? 'B' : 'A')), wrap],
    ]) {
      let opening: unknown;
      expect(() => {
        opening = open(ba.receive as CryptoKey, 'd', env.n, ct as string, w as string);
      }).not.toThrow();
      await expect(opening).rejects.toBeInstanceOf(DecryptError);
    }
  });
});

describe('message keys', () => {
  /** What a recipient unwraps from an envelope: its message key bytes (the IV and AAD as spec §4 builds them). */
  const unwrap = async (keys: PeerKeys, kid: string, e: Awaited<ReturnType<typeof seal>>): Promise<Uint8Array> => {
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setBigUint64(4, BigInt(e.n));
    const payload = base64ToBytes(e.ct);
    const aad = new Uint8Array([e.t.charCodeAt(0), ...payload]);
    return decryptBytes({ key: keys.receive as CryptoKey, iv, ciphertext: base64ToBytes(e.k[kid] as string), aad });
  };

  it('one per recipient set and connection: a peer outside the set cannot read what went to the set', async () => {
    const [a, b, c] = await fresh(3);
    const [ab, ac, ba, ca] = await Promise.all([keysFor(a, b), keysFor(a, c), keysFor(b, a), keysFor(c, a)]);
    const [kb, kc] = [keyId(b.pk), keyId(c.pk)];
    const toB = [
      await seal(a, [usable(ab)], 'd', utf8Encode('[1]')),
      await seal(a, [usable(ab)], 'd', utf8Encode('[2]')),
    ];
    const toBoth = await seal(a, [usable(ab), usable(ac)], 'b', utf8Encode('[3]'));
    const [m1, m2, m3] = await Promise.all([
      unwrap(ba, kb, toB[0] as never),
      unwrap(ba, kb, toB[1] as never),
      unwrap(ca, kc, toBoth),
    ]);
    expect(bytesToBase64(m1)).toBe(bytesToBase64(m2));
    expect(bytesToBase64(m3)).not.toBe(bytesToBase64(m1));
    // c knows the key of the set {b, c}; the envelopes to {b} alone stay closed to it.
    const iv = new Uint8Array(12);
    new DataView(iv.buffer).setBigUint64(4, BigInt(1));
    await expect(
      decryptBytes({ key: await importAesGcmKey(m3), iv, ciphertext: base64ToBytes((toB[0] as { ct: string }).ct) }),
    ).rejects.toBeInstanceOf(DecryptError);
    for (const [e, text] of [
      [toB[0], '[1]'],
      [toB[1], '[2]'],
      [toBoth, '[3]'],
    ] as const)
      expect(utf8Decode(await open(ba.receive as CryptoKey, e.t, e.n, e.ct, e.k[kb] as string))).toBe(text);
  });

  it('a recipient opens every envelope whichever of many sets it came through', async () => {
    const keys = await fresh(7);
    const [a, b, ...others] = keys as [LocalKeys, LocalKeys, ...LocalKeys[]];
    const ab = usable(await keysFor(a, b));
    const ba = await keysFor(b, a);
    const rest = await Promise.all(others.map(async (o) => usable(await keysFor(a, o))));
    // Six sets that all hold b, in turn, more often than b keeps message keys: each opens.
    for (let round = 0; round < 3; round++)
      for (let i = 0; i <= rest.length; i++) {
        const e = await seal(a, [ab, ...rest.slice(0, i)], 'b', utf8Encode(`[${round}${i}]`));
        expect(utf8Decode(await open(ba.receive as CryptoKey, e.t, e.n, e.ct, e.k[keyId(b.pk)] as string))).toBe(
          `[${round}${i}]`,
        );
      }
  });
});

describe('options', () => {
  const url = 'ws://127.0.0.1:1';
  it('fills in the defaults', () => {
    const o = resolveSecureOptions({ url });
    expect(o).toMatchObject({
      info: secureSessionDefaults.info,
      encryption: true,
      queueSize: 100,
      identity: undefined,
      requirePeerIdentity: false,
    });
    expect(o.reconnect).toEqual({
      enabled: true,
      maxRetries: Infinity,
      interval: 1000,
      backoffMultiplier: 2,
      maxInterval: 30_000,
      jitter: 0.5,
      retryFirstConnect: false,
    });
    expect(o).toMatchObject({ maxBacklogFrames: 4096, maxBacklogBytes: 2 ** 24, maxRetiredPeerKeys: 4096 });
    expect(resolveSecureOptions({ url, maxFrameSize: 2 ** 25 }).maxBacklogBytes).toBe(2 ** 25);
    expect(o.client).toEqual({ url });
  });

  it('rejects bad values and combinations, naming the options', async () => {
    const identity = await generateSigningKeyPair();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ url: 'http://x' }, /'url'/],
      [{ url, colour: 1 }, /unknown option 'colour'/],
      [{ url, info: '' }, /'info'/],
      [{ url, info: 'x'.repeat(1025) }, /'info'/],
      [{ url, encryption: 'yes' }, /'encryption'/],
      [{ url, encryption: false, identity }, /'identity' needs 'encryption: true'/],
      [{ url, encryption: false, requirePeerIdentity: true }, /'requirePeerIdentity' needs/],
      [{ url, reconnect: { enabled: false }, queueSize: 5 }, /'queueSize' needs 'reconnect.enabled: true'/],
      [
        { url, reconnect: { interval: 5000, maxInterval: 1000 } },
        /'reconnect.maxInterval' must be a number from 5000 /,
      ],
      [{ url, reconnect: 5 }, /'reconnect'/],
      [{ url, reconnect: { jitter: 2 } }, /'reconnect.jitter'/],
      [{ url, reconnect: { backoffMultiplier: 0.5 } }, /'reconnect.backoffMultiplier'/],
      [{ url, reconnect: { maxRetries: 1.5 } }, /'reconnect.maxRetries'/],
      [{ url, reconnect: { retries: 3 } }, /unknown option 'reconnect.retries'/],
      [{ url, queueSize: -1 }, /'queueSize'/],
      [{ url, verifyPeerIdentity: true }, /'verifyPeerIdentity'/],
      [{ url, identity: { privateKey: 1, publicKey: 2 } }, /'identity'/],
      [{ url, identity: { privateKey: identity.publicKey, publicKey: identity.publicKey } }, /'identity'/],
      [{ url, connectOptions: { e2e: {} } }, /'connectOptions.e2e' is reserved/],
      [{ url, reconnect: { retryFirstConnect: 1 } }, /'reconnect.retryFirstConnect' must be a boolean/],
      [
        { url, reconnect: { enabled: false, retryFirstConnect: true } },
        /'reconnect.retryFirstConnect' needs 'reconnect.enabled: true'/,
      ],
      [
        { url, reconnect: { maxRetries: 0, retryFirstConnect: true } },
        /'reconnect.retryFirstConnect' needs 'reconnect.maxRetries' of at least 1/,
      ],
      [{ url, maxBacklogFrames: 0 }, /'maxBacklogFrames' must be an integer from 1 /],
      [{ url, maxBacklogBytes: 1.5 }, /'maxBacklogBytes'/],
      [
        { url, maxBacklogBytes: 1000, maxFrameSize: 2000 },
        /'maxBacklogBytes' \(1000\) must be at least 'maxFrameSize' \(2000\)/,
      ],
      [{ url, maxRetiredPeerKeys: -1 }, /'maxRetiredPeerKeys'/],
    ];
    for (const [options, message] of cases) {
      expect(() => resolveSecureOptions(options as never), JSON.stringify(options)).toThrow(InvalidArgumentError);
      expect(() => resolveSecureOptions(options as never)).toThrow(message);
    }
    expect(resolveSecureOptions({ url, identity }).requirePeerIdentity).toBe(true);
    expect(resolveSecureOptions({ url, identity, requirePeerIdentity: false }).requirePeerIdentity).toBe(false);
    expect(resolveSecureOptions({ url, reconnect: { maxRetries: Infinity, jitter: 0 } }).reconnect).toMatchObject({
      maxRetries: Infinity,
      jitter: 0,
      interval: 1000,
    });
  });

  it('backoff: exponential, capped, jitter takes off at most its share', () => {
    const r = {
      enabled: true,
      maxRetries: Infinity,
      interval: 100,
      backoffMultiplier: 2,
      maxInterval: 1000,
      jitter: 0.5,
      retryFirstConnect: false,
    };
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelay(n, r, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 5].map((n) => backoffDelay(n, r, () => 1))).toEqual([50, 100, 500]);
    expect(backoffDelay(3, { ...r, jitter: 0 }, () => 0.7)).toBe(400);
  });
});
