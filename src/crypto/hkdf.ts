import { InvalidArgumentError, KeyFormatError } from '../errors.js';
import { assertBytes, toBufferSource } from './bytes.js';
import { getSubtle } from './env.js';

/** Largest HKDF-SHA-256 output: 255 × 32 bytes (RFC 5869 §2.3). */
export const HKDF_SHA256_MAX_BYTES = 255 * 32;

/** Checks the inputs; returns the key material as bytes. */
function checkHkdf(ikm: Uint8Array | ArrayBuffer, salt: Uint8Array, info: Uint8Array): Uint8Array {
  const bytes = ikm instanceof ArrayBuffer ? new Uint8Array(ikm) : ikm;
  assertBytes(bytes, 'HKDF input keying material');
  assertBytes(salt, 'HKDF salt');
  assertBytes(info, 'HKDF info');
  return bytes;
}

/** HKDF-SHA-256 parameters. */
const hkdfParams = (salt: Uint8Array, info: Uint8Array): HkdfParams => ({
  name: 'HKDF',
  hash: 'SHA-256',
  salt: toBufferSource(salt),
  info: toBufferSource(info),
});

/** Runs a derivation on caller-supplied key material: WebCrypto refusing it becomes an error that says what to pass. */
async function refusedAsKeyFormat<T>(derive: () => Promise<T>): Promise<T> {
  try {
    return await derive();
  } catch (cause) {
    throw new KeyFormatError('HKDF input keying material was refused by WebCrypto; pass the raw secret bytes', {
      cause,
    });
  }
}

/**
 * HKDF-SHA-256 (RFC 5869): `lengthBits / 8` bytes of output keying material.
 * An empty salt means HashLen zero bytes, as in the RFC.
 *
 * @param lengthBits - a positive multiple of 8, at most 255 × 256.
 * @throws InvalidArgumentError for a bad length; KeyFormatError for unusable key material.
 * @example
 * const okm = await hkdf(sharedSecret, salt, utf8Encode('my-app v1'), 512);
 */
export async function hkdf(
  ikm: Uint8Array | ArrayBuffer,
  salt: Uint8Array,
  info: Uint8Array,
  lengthBits: number,
): Promise<Uint8Array<ArrayBuffer>> {
  if (
    !Number.isSafeInteger(lengthBits) ||
    lengthBits <= 0 ||
    lengthBits % 8 !== 0 ||
    lengthBits > HKDF_SHA256_MAX_BYTES * 8
  ) {
    throw new InvalidArgumentError(
      `HKDF output length must be a positive multiple of 8 bits up to ${HKDF_SHA256_MAX_BYTES * 8}, got ${String(lengthBits)}`,
    );
  }
  const bytes = toBufferSource(checkHkdf(ikm, salt, info));
  const key = await refusedAsKeyFormat(() => getSubtle().importKey('raw', bytes, 'HKDF', false, ['deriveBits']));
  return new Uint8Array(await getSubtle().deriveBits(hkdfParams(salt, info), key, lengthBits));
}

/**
 * An AES-256-GCM key (non-extractable, encrypt + decrypt) derived with
 * HKDF-SHA-256 from input keying material such as an ECDH shared secret.
 *
 * @example
 * const aesKey = await deriveAesGcmKey(await deriveSharedBits(priv, peerPub), salt, utf8Encode('info'));
 */
export async function deriveAesGcmKey(
  ikm: Uint8Array | ArrayBuffer,
  salt: Uint8Array,
  info: Uint8Array,
): Promise<CryptoKey> {
  const bytes = toBufferSource(checkHkdf(ikm, salt, info));
  return refusedAsKeyFormat(() => hkdfAesGcmKey(bytes, toBufferSource(salt), toBufferSource(info)));
}

/**
 * {@link deriveAesGcmKey} without the argument checks, for callers whose bytes
 * are known good and ArrayBuffer-backed (an ECDH secret): one WebCrypto
 * pipeline, and WebCrypto's own error is left as it is.
 * @internal
 */
export async function hkdfAesGcmKey(
  ikm: Uint8Array<ArrayBuffer>,
  salt: Uint8Array<ArrayBuffer>,
  info: Uint8Array<ArrayBuffer>,
): Promise<CryptoKey> {
  const subtle = getSubtle();
  const key = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey']);
  return subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, { name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
}
