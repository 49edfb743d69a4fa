import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { HKDF_SHA256_MAX_BYTES, deriveAesGcmKey, hkdf } from '../../src/crypto/hkdf.js';
import { decryptBytes, encryptBytes } from '../../src/crypto/aead.js';
import { hex, toHex } from './vectors.js';

const range = (from: number, to: number) => Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);

// RFC 5869, Appendix A, test cases 1-3 (HKDF-SHA-256).
const rfc5869 = [
  {
    name: 'A.1 basic',
    ikm: new Uint8Array(22).fill(0x0b),
    salt: range(0x00, 0x0c),
    info: range(0xf0, 0xf9),
    length: 42,
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'A.2 longer inputs/outputs',
    ikm: range(0x00, 0x4f),
    salt: range(0x60, 0xaf),
    info: range(0xb0, 0xff),
    length: 82,
    okm:
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
      '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
      'cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'A.3 zero-length salt and info',
    ikm: new Uint8Array(22).fill(0x0b),
    salt: new Uint8Array(0),
    info: new Uint8Array(0),
    length: 42,
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

describe('hkdf (RFC 5869 test cases)', () => {
  for (const tc of rfc5869) {
    it(tc.name, async () => {
      expect(toHex(await hkdf(tc.ikm, tc.salt, tc.info, tc.length * 8))).toBe(tc.okm);
      // ArrayBuffer input keying material is accepted as well (deriveBits returns one).
      expect(toHex(await hkdf(tc.ikm.slice().buffer, tc.salt, tc.info, tc.length * 8))).toBe(tc.okm);
    });
  }
});

describe('hkdf argument checks', () => {
  const ikm = new Uint8Array(32).fill(7);
  const empty = new Uint8Array(0);

  it.each([0, -8, 7, 12.5, Number.NaN, (HKDF_SHA256_MAX_BYTES + 1) * 8])(
    'rejects output length %s bits',
    async (bits) => {
      await expect(hkdf(ikm, empty, empty, bits)).rejects.toBeInstanceOf(InvalidArgumentError);
    },
  );

  it('accepts the maximal output length 255 x 32 bytes', async () => {
    const okm = await hkdf(ikm, empty, empty, HKDF_SHA256_MAX_BYTES * 8);
    expect(okm.length).toBe(HKDF_SHA256_MAX_BYTES);
  });

  it('rejects a salt or info that is not a Uint8Array', async () => {
    await expect(hkdf(ikm, 'salt' as unknown as Uint8Array, empty, 256)).rejects.toThrow(
      /HKDF salt must be a Uint8Array/,
    );
    await expect(hkdf(ikm, empty, null as unknown as Uint8Array, 256)).rejects.toThrow(
      /HKDF info must be a Uint8Array/,
    );
  });
});

describe('deriveAesGcmKey', () => {
  it('gives the AES-256-GCM key whose raw bytes are the first 32 HKDF output bytes', async () => {
    const ikm = hex('0b'.repeat(22));
    const salt = hex('000102030405060708090a0b0c');
    const info = hex('f0f1f2f3f4f5f6f7f8f9');
    const key = await deriveAesGcmKey(ikm, salt, info);
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    expect([...key.usages].sort()).toEqual(['decrypt', 'encrypt']);
    const raw = (await hkdf(ikm, salt, info, 256)).buffer;
    const reference = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
    const iv = new Uint8Array(12);
    const plaintext = new TextEncoder().encode('same key');
    const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, reference, plaintext));
    expect(await encryptBytes({ key, iv, plaintext })).toEqual(ct);
    expect(await decryptBytes({ key, iv, ciphertext: ct })).toEqual(plaintext);
  });
});
