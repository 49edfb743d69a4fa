import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { InvalidArgumentError, KeyFormatError } from '../../src/errors.js';
import {
  concatBytes,
  deriveSharedBits,
  exportPublicKeyRaw,
  generateECDHKeyPair,
  importAesGcmKey,
  importPeerPublicKey,
  randomBytes,
  sha256,
  timingSafeEqual,
  utf8Decode,
  utf8Encode,
} from '../../src/crypto/index.js';

describe('byte helpers', () => {
  it('utf8 round-trips, keeps a BOM, and rejects invalid UTF-8', () => {
    for (const text of ['', 'abc', 'héllo ✓ 🚀', '\uFEFFx']) expect(utf8Decode(utf8Encode(text))).toBe(text);
    expect(() => utf8Decode(new Uint8Array([0xc3]))).toThrow(InvalidArgumentError);
    expect(() => utf8Decode(new Uint8Array([0xed, 0xa0, 0x80]))).toThrow(/not valid UTF-8/);
  });

  it('timingSafeEqual compares content and length', () => {
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('concatBytes joins arrays', () => {
    expect(concatBytes(new Uint8Array([1]), new Uint8Array(0), new Uint8Array([2, 3]))).toEqual(
      new Uint8Array([1, 2, 3]),
    );
  });

  it('randomBytes gives n bytes, including more than one getRandomValues call can fill', () => {
    expect(randomBytes(0).length).toBe(0);
    const big = randomBytes(200_000);
    expect(big.length).toBe(200_000);
    expect(big.subarray(150_000).some((b) => b !== 0)).toBe(true);
    expect(() => randomBytes(-1)).toThrow(InvalidArgumentError);
  });

  it('sha256 matches node:crypto', async () => {
    const data = utf8Encode('server-token:user-token');
    expect(Buffer.from(await sha256(data)).toString('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  });
});

describe('ECDH building blocks', () => {
  it('exportPublicKeyRaw + importPeerPublicKey + deriveSharedBits agree on both sides', async () => {
    const a = await generateECDHKeyPair();
    const b = await generateECDHKeyPair();
    const aRaw = await exportPublicKeyRaw(a.keyPair.publicKey);
    const bRaw = await exportPublicKeyRaw(b.keyPair.publicKey);
    const ab = await deriveSharedBits(a.keyPair.privateKey, await importPeerPublicKey(bRaw));
    const ba = await deriveSharedBits(b.keyPair.privateKey, await importPeerPublicKey(aRaw));
    expect(ab.length).toBe(32);
    expect(ab).toEqual(ba);
  });

  it('importPeerPublicKey names the key in its errors', async () => {
    await expect(importPeerPublicKey(new Uint8Array(33).fill(2), 'peer abc public key')).rejects.toThrow(
      /^peer abc public key is 33 bytes \(a compressed point\)/,
    );
    // Only the lengths of the other SEC1 forms are named as such: 64 bytes starting 0x02 is not "compressed".
    await expect(importPeerPublicKey(new Uint8Array(64).fill(2))).rejects.toThrow(
      /^peer public key is 64 bytes; send the 65-byte/,
    );
    await expect(importPeerPublicKey('AAAA' as unknown as Uint8Array)).rejects.toThrow(/must be a Uint8Array/);
  });

  it('importAesGcmKey needs exactly 32 bytes', async () => {
    await expect(importAesGcmKey(new Uint8Array(16))).rejects.toBeInstanceOf(KeyFormatError);
    const key = await importAesGcmKey(new Uint8Array(32));
    expect(key.extractable).toBe(false);
  });
});
