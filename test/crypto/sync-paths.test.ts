/**
 * The promise-free paths the Signal client and server take on Node: `aesGcmNow`
 * (bytes at once where node:crypto takes the input, else WebCrypto's promise),
 * `sealNow` (an envelope at once, else its promise) and the pooled IVs of `freshIv`.
 */
import { randomBytes as nodeRandom } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { aesGcm, aesGcmNow, importAesGcmKey } from '../../src/crypto/aead.js';
import { bytesToBase64 } from '../../src/crypto/base64.js';
import { decrypt, freshIv, sealNow } from '../../src/crypto/signal-crypto.js';
import { DecryptError } from '../../src/errors.js';
import { SYNC_AES_GCM_LIMIT } from '../../src/node/aes-gcm.js';

const random = (n: number) => new Uint8Array(nodeRandom(n));
const subtle = globalThis.crypto.subtle;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('aesGcmNow', () => {
  it('gives the bytes at once up to the synchronous limit, the same as aesGcm; above it, WebCrypto’s promise', async () => {
    const key = await importAesGcmKey(random(32));
    const webEncrypt = vi.spyOn(subtle, 'encrypt');
    const iv = random(12);
    const small = random(1000);
    const sealed = aesGcmNow('encrypt', key, iv, small);
    expect(sealed).toBeInstanceOf(Uint8Array);
    expect(sealed).toEqual(await aesGcm('encrypt', key, iv, small));
    expect(aesGcmNow('decrypt', key, iv, sealed as Uint8Array<ArrayBuffer>)).toEqual(small);
    expect(webEncrypt).not.toHaveBeenCalled();

    const large = random(SYNC_AES_GCM_LIMIT + 1);
    const pending = aesGcmNow('encrypt', key, iv, large);
    expect(pending).toBeInstanceOf(Promise);
    const opened = aesGcmNow('decrypt', key, iv, await pending);
    expect(opened).toBeInstanceOf(Promise);
    expect(Buffer.from(await opened).equals(large)).toBe(true);
    expect(webEncrypt).toHaveBeenCalledTimes(1);
  });

  it('throws DecryptError at once for a wrong tag it decrypts itself, and rejects with it from WebCrypto', async () => {
    const key = await importAesGcmKey(random(32));
    const iv = random(12);
    const sealed = aesGcmNow('encrypt', key, iv, random(64)) as Uint8Array<ArrayBuffer>;
    sealed[sealed.length - 1] ^= 1;
    expect(() => aesGcmNow('decrypt', key, iv, sealed)).toThrow(DecryptError);
    const large = (await aesGcmNow('encrypt', key, iv, random(SYNC_AES_GCM_LIMIT + 1))) as Uint8Array<ArrayBuffer>;
    large[0] ^= 1;
    await expect(aesGcmNow('decrypt', key, iv, large)).rejects.toBeInstanceOf(DecryptError);
  });
});

describe('freshIv', () => {
  it('hands out 12-byte IVs, all different, drawing random bytes once per 341 of them', () => {
    const draw = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const ivs = Array.from({ length: 3 * 341 }, () => freshIv());
    expect(ivs.every((iv) => iv.length === 12)).toBe(true);
    expect(new Set(ivs.map((iv) => bytesToBase64(iv))).size).toBe(ivs.length);
    // Each refill is one call for a whole block: 1023 IVs cross exactly three refills, wherever the block stood.
    expect(draw).toHaveBeenCalledTimes(3);
    for (const [block] of draw.mock.calls) expect((block as Uint8Array).length).toBe(341 * 12);
  });

  it('never changes an IV once handed out, however many are drawn after it', () => {
    const first = freshIv();
    const copy = first.slice();
    for (let i = 0; i < 2000; i++) freshIv();
    expect(first).toEqual(copy);
  });
});

describe('sealNow', () => {
  it('gives the envelope at once on Node, under a fresh IV, and decrypt opens it', async () => {
    const key = await importAesGcmKey(random(32));
    const first = sealNow('{"event":"hello","data":1}', key);
    const second = sealNow('{"event":"hello","data":1}', key);
    expect(first).not.toBeInstanceOf(Promise);
    expect(second).not.toBeInstanceOf(Promise);
    const [a, b] = [first, second] as Array<{ iv: string; ct: string }>;
    expect(a.iv).not.toBe(b.iv);
    expect(a.ct).not.toBe(b.ct);
    expect(await decrypt({ payload: a, aesKey: key })).toBe('{"event":"hello","data":1}');
  });

  it('gives a promise of the envelope for text too large for the synchronous cipher', async () => {
    const key = await importAesGcmKey(random(32));
    const text = 'x'.repeat(SYNC_AES_GCM_LIMIT + 1);
    const sealed = sealNow(text, key);
    expect(sealed).toBeInstanceOf(Promise);
    expect(await decrypt({ payload: await sealed, aesKey: key })).toBe(text);
  });
});
