/**
 * Node's AES-GCM (src/node/aes-gcm.ts, installed by src/node/setup.ts, which
 * test/setup-node.ts loads as the Node entry points do) against WebCrypto:
 * the same bytes both ways, the same typed errors, and Wycheproof's vectors.
 */
import { KeyObject, randomBytes as nodeRandom, randomInt } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aesGcm, aesGcmSync, decryptBytes, importAesGcmKey } from '../../src/crypto/aead.js';
import { hkdfAesGcmKey } from '../../src/crypto/hkdf.js';
import { DecryptError } from '../../src/errors.js';
import { nodeAesGcm, nodeSealText, SYNC_AES_GCM_LIMIT } from '../../src/node/aes-gcm.js';
import { type AeadGroup, hex, loadVectors, toHex } from './vectors.js';

const random = (n: number) => new Uint8Array(nodeRandom(n));
const subtle = globalThis.crypto.subtle;

/** WebCrypto itself, the reference (and what browsers run). */
const webCrypto =
  (op: 'encrypt' | 'decrypt') =>
  async (key: CryptoKey, iv: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>, aad?: Uint8Array<ArrayBuffer>) =>
    new Uint8Array(await subtle[op]({ name: 'AES-GCM', iv, additionalData: aad }, key, data));
const web = { seal: webCrypto('encrypt'), open: webCrypto('decrypt') };

/** The synchronous path, which must take these inputs. */
function sync(
  op: 'encrypt' | 'decrypt',
  key: CryptoKey | Uint8Array<ArrayBuffer>,
  iv: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  aad?: Uint8Array<ArrayBuffer>,
) {
  const out = aesGcmSync(op, key, iv, data, aad);
  if (!out) throw new Error(`the synchronous path declined ${op} of ${data.length} bytes`);
  return out;
}

/** The error a call throws or rejects with. */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const importKey = (raw: Uint8Array<ArrayBuffer>, usages: KeyUsage[] = ['encrypt', 'decrypt']) =>
  subtle.importKey('raw', raw, 'AES-GCM', false, usages);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('AES-GCM on node:crypto, installed by the Node setup', () => {
  it('aesGcm runs on node:crypto, not WebCrypto, up to the size limit; above it, on WebCrypto', async () => {
    const encrypt = vi.spyOn(subtle, 'encrypt');
    const key = await importAesGcmKey(random(32));
    expect(aesGcmSync('encrypt', key, random(12), random(100))).toBeInstanceOf(Uint8Array);
    await aesGcm('encrypt', key, random(12), random(SYNC_AES_GCM_LIMIT));
    expect(encrypt).not.toHaveBeenCalled();

    const large = random(SYNC_AES_GCM_LIMIT + 1);
    expect(aesGcmSync('encrypt', key, random(12), large)).toBeUndefined();
    const iv = random(12);
    const sealed = await aesGcm('encrypt', key, iv, large);
    expect(encrypt).toHaveBeenCalledTimes(1);
    expect(toHex(sealed)).toBe(toHex(await web.seal(key, iv, large)));
  });

  it('gives the same bytes as WebCrypto both ways: sizes 0 to 1 MiB, with no, empty and random AAD', async () => {
    // The largest: sealed, it is exactly the limit, so both directions stay synchronous.
    const sizes = [0, 1, 15, 16, 17, 255, 4096, 65_536, SYNC_AES_GCM_LIMIT - 16];
    for (let i = 0; i < 12; i++) sizes.push(randomInt(1, 20_000));
    for (const size of sizes) {
      for (const aad of [undefined, random(0), random(randomInt(1, 300))]) {
        const key = await importAesGcmKey(random(32));
        const iv = random(12);
        const plaintext = random(size);
        const ours = sync('encrypt', key, iv, plaintext, aad);
        const theirs = await web.seal(key, iv, plaintext, aad);
        expect(ours.length).toBe(size + 16);
        expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
        // Each opens what the other sealed.
        expect(Buffer.from(await web.open(key, iv, ours, aad)).equals(plaintext)).toBe(true);
        expect(Buffer.from(sync('decrypt', key, iv, theirs, aad)).equals(plaintext)).toBe(true);
      }
    }
  });

  it('returns arrays owning their whole buffer, as the WebCrypto path does', async () => {
    const key = await importAesGcmKey(random(32));
    const iv = random(12);
    const sealed = sync('encrypt', key, iv, random(50));
    const opened = sync('decrypt', key, iv, sealed);
    for (const bytes of [sealed, opened]) {
      expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
      expect(bytes.byteOffset).toBe(0);
      expect(bytes.buffer.byteLength).toBe(bytes.length);
    }
  });

  it('takes derived, non-extractable keys and AES-128/192 keys', async () => {
    const derived = await hkdfAesGcmKey(random(32), random(16), random(8));
    expect(derived.extractable).toBe(false);
    const keys = [derived, await importKey(random(16)), await importKey(random(24))];
    for (const key of keys) {
      const iv = random(12);
      const plaintext = random(333);
      const aad = random(7);
      expect(toHex(sync('encrypt', key, iv, plaintext, aad))).toBe(toHex(await web.seal(key, iv, plaintext, aad)));
    }
  });

  it('takes raw key bytes: the same bytes and errors as the imported key', async () => {
    for (const length of [16, 24, 32]) {
      const raw = random(length);
      const key = await importKey(raw);
      const iv = random(12);
      const plaintext = random(200);
      const aad = random(9);
      const sealed = sync('encrypt', raw, iv, plaintext, aad);
      expect(toHex(sealed)).toBe(toHex(await web.seal(key, iv, plaintext, aad)));
      expect(toHex(sync('decrypt', raw, iv, sealed, aad))).toBe(toHex(plaintext));
      expect(() => aesGcmSync('decrypt', raw, iv, sealed, random(9))).toThrow(DecryptError);
    }
    // Raw bytes that are no AES key length are left to the caller's import, which refuses them.
    expect(aesGcmSync('encrypt', random(31), random(12), random(5))).toBeUndefined();
  });

  it('converts each CryptoKey to a KeyObject once', async () => {
    const from = vi.spyOn(KeyObject, 'from');
    const key = await importAesGcmKey(random(32));
    for (let i = 0; i < 50; i++) {
      const iv = random(12);
      sync('decrypt', key, iv, sync('encrypt', key, iv, random(i)));
    }
    expect(from).toHaveBeenCalledTimes(1);
  });

  it('fails as the WebCrypto path does: DecryptError for a wrong tag, byte, AAD, key or a short input', async () => {
    const key = await importAesGcmKey(random(32));
    const iv = random(12);
    const aad = random(10);
    const sealed = sync('encrypt', key, iv, random(64), aad);
    const flip = (at: number) => {
      const bad = sealed.slice();
      bad[at] = (bad[at] ?? 0) ^ 1;
      return bad;
    };
    const cases: Array<[string, CryptoKey, Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer> | undefined]> = [
      ['tag', key, flip(sealed.length - 1), aad],
      ['ciphertext', key, flip(0), aad],
      ['aad', key, sealed, random(10)],
      ['no aad', key, sealed, undefined],
      ['key', await importAesGcmKey(random(32)), sealed, aad],
      ['shorter than the tag', key, sealed.slice(0, 15), aad],
      ['empty', key, new Uint8Array(0), aad],
    ];
    // The same failure on WebCrypto's path: aesGcm with an input above the synchronous limit.
    const webError = await failure(() => aesGcm('decrypt', key, iv, random(SYNC_AES_GCM_LIMIT + 17), aad));
    expect(webError).toBeInstanceOf(DecryptError);
    for (const [what, k, data, a] of cases) {
      for (const error of [
        await failure(() => aesGcmSync('decrypt', k, iv, data, a)),
        await failure(() => aesGcm('decrypt', k, iv, data, a)),
        await failure(() => decryptBytes({ key: k, iv, ciphertext: data, aad: a ?? new Uint8Array() })),
      ]) {
        expect(error, what).toBeInstanceOf(DecryptError);
        expect({ code: (error as DecryptError).code, message: (error as DecryptError).message }, what).toEqual({
          code: (webError as DecryptError).code,
          message: (webError as DecryptError).message,
        });
        // node:crypto's own error stays reachable for debugging.
        expect((error as DecryptError).cause, what).toBeInstanceOf(Error);
      }
    }
  });

  it('leaves to WebCrypto the keys it cannot use, which then fail with the usual typed errors', async () => {
    const iv = random(12);
    const encryptOnly = await importKey(random(32), ['encrypt']);
    const hmac = await subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const notAKey = {} as CryptoKey;
    for (const key of [encryptOnly, hmac, notAKey]) {
      expect(nodeAesGcm('decrypt', key, iv, random(32))).toBeUndefined();
      await expect(aesGcm('decrypt', key, iv, random(32))).rejects.toBeInstanceOf(DecryptError);
    }
    expect(nodeAesGcm('encrypt', encryptOnly, iv, random(5))).toBeInstanceOf(Uint8Array);
  });
});

describe('nodeSealText: text to the base64 of ciphertext ‖ tag, installed under sealNow', () => {
  it('gives the base64 of what WebCrypto seals of the text’s UTF-8 (a lone surrogate as U+FFFD, as TextEncoder)', async () => {
    const key = await importAesGcmKey(random(32));
    const texts = [
      '',
      'hello',
      '{"event":"chat","data":"h\u00e9llo \u2603 \ud83d\ude00"}',
      'lone \ud800 surrogate',
      'x'.repeat(70_000),
    ];
    for (const text of texts) {
      const iv = random(12);
      const expected = await web.seal(key, iv, new TextEncoder().encode(text));
      expect(nodeSealText(key, iv, text)).toBe(Buffer.from(expected).toString('base64'));
    }
  });

  it('declines what nodeAesGcm declines (another IV length, a key without encrypt) and text that may exceed the limit', async () => {
    const key = await importAesGcmKey(random(32));
    const decryptOnly = await importKey(random(32), ['decrypt']);
    expect(nodeSealText(key, random(16), 'x')).toBeUndefined();
    expect(nodeSealText(decryptOnly, random(12), 'x')).toBeUndefined();
    expect(nodeSealText(key, random(12), 'x'.repeat(Math.floor(SYNC_AES_GCM_LIMIT / 3) + 1))).toBeUndefined();
    expect(nodeSealText(key, random(12), 'x'.repeat(Math.floor(SYNC_AES_GCM_LIMIT / 3)))).toEqual(expect.any(String));
  });
});

const vectors = loadVectors<AeadGroup>('aes_gcm_test.json');

describe.skipIf(!vectors)('Wycheproof AES-GCM through the node:crypto path (aes_gcm_test.json)', () => {
  const groups = vectors?.testGroups ?? [];

  it('96-bit IVs, 128/192/256-bit keys: valid tests open to msg and seal to ct‖tag; invalid ones throw DecryptError', async () => {
    const failures: string[] = [];
    const tests = groups.filter((g) => g.ivSize === 96 && g.tagSize === 128).flatMap((g) => g.tests);
    for (const t of tests) {
      const key = await importKey(hex(t.key));
      const [iv, aad] = [hex(t.iv), hex(t.aad)];
      let opened: unknown;
      try {
        opened = nodeAesGcm('decrypt', key, iv, hex(t.ct + t.tag), aad);
      } catch (error) {
        opened = error;
      }
      if (t.result === 'valid') {
        const sealed = nodeAesGcm('encrypt', key, iv, hex(t.msg), aad);
        if (!(opened instanceof Uint8Array) || toHex(opened) !== t.msg) failures.push(`tcId ${t.tcId}: decrypt`);
        if (!sealed || toHex(sealed) !== t.ct + t.tag) failures.push(`tcId ${t.tcId}: encrypt`);
      } else if (!(opened instanceof DecryptError)) {
        failures.push(`tcId ${t.tcId} (${t.flags.join(',')}) was not rejected with DecryptError`);
      }
    }
    expect(failures).toEqual([]);
    expect(tests.length).toBe(197);
    expect(tests.filter((t) => t.result === 'invalid').length).toBe(81);
  });

  it('other IV lengths are left to WebCrypto (the library only uses 12 bytes; node:crypto takes more than WebCrypto does)', async () => {
    const tests = groups.filter((g) => g.ivSize !== 96).flatMap((g) => g.tests);
    expect(tests.length).toBe(316 - 197);
    for (const t of tests) {
      const key = await importKey(hex(t.key));
      expect(nodeAesGcm('decrypt', key, hex(t.iv), hex(t.ct + t.tag), hex(t.aad))).toBeUndefined();
      expect(nodeAesGcm('encrypt', key, hex(t.iv), hex(t.msg), hex(t.aad))).toBeUndefined();
    }
  });
});
