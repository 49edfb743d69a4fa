import { createPublicKey, createVerify, createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyFormatError } from '../../src/errors.js';
import {
  exportVerifyKeyRaw,
  generateECDHKeyPair,
  generateSigningKeyPair,
  importSigningKey,
  importVerifyKey,
  sign,
  utf8Encode,
  verify,
} from '../../src/crypto/index.js';

const data = utf8Encode('challenge 1234');

describe('ECDSA P-256 signatures', () => {
  it('sign gives a 64-byte r‖s signature that verify accepts; tampering is refused', async () => {
    const { privateKey, publicKey } = await generateSigningKeyPair();
    const signature = await sign(privateKey, data);
    expect(signature.length).toBe(64);
    expect(await verify(publicKey, signature, data)).toBe(true);
    expect(await verify(publicKey, signature, utf8Encode('challenge 1235'))).toBe(false);
    const bad = signature.slice();
    bad[10] ^= 1;
    expect(await verify(publicKey, bad, data)).toBe(false);
    expect(await verify(publicKey, signature.subarray(0, 63), data)).toBe(false);
    expect(await verify(publicKey, new Uint8Array(72), data)).toBe(false);
  });

  it('the private key is non-extractable by default', async () => {
    const { privateKey } = await generateSigningKeyPair();
    expect(privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', privateKey)).rejects.toThrow();
  });

  it('an extractable key survives a JWK round trip through importSigningKey', async () => {
    const { privateKey, publicKey } = await generateSigningKeyPair({ extractable: true });
    const restored = await importSigningKey(await crypto.subtle.exportKey('jwk', privateKey));
    expect(restored.extractable).toBe(false);
    expect(await verify(publicKey, await sign(restored, data), data)).toBe(true);
  });

  it('raw verify keys round-trip and interoperate with node:crypto (ieee-p1363)', async () => {
    const { privateKey, publicKey } = await generateSigningKeyPair();
    const raw = await exportVerifyKeyRaw(publicKey);
    expect(raw.length).toBe(65);
    expect(raw[0]).toBe(4);
    const imported = await importVerifyKey(raw);
    const signature = await sign(privateKey, data);
    expect(await verify(imported, signature, data)).toBe(true);

    const nodeKey = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: Buffer.from(raw.subarray(1, 33)).toString('base64url'),
        y: Buffer.from(raw.subarray(33)).toString('base64url'),
      },
      format: 'jwk',
    });
    expect(createVerify('sha256').update(data).verify({ key: nodeKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
      true,
    );

    const nodePair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = nodePair.publicKey.export({ format: 'jwk' });
    const nodeRaw = new Uint8Array([
      4,
      ...Buffer.from(jwk.x as string, 'base64url'),
      ...Buffer.from(jwk.y as string, 'base64url'),
    ]);
    const nodeSig = createSign('sha256').update(data).sign({ key: nodePair.privateKey, dsaEncoding: 'ieee-p1363' });
    expect(await verify(await importVerifyKey(nodeRaw), new Uint8Array(nodeSig), data)).toBe(true);
  });

  it('importVerifyKey is strict about the point format', async () => {
    const raw = await exportVerifyKeyRaw((await generateSigningKeyPair()).publicKey);
    const compressed = new Uint8Array([2 + ((raw[64] as number) & 1), ...raw.subarray(1, 33)]);
    await expect(importVerifyKey(compressed, 'server identity key')).rejects.toThrow(
      /^server identity key is 33 bytes \(a compressed point/,
    );
    await expect(importVerifyKey(raw.subarray(0, 64))).rejects.toBeInstanceOf(KeyFormatError);
    const offCurve = raw.slice();
    offCurve[64] ^= 1;
    await expect(importVerifyKey(offCurve)).rejects.toThrow(/not a point on the P-256 curve/);
  });

  it('refuses keys of the wrong kind with KeyFormatError', async () => {
    const ecdh = await generateECDHKeyPair();
    const signing = await generateSigningKeyPair();
    await expect(sign(ecdh.keyPair.privateKey, data)).rejects.toThrow(
      /signing key must be a private ECDSA P-256 key, got a private ECDH/,
    );
    await expect(sign(signing.publicKey, data)).rejects.toBeInstanceOf(KeyFormatError);
    await expect(verify(signing.privateKey, new Uint8Array(64), data)).rejects.toBeInstanceOf(KeyFormatError);
    await expect(exportVerifyKeyRaw(ecdh.keyPair.publicKey)).rejects.toBeInstanceOf(KeyFormatError);
    await expect(importSigningKey({ kty: 'EC', crv: 'P-384', d: 'x' })).rejects.toThrow(/crv "P-256"/);
  });
});
