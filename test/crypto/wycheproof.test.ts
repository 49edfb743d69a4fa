/**
 * Project Wycheproof vectors (C2SP/wycheproof, Apache-2.0) run through this
 * module's API. The files are read from the shared folder, never copied here.
 */
import { createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptError, InvalidArgumentError, KeyFormatError } from '../../src/errors.js';
import { deriveSharedBits, importPeerPublicKey } from '../../src/crypto/ecdh.js';
import { decryptBytes, encryptBytes, importAesGcmKey } from '../../src/crypto/aead.js';
import { hkdf } from '../../src/crypto/hkdf.js';
import { type AeadGroup, type Group, type Test, hex, loadVectors, toHex } from './vectors.js';

interface EcpointTest extends Test {
  public: string;
  private: string;
  shared: string;
}
interface JwkTest extends Test {
  public: JsonWebKey;
  private: JsonWebKey;
  shared: string;
}
interface HkdfTest extends Test {
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
}

const ecpoint = loadVectors<Group<EcpointTest>>('ecdh_secp256r1_ecpoint_test.json');
const webcryptoJwk = loadVectors<Group<JwkTest>>('ecdh_secp256r1_webcrypto_test.json');
const aesGcm = loadVectors<AeadGroup>('aes_gcm_test.json');
const hkdfFile = loadVectors<Group<HkdfTest>>('hkdf_sha256_test.json');

const all = <T>(file: { testGroups: Group<T>[] } | undefined): T[] => file?.testGroups.flatMap((g) => g.tests) ?? [];

/** Private scalar as a non-extractable ECDH CryptoKey; the public half comes from node:crypto (test only). */
async function importPrivateScalar(scalarHex: string): Promise<CryptoKey> {
  const d = Buffer.alloc(32);
  const raw = Buffer.from(scalarHex, 'hex');
  const significant = raw.subarray(Math.max(0, raw.length - 32));
  significant.copy(d, 32 - significant.length);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  const jwk: JsonWebKey = {
    kty: 'EC',
    crv: 'P-256',
    d: d.toString('base64url'),
    x: pub.subarray(1, 33).toString('base64url'),
    y: pub.subarray(33, 65).toString('base64url'),
  };
  return crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
}

/** Runs our import + derive; returns the shared secret hex, or the error. */
async function agree(privateKey: CryptoKey, publicRaw: Uint8Array): Promise<string | Error> {
  try {
    return toHex(await deriveSharedBits(privateKey, await importPeerPublicKey(publicRaw)));
  } catch (err) {
    return err as Error;
  }
}

describe.skipIf(!ecpoint)('Wycheproof ECDH P-256, raw points (ecdh_secp256r1_ecpoint_test.json)', () => {
  const tests = all(ecpoint);

  it('valid tests give the expected shared secret through importPeerPublicKey + deriveSharedBits', async () => {
    const valid = tests.filter((t) => t.result === 'valid');
    const failures: string[] = [];
    for (const t of valid) {
      const out = await agree(await importPrivateScalar(t.private), hex(t.public));
      if (out !== t.shared) failures.push(`tcId ${t.tcId}: ${out instanceof Error ? out.message : out}`);
    }
    expect(failures).toEqual([]);
    expect(valid.length).toBe(330);
  });

  it('invalid tests (invalid-curve points, bad encodings) and compressed points are rejected with KeyFormatError', async () => {
    // "acceptable" here is the compressed-point encoding, which this library refuses by design.
    const rejected = tests.filter((t) => t.result !== 'valid');
    const failures: string[] = [];
    for (const t of rejected) {
      const out = await agree(await importPrivateScalar(t.private), hex(t.public));
      if (!(out instanceof KeyFormatError)) failures.push(`tcId ${t.tcId} (${t.flags.join(',')}) was not rejected`);
    }
    expect(failures).toEqual([]);
    expect(rejected.length).toBe(25);
    expect(rejected.filter((t) => t.flags.includes('InvalidCurveAttack')).length).toBe(16);
  });
});

describe.skipIf(!webcryptoJwk)('Wycheproof ECDH P-256, WebCrypto JWK (ecdh_secp256r1_webcrypto_test.json)', () => {
  // Our API takes raw 65-byte points; a JWK naming another curve has no raw-point
  // equivalent (the curve label only exists in JWK), so those 5 tests do not apply.
  const applicable = all(webcryptoJwk).filter((t) => t.public.crv === 'P-256' && t.private.crv === 'P-256');
  const rawPoint = (jwk: JsonWebKey) =>
    new Uint8Array([0x04, ...Buffer.from(jwk.x ?? '', 'base64url'), ...Buffer.from(jwk.y ?? '', 'base64url')]);
  const importJwkPrivate = (jwk: JsonWebKey) =>
    crypto.subtle.importKey('jwk', jwk, { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);

  it('valid tests give the expected shared secret; invalid points are rejected with KeyFormatError', async () => {
    const failures: string[] = [];
    let valid = 0;
    let invalid = 0;
    for (const t of applicable) {
      const out = await agree(await importJwkPrivate(t.private), rawPoint(t.public));
      if (t.result === 'valid') {
        valid++;
        if (out !== t.shared) failures.push(`tcId ${t.tcId}: ${out instanceof Error ? out.message : out}`);
      } else {
        invalid++;
        if (!(out instanceof KeyFormatError)) failures.push(`tcId ${t.tcId} (${t.flags.join(',')}) was not rejected`);
      }
    }
    expect(failures).toEqual([]);
    expect({ valid, invalid, skipped: all(webcryptoJwk).length - applicable.length }).toEqual({
      valid: 330,
      invalid: 18,
      skipped: 5,
    });
  });
});

describe.skipIf(!aesGcm)('Wycheproof AES-GCM (aes_gcm_test.json)', () => {
  const groups = aesGcm?.testGroups ?? [];
  const ours = groups.filter((g) => g.ivSize === 96 && g.keySize === 256 && g.tagSize === 128).flatMap((g) => g.tests);

  it('96-bit IV / 256-bit key: valid tests decrypt to msg (with aad) and encrypt to ct‖tag; invalid ones → DecryptError', async () => {
    const failures: string[] = [];
    for (const t of ours) {
      const key = await importAesGcmKey(hex(t.key));
      const args = { key, iv: hex(t.iv), aad: hex(t.aad) };
      const sealed = hex(t.ct + t.tag);
      let opened: Uint8Array | Error;
      try {
        opened = await decryptBytes({ ...args, ciphertext: sealed });
      } catch (err) {
        opened = err as Error;
      }
      if (t.result === 'valid') {
        if (opened instanceof Error || toHex(opened) !== t.msg) failures.push(`tcId ${t.tcId}: decrypt mismatch`);
        if (toHex(await encryptBytes({ ...args, plaintext: hex(t.msg) })) !== t.ct + t.tag)
          failures.push(`tcId ${t.tcId}: encrypt mismatch`);
      } else if (!(opened instanceof DecryptError) || opened.message !== 'decryption failed') {
        failures.push(`tcId ${t.tcId} (${t.flags.join(',')}) was not rejected with DecryptError`);
      }
    }
    expect(failures).toEqual([]);
    expect(ours.length).toBe(66);
  });

  it('256-bit key groups with any other IV size: every test is refused with DecryptError (12-byte IVs only)', async () => {
    const others = groups.filter((g) => g.ivSize !== 96 && g.keySize === 256).flatMap((g) => g.tests);
    expect(others.length).toBeGreaterThan(0);
    for (const t of others) {
      const key = await importAesGcmKey(hex(t.key));
      await expect(
        decryptBytes({ key, iv: hex(t.iv), aad: hex(t.aad), ciphertext: hex(t.ct + t.tag) }),
      ).rejects.toBeInstanceOf(DecryptError);
    }
  });
});

describe.skipIf(!hkdfFile)('Wycheproof HKDF-SHA-256 (hkdf_sha256_test.json)', () => {
  const tests = all(hkdfFile);

  it('valid tests match okm; SizeTooLarge tests are refused with InvalidArgumentError', async () => {
    const failures: string[] = [];
    for (const t of tests) {
      let out: string | Error;
      try {
        out = toHex(await hkdf(hex(t.ikm), hex(t.salt), hex(t.info), t.size * 8));
      } catch (err) {
        out = err as Error;
      }
      if (t.result === 'valid' && out !== t.okm) failures.push(`tcId ${t.tcId}: mismatch`);
      if (t.result === 'invalid' && !(out instanceof InvalidArgumentError))
        failures.push(`tcId ${t.tcId}: not refused`);
    }
    expect(failures).toEqual([]);
    expect(tests.length).toBe(86);
  });
});
