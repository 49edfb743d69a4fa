/**
 * `wss-sessions/crypto`: WebCrypto-only building blocks — ephemeral ECDH P-256,
 * HKDF-SHA-256, AES-256-GCM envelopes, ECDSA P-256 signatures and strict, fast
 * base64. Works in browsers (secure contexts), Node 20+, Deno, Bun and workers.
 *
 * @example
 * import { generateECDHKeyPair, deriveAESKey, encrypt, decrypt } from 'wss-sessions/crypto';
 * const { keyPair, publicKeyB64 } = await generateECDHKeyPair();
 * const aesKey = await deriveAESKey({ clientPrivateKey: keyPair.privateKey, serverPublicKeyB64, saltB64, ecdhInfo });
 * const payload = await encrypt({ plaintext: 'hello', aesKey });
 * await decrypt({ payload, aesKey }); // 'hello'
 * @packageDocumentation
 */
export { DecryptError, KeyFormatError, UnsupportedEnvironmentError } from '../errors.js';
export { type IEncryptedPayload, deriveAESKey, encrypt, decrypt } from './signal-crypto.js';
export {
  type IECDHKeyPair,
  P256_PUBLIC_KEY_LENGTH,
  generateECDHKeyPair,
  importPeerPublicKey,
  exportPublicKeyRaw,
  deriveSharedBits,
} from './ecdh.js';
export { HKDF_SHA256_MAX_BYTES, hkdf, deriveAesGcmKey } from './hkdf.js';
export {
  type EncryptBytesOptions,
  type DecryptBytesOptions,
  AES_GCM_IV_LENGTH,
  AES_GCM_TAG_LENGTH,
  AES_256_KEY_LENGTH,
  importAesGcmKey,
  encryptBytes,
  decryptBytes,
} from './aead.js';
export {
  type SigningKeyPairOptions,
  P256_SIGNATURE_LENGTH,
  generateSigningKeyPair,
  importSigningKey,
  sign,
  verify,
  exportVerifyKeyRaw,
  importVerifyKey,
} from './signing.js';
export { sha256 } from './hash.js';
export { randomBytes, getSubtle } from './env.js';
export {
  arrayBufferToBase64,
  base64ToArrayBuffer,
  bytesToBase64,
  base64ToBytes,
  base64Implementation,
} from './base64.js';
export { utf8Encode, utf8Decode, timingSafeEqual, concatBytes } from './bytes.js';
