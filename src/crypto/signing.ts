import { KeyFormatError } from '../errors.js';
import { assertBytes, toBufferSource } from './bytes.js';
import { assertRawP256PublicKey } from './ecdh.js';
import { getSubtle } from './env.js';
import { assertKey } from './keys.js';

/** Length of an ECDSA P-256 signature in WebCrypto's raw r ‖ s form. */
export const P256_SIGNATURE_LENGTH = 64;

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Options of {@link generateSigningKeyPair}. */
export interface SigningKeyPairOptions {
  /**
   * Make the private key extractable (default `false`), e.g. so a server can
   * store it as JWK. Browsers can persist non-extractable keys in IndexedDB.
   */
  extractable?: boolean;
}

/**
 * Generates an ECDSA P-256 key pair for signing (server authentication, peer identity).
 *
 * @example
 * const identity = await generateSigningKeyPair();
 * const publicRaw = await exportVerifyKeyRaw(identity.publicKey);
 */
export async function generateSigningKeyPair(options: SigningKeyPairOptions = {}): Promise<CryptoKeyPair> {
  return getSubtle().generateKey(ECDSA_P256, options.extractable === true, ['sign', 'verify']);
}

/**
 * Imports an ECDSA P-256 private key from JWK (as stored by a server), non-extractable.
 *
 * @throws KeyFormatError when the JWK is not a P-256 private key.
 */
export async function importSigningKey(jwk: JsonWebKey): Promise<CryptoKey> {
  if (typeof jwk !== 'object' || jwk === null || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') {
    throw new KeyFormatError('signing key must be a JWK with kty "EC", crv "P-256" and a private "d" member');
  }
  try {
    return await getSubtle().importKey('jwk', jwk, ECDSA_P256, false, ['sign']);
  } catch (cause) {
    throw new KeyFormatError('signing key JWK was refused: it is not a valid P-256 private key', { cause });
  }
}

/**
 * Signs `data` with ECDSA P-256 / SHA-256; returns the 64-byte r ‖ s signature.
 *
 * @throws KeyFormatError when `privateKey` is not an ECDSA P-256 signing key.
 */
export async function sign(privateKey: CryptoKey, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  assertKey(privateKey, 'signing key', { type: 'private', algorithm: 'ECDSA', namedCurve: 'P-256', usage: 'sign' });
  assertBytes(data, 'data to sign');
  return new Uint8Array(await getSubtle().sign(ECDSA_SHA256, privateKey, toBufferSource(data)));
}

/**
 * Verifies a 64-byte r ‖ s ECDSA P-256 / SHA-256 signature. A signature of any
 * other length is simply invalid (`false`): it usually comes from the network.
 *
 * @throws KeyFormatError when `publicKey` is not an ECDSA P-256 verify key.
 * @example
 * if (!(await verify(serverKey, signature, challenge))) throw new AuthenticationError('bad server signature');
 */
export async function verify(publicKey: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  assertKey(publicKey, 'verify key', { type: 'public', algorithm: 'ECDSA', namedCurve: 'P-256', usage: 'verify' });
  assertBytes(signature, 'signature');
  assertBytes(data, 'signed data');
  return verifySignature(publicKey, toBufferSource(signature), toBufferSource(data));
}

/**
 * {@link verify} without the argument checks, for callers whose key is known
 * to be an ECDSA P-256 verify key and whose bytes are ArrayBuffer-backed (a
 * signature of the wrong length is still `false`).
 * @internal
 */
export async function verifySignature(
  publicKey: CryptoKey,
  signature: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  return signature.length === P256_SIGNATURE_LENGTH && getSubtle().verify(ECDSA_SHA256, publicKey, signature, data);
}

/** The raw 65-byte uncompressed form of an ECDSA P-256 public key. */
export async function exportVerifyKeyRaw(publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  assertKey(publicKey, 'verify key', { type: 'public', algorithm: 'ECDSA', namedCurve: 'P-256' });
  return new Uint8Array(await getSubtle().exportKey('raw', publicKey));
}

/**
 * Imports a raw 65-byte uncompressed ECDSA P-256 public key for {@link verify}.
 *
 * @param what - names the key in error messages.
 * @throws KeyFormatError when the key is malformed or not on the curve.
 */
export async function importVerifyKey(raw: Uint8Array, what = 'verify key'): Promise<CryptoKey> {
  assertRawP256PublicKey(raw, what);
  try {
    return await getSubtle().importKey('raw', toBufferSource(raw), ECDSA_P256, true, ['verify']);
  } catch (cause) {
    throw new KeyFormatError(`${what} is not a point on the P-256 curve`, { cause });
  }
}
