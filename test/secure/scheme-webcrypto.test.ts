/**
 * The scheme without a synchronous AES-GCM, as in browsers: AES-GCM here is
 * WebCrypto alone (the Node engine the test setup installs is switched off), so
 * seal and open take their promise path, message keys are imported, and what
 * either path seals the other opens.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { utf8Decode, utf8Encode } from '../../src/crypto/bytes.js';
import { DecryptError } from '../../src/errors.js';
import { checkPeer, createLocalKeys, keyId, open, type PeerKeys, seal } from '../../src/secure/scheme.js';

/** Whether the synchronous AES-GCM is on: off, aesGcmSync declines everything and aesGcm is WebCrypto's. */
const engine = vi.hoisted(() => ({ sync: true }));

vi.mock('../../src/crypto/aead.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/crypto/aead.js')>();
  const subtle = globalThis.crypto.subtle;
  const webCrypto: typeof actual.aesGcm = async (op, key, iv, data, additionalData = new Uint8Array()) => {
    try {
      return new Uint8Array(await subtle[op]({ name: 'AES-GCM', iv, additionalData }, key, data));
    } catch (cause) {
      throw new DecryptError({ cause });
    }
  };
  return {
    ...actual,
    aesGcm: (...args: Parameters<typeof actual.aesGcm>) => (engine.sync ? actual.aesGcm : webCrypto)(...args),
    aesGcmSync: (...args: Parameters<typeof actual.aesGcmSync>) =>
      engine.sync ? actual.aesGcmSync(...args) : undefined,
  };
});

const policy = { info: 'app', requirePeerIdentity: false };
const usable = (k: PeerKeys) => ({ pk: k.pk as string, kid: keyId(k.pk as string), send: k.send as CryptoKey });

afterEach(() => {
  engine.sync = true;
  vi.restoreAllMocks();
});

describe('envelopes without a synchronous AES-GCM (browsers)', () => {
  it('seal and open return promises; each opens what the other path sealed', async () => {
    const [a, b] = await Promise.all([createLocalKeys('app'), createLocalKeys('app')]);
    const [ab, ba] = await Promise.all([checkPeer('b', b.advert, a, policy), checkPeer('a', a.advert, b, policy)]);
    const kid = keyId(b.pk);
    for (const [sealSync, openSync] of [
      [false, false],
      [true, false],
      [false, true],
    ]) {
      engine.sync = sealSync as boolean;
      const sealing = seal(a, [usable(ab)], 'd', utf8Encode(`[${sealSync}]`));
      expect(sealing instanceof Promise).toBe(!sealSync);
      const env = await sealing;
      engine.sync = openSync as boolean;
      const opening = open(ba.receive as CryptoKey, env.t, env.n, env.ct, env.k[kid] as string);
      expect(opening instanceof Promise).toBe(!openSync);
      expect(utf8Decode(await opening)).toBe(`[${sealSync}]`);
      // Tampered: the same typed rejection as on Node.
      await expect(
        open(ba.receive as CryptoKey, env.t, env.n + 1, env.ct, env.k[kid] as string),
      ).rejects.toBeInstanceOf(DecryptError);
    }
  });

  it('imports each message key once per recipient set at each end, not once per envelope', async () => {
    engine.sync = false;
    const [a, b] = await Promise.all([createLocalKeys('app'), createLocalKeys('app')]);
    const [ab, ba] = await Promise.all([checkPeer('b', b.advert, a, policy), checkPeer('a', a.advert, b, policy)]);
    const importKey = vi.spyOn(globalThis.crypto.subtle, 'importKey');
    for (let i = 0; i < 5; i++) {
      const env = await seal(a, [usable(ab)], 'b', utf8Encode(`[${i}]`));
      expect(utf8Decode(await open(ba.receive as CryptoKey, env.t, env.n, env.ct, env.k[keyId(b.pk)] as string))).toBe(
        `[${i}]`,
      );
    }
    // One import by the sender, one by the recipient.
    expect(importKey).toHaveBeenCalledTimes(2);
  });
});
