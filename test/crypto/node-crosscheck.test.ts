/**
 * Cross-check against an independent implementation (node:crypto / OpenSSL),
 * used here in the test only: both sides must agree byte for byte.
 */
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomBytes as nodeRandom } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  decrypt,
  decryptBytes,
  deriveAESKey,
  deriveSharedBits,
  encrypt,
  encryptBytes,
  generateECDHKeyPair,
  hkdf,
  importAesGcmKey,
  importPeerPublicKey,
  utf8Encode,
} from '../../src/crypto/index.js';

const ecdhInfo = 'cross-check info';

function nodeSeal(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
}

function nodeOpen(key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return new Uint8Array(Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]));
}

/** One handshake: our client key pair vs an OpenSSL "server". */
async function pair() {
  const ours = await generateECDHKeyPair();
  const server = createECDH('prime256v1');
  server.generateKeys();
  const salt = new Uint8Array(nodeRandom(32));
  const nodeShared = server.computeSecret(Buffer.from(base64ToBytes(ours.publicKeyB64)));
  const nodeKey = new Uint8Array(hkdfSync('sha256', nodeShared, salt, Buffer.from(ecdhInfo, 'utf8'), 32));
  const aesKey = await deriveAESKey({
    clientPrivateKey: ours.keyPair.privateKey,
    serverPublicKeyB64: server.getPublicKey('base64'),
    saltB64: bytesToBase64(salt),
    ecdhInfo,
  });
  return { ours, server, salt, nodeShared, nodeKey, aesKey };
}

describe('cross-check with node:crypto', () => {
  it('ECDH shared secrets and HKDF outputs agree', async () => {
    for (let i = 0; i < 10; i++) {
      const { ours, server, salt, nodeShared, nodeKey } = await pair();
      const ourShared = await deriveSharedBits(
        ours.keyPair.privateKey,
        await importPeerPublicKey(new Uint8Array(server.getPublicKey())),
      );
      expect(Buffer.from(ourShared).equals(nodeShared)).toBe(true);
      expect(await hkdf(ourShared, salt, utf8Encode(ecdhInfo), 256)).toEqual(nodeKey);
    }
  });

  it('our encrypt() opens with OpenSSL, and OpenSSL ciphertext opens with our decrypt(), both directions', async () => {
    const messages = ['', 'a', 'héllo wörld ✓', JSON.stringify({ event: 'chat', data: { n: 1, s: 'x'.repeat(5000) } })];
    for (const plaintext of messages) {
      const { nodeKey, aesKey } = await pair();
      const payload = await encrypt({ plaintext, aesKey });
      const opened = nodeOpen(nodeKey, base64ToBytes(payload.iv), base64ToBytes(payload.ct));
      expect(Buffer.from(opened).toString('utf8')).toBe(plaintext);

      const iv = new Uint8Array(nodeRandom(12));
      const sealed = nodeSeal(nodeKey, iv, Buffer.from(plaintext, 'utf8'));
      expect(await decrypt({ payload: { iv: bytesToBase64(iv), ct: bytesToBase64(sealed) }, aesKey })).toBe(plaintext);
    }
  });

  it('encryptBytes/decryptBytes with AAD agree with OpenSSL both ways', async () => {
    for (let i = 0; i < 20; i++) {
      const raw = new Uint8Array(nodeRandom(32));
      const key = await importAesGcmKey(raw);
      const iv = new Uint8Array(nodeRandom(12));
      const aad = new Uint8Array(nodeRandom(i * 3));
      const plaintext = new Uint8Array(nodeRandom(i * 97));
      const ours = await encryptBytes({ key, iv, plaintext, aad });
      expect(ours).toEqual(nodeSeal(raw, iv, plaintext, aad));
      expect(nodeOpen(raw, iv, ours, aad)).toEqual(plaintext);
      expect(await decryptBytes({ key, iv, ciphertext: nodeSeal(raw, iv, plaintext, aad), aad })).toEqual(plaintext);
    }
  });
});
