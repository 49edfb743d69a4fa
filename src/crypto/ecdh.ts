import { KeyFormatError } from '../errors.js';
import { bytesToBase64 } from './base64.js';
import { assertBytes, toBufferSource } from './bytes.js';
import { getSubtle } from './env.js';
import { assertKey } from './keys.js';

/** Length of a raw uncompressed P-256 public key: 0x04 ‖ X (32 bytes) ‖ Y (32 bytes). */
export const P256_PUBLIC_KEY_LENGTH = 65;

const ECDH_P256 = { name: 'ECDH', namedCurve: 'P-256' } as const;

/** An ephemeral ECDH P-256 key pair plus its public key as base64 of the raw 65-byte point. */
export interface IECDHKeyPair {
  /** The key pair; the private key is non-extractable. */
  keyPair: CryptoKeyPair;
  /** Standard base64 of the 65-byte uncompressed public point. */
  publicKeyB64: string;
}

/**
 * Throws KeyFormatError unless `raw` is exactly 65 bytes starting with 0x04.
 * Some WebCrypto implementations (Node's among them) also accept compressed and
 * hybrid points; this library accepts only the uncompressed form the protocols use.
 */
export function assertRawP256PublicKey(raw: Uint8Array, what: string): void {
  assertBytes(raw, what);
  const first = raw[0] ?? 0;
  if (isRawP256(raw)) return;
  const full = raw.length === P256_PUBLIC_KEY_LENGTH;
  const problem = full ? `starts with 0x${first.toString(16).padStart(2, '0')}` : `is ${raw.length} bytes`;
  // Name the two other SEC1 encodings, which some peers send: 33-byte compressed, 65-byte hybrid.
  const form =
    !full && raw.length === 33 && (first === 2 || first === 3)
      ? ' (a compressed point)'
      : full && first >> 1 === 3
        ? ' (a hybrid point)'
        : '';
  throw new KeyFormatError(`${what} ${problem}${form}; send the 65-byte uncompressed P-256 point 0x04 ‖ X ‖ Y`);
}

/** Whether `raw` is a 65-byte uncompressed P-256 point 0x04 ‖ X ‖ Y (the only form the protocols use). */
const isRawP256 = (raw: Uint8Array): boolean => raw.length === P256_PUBLIC_KEY_LENGTH && raw[0] === 4;

/**
 * {@link assertRawP256PublicKey} with one short message instead of a
 * diagnosis, for the size-budgeted Signal and SecureSession bundles.
 * @internal
 */
export function checkRawP256(raw: Uint8Array, what: string): void {
  if (!isRawP256(raw)) throw new KeyFormatError(`${what} must be a 65-byte uncompressed P-256 point`);
}

/**
 * Imports a raw P-256 public key (format-checked by {@link checkRawP256}, on
 * the curve checked by WebCrypto) as an ECDH key, or with `verify` as an
 * ECDSA verify key: the lean form of `importPeerPublicKey` and `importVerifyKey`.
 * @throws KeyFormatError naming `what`.
 * @internal
 */
export async function importRawP256(raw: Uint8Array<ArrayBuffer>, what: string, verify?: boolean): Promise<CryptoKey> {
  checkRawP256(raw, what);
  try {
    return await getSubtle().importKey(
      'raw',
      raw,
      { name: verify ? 'ECDSA' : 'ECDH', namedCurve: 'P-256' },
      true,
      verify ? ['verify'] : [],
    );
  } catch (cause) {
    throw new KeyFormatError(`${what} is not a point on the P-256 curve`, { cause });
  }
}

/**
 * Generates an ephemeral ECDH P-256 key pair with a non-extractable private key.
 *
 * @example
 * const { keyPair, publicKeyB64 } = await generateECDHKeyPair();
 */
export async function generateECDHKeyPair(): Promise<IECDHKeyPair> {
  const subtle = getSubtle();
  const keyPair = await subtle.generateKey(ECDH_P256, false, ['deriveBits']);
  return { keyPair, publicKeyB64: bytesToBase64(new Uint8Array(await subtle.exportKey('raw', keyPair.publicKey))) };
}

/**
 * Imports a peer's raw ECDH P-256 public key after a strict format check; the
 * platform then rejects points that are not on the curve.
 *
 * @param what - names the key in error messages.
 * @throws KeyFormatError when the key is not a 65-byte uncompressed point on P-256.
 * @example
 * const peerKey = await importPeerPublicKey(base64ToBytes(peer.publicKey, 'peer public key'));
 */
export async function importPeerPublicKey(raw: Uint8Array, what = 'peer public key'): Promise<CryptoKey> {
  assertRawP256PublicKey(raw, what);
  const subtle = getSubtle();
  try {
    return await subtle.importKey('raw', toBufferSource(raw), ECDH_P256, true, []);
  } catch (cause) {
    throw new KeyFormatError(`${what} is not a point on the P-256 curve`, { cause });
  }
}

/**
 * The raw 65-byte uncompressed form of an EC P-256 public key (ECDH or ECDSA).
 *
 * @throws KeyFormatError when `publicKey` is not an EC P-256 public key.
 */
export async function exportPublicKeyRaw(publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  const name = (publicKey as Partial<CryptoKey> | null)?.algorithm?.name;
  assertKey(publicKey, 'public key', {
    type: 'public',
    algorithm: name === 'ECDSA' ? name : 'ECDH',
    namedCurve: 'P-256',
  });
  return new Uint8Array(await getSubtle().exportKey('raw', publicKey));
}

/**
 * The 32-byte ECDH P-256 shared secret of a local private key and a peer public
 * key. Use it only as HKDF input keying material, never directly as a key.
 *
 * @throws KeyFormatError when either key has the wrong type, algorithm or usage.
 * @example
 * const ikm = await deriveSharedBits(keyPair.privateKey, await importPeerPublicKey(raw));
 */
export async function deriveSharedBits(privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  assertKey(privateKey, 'ECDH private key', {
    type: 'private',
    algorithm: 'ECDH',
    namedCurve: 'P-256',
    usage: 'deriveBits',
  });
  assertKey(publicKey, 'ECDH public key', { type: 'public', algorithm: 'ECDH', namedCurve: 'P-256' });
  try {
    return await ecdhBits(privateKey, publicKey);
  } catch (cause) {
    throw new KeyFormatError('ECDH key agreement failed; check that both keys are valid P-256 keys', { cause });
  }
}

/**
 * {@link deriveSharedBits} without the key checks, for callers whose keys are
 * known good (a private key from {@link generateECDHKeyPair}, a public key from
 * {@link importPeerPublicKey}): WebCrypto's own error is left as it is.
 * @internal
 */
export async function ecdhBits(privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await getSubtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256));
}
