/**
 * The WebCrypto operations of the scheme. Every key here is made by this
 * module or has passed its checks (options, `readPeerAdvert`), so the argument
 * checks of `wss-sessions/crypto` would have nothing left to catch: the
 * platform is called directly, with no algorithm of its own.
 */
import { DecryptError, InvalidArgumentError, KeyFormatError } from '../errors.js';
import { webCrypto } from '../util/random.js';

const subtle = (): SubtleCrypto => webCrypto().subtle;
const bytes = async (result: Promise<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> => new Uint8Array(await result);
const ECDH = { name: 'ECDH', namedCurve: 'P-256' };
// One object serves ECDSA key import (reads namedCurve) and sign/verify (reads hash).
const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const AES: AesKeyAlgorithm = { name: 'AES-GCM', length: 256 };
const AES_USES: KeyUsage[] = ['encrypt', 'decrypt'];

/** A fresh ECDH P-256 pair (private key not extractable) and its raw 65-byte public key. */
export async function generateEcdh(): Promise<{ privateKey: CryptoKey; publicRaw: Uint8Array<ArrayBuffer> }> {
  const pair = await subtle().generateKey(ECDH, false, ['deriveBits']);
  return { privateKey: pair.privateKey, publicRaw: await exportRaw(pair.publicKey) };
}

/** The raw 65-byte form of an EC public key. */
export const exportRaw = (key: CryptoKey): Promise<Uint8Array<ArrayBuffer>> => bytes(subtle().exportKey('raw', key));

/**
 * Imports a raw P-256 point, already checked to be 65 bytes from 0x04, as an
 * ECDH (`verify: false`) or ECDSA verify key; the platform rejects points off the curve.
 * @throws {KeyFormatError} naming `what`.
 */
export async function importPoint(raw: Uint8Array<ArrayBuffer>, verify: boolean, what: string): Promise<CryptoKey> {
  try {
    return await subtle().importKey('raw', raw, verify ? ECDSA : ECDH, true, verify ? ['verify'] : []);
  } catch (cause) {
    throw new KeyFormatError(`${what} is not a point on the P-256 curve`, { cause });
  }
}

/** The 32-byte ECDH shared secret, used only as HKDF input. */
export const sharedBits = (privateKey: CryptoKey, publicKey: CryptoKey): Promise<Uint8Array<ArrayBuffer>> =>
  bytes(subtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256));

/** AES-256-GCM keys (not extractable) from HKDF-SHA-256 of `ikm` with `salt` and each of `infos`. */
export async function hkdfAesKeys(ikm: Uint8Array<ArrayBuffer>, salt: Uint8Array<ArrayBuffer>, infos: Uint8Array<ArrayBuffer>[]): Promise<CryptoKey[]> {
  const key = await subtle().importKey('raw', ikm, 'HKDF', false, ['deriveKey']);
  return Promise.all(infos.map((info) => subtle().deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, AES, false, AES_USES)));
}

/** A one-time AES-256-GCM key from 32 raw bytes. */
export const importAesKey = (raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> => subtle().importKey('raw', raw, AES, false, AES_USES);

/**
 * AES-GCM with a 128-bit tag: ciphertext ‖ tag out when encrypting.
 * @throws {DecryptError} (the one fixed error) for any decryption failure.
 */
export async function aesGcm(encrypt: boolean, key: CryptoKey, iv: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>, aad: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await bytes(subtle()[encrypt ? 'encrypt' : 'decrypt']({ name: 'AES-GCM', iv, additionalData: aad }, key, data));
  } catch (cause) {
    throw encrypt ? new InvalidArgumentError('AES-GCM encryption failed; the message may be too large', { cause }) : new DecryptError({ cause });
  }
}

export const sha256 = (data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> => bytes(subtle().digest('SHA-256', data));

/** ECDSA P-256 / SHA-256, raw 64-byte r ‖ s. */
export const sign = (privateKey: CryptoKey, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> => bytes(subtle().sign(ECDSA, privateKey, data));

/** A signature of any length but 64 bytes is simply invalid. */
export const verify = async (publicKey: CryptoKey, signature: Uint8Array<ArrayBuffer>, data: Uint8Array<ArrayBuffer>): Promise<boolean> =>
  signature.length === 64 && subtle().verify(ECDSA, publicKey, signature, data);

/** `n` random bytes. */
export const randomBytes = (n: number): Uint8Array<ArrayBuffer> => webCrypto().getRandomValues(new Uint8Array(n));
