import { DecryptError, InvalidArgumentError, KeyFormatError } from '../errors.js';
import { assertBytes, assertOptions, toBufferSource } from './bytes.js';
import { getSubtle } from './env.js';
import { syncAesGcm } from '../util/platform.js';
import { assertKey } from './keys.js';

/** AES-GCM IV length used throughout: 96 bits. */
export const AES_GCM_IV_LENGTH = 12;
/** AES-GCM authentication tag length: 128 bits, appended to the ciphertext. */
export const AES_GCM_TAG_LENGTH = 16;
/** AES-256 key length in bytes. */
export const AES_256_KEY_LENGTH = 32;

const EMPTY = new Uint8Array(0);

/** Arguments of {@link encryptBytes}. */
export interface EncryptBytesOptions {
  /** An AES-GCM key with the `encrypt` usage. */
  key: CryptoKey;
  /** 12-byte IV; must never repeat under the same key (use `randomBytes(12)` or a counter). */
  iv: Uint8Array;
  plaintext: Uint8Array;
  /** Additional authenticated data: bound to the ciphertext, not encrypted. */
  aad?: Uint8Array;
}

/** Arguments of {@link decryptBytes}. */
export interface DecryptBytesOptions {
  /** An AES-GCM key with the `decrypt` usage. */
  key: CryptoKey;
  /** 12-byte IV the sender used. */
  iv: Uint8Array;
  /** Ciphertext followed by the 16-byte tag. */
  ciphertext: Uint8Array;
  /** The additional authenticated data the sender bound; must match exactly. */
  aad?: Uint8Array;
}

/**
 * Imports 32 raw bytes as a non-extractable AES-256-GCM key.
 *
 * @throws KeyFormatError when `raw` is not 32 bytes.
 */
export async function importAesGcmKey(raw: Uint8Array): Promise<CryptoKey> {
  assertBytes(raw, 'AES key');
  if (raw.length !== AES_256_KEY_LENGTH)
    throw new KeyFormatError(`AES key is ${raw.length} bytes; expected ${AES_256_KEY_LENGTH} (AES-256)`);
  return getSubtle().importKey('raw', toBufferSource(raw), 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/**
 * AES-GCM with a 128-bit tag and NO argument checks, for callers whose key,
 * 12-byte IV and data are known good (the public functions below check first).
 * Failures are typed: DecryptError when decrypting, InvalidArgumentError when encrypting.
 * The platform's synchronous AES-GCM where it has one for this key and size
 * (Node: node:crypto, see src/util/platform.ts), else WebCrypto.
 * @internal
 */
export async function aesGcm(
  op: 'encrypt' | 'decrypt',
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  additionalData: Uint8Array<ArrayBuffer> = EMPTY,
): Promise<Uint8Array<ArrayBuffer>> {
  const done = syncAesGcm?.(op, key, iv, data, additionalData);
  if (done) return done;
  const subtle = getSubtle();
  try {
    // tagLength is left at its default, 128 bits; additionalData is never undefined, which Chromium refuses.
    return new Uint8Array(await subtle[op]({ name: 'AES-GCM', iv, additionalData }, key, data));
  } catch (cause) {
    throw op === 'decrypt'
      ? new DecryptError({ cause })
      : new InvalidArgumentError('AES-GCM encryption failed: plaintext too large?', { cause });
  }
}

/**
 * {@link aesGcm} done at once, with no promise, where the platform has a
 * synchronous AES-GCM for this key and size (Node: 12-byte IVs, inputs up to
 * 1 MiB); `undefined` where it has not (browsers), and the caller awaits
 * `aesGcm`: `aesGcmSync(...) ?? (await aesGcm(...))`. Same bytes; the same
 * typed errors, thrown. `key` may also be the raw key bytes, which spares a
 * one-time key its `importKey` on Node (elsewhere the caller imports it and awaits `aesGcm`).
 * @internal
 */
export function aesGcmSync(
  op: 'encrypt' | 'decrypt',
  key: CryptoKey | Uint8Array<ArrayBuffer>,
  iv: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  additionalData?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> | undefined {
  return syncAesGcm?.(op, key, iv, data, additionalData);
}

/**
 * {@link aesGcm} without a promise where it can be had: the bytes, done at
 * once by {@link aesGcmSync}, else the promise of {@link aesGcm}. A failure is
 * thrown at once in the first case and rejected in the second (same typed
 * errors), so callers handle both, as `OrderedQueue.add` does with its work.
 * @internal
 */
export function aesGcmNow(
  op: 'encrypt' | 'decrypt',
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> | Promise<Uint8Array<ArrayBuffer>> {
  return syncAesGcm?.(op, key, iv, data) ?? aesGcm(op, key, iv, data);
}

/** The argument checks encryption and decryption share. */
function checkGcm(key: unknown, usage: KeyUsage, iv: unknown, aad: unknown): void {
  assertKey(key, 'AES-GCM key', { type: 'secret', algorithm: 'AES-GCM', usage });
  assertBytes(iv, 'IV');
  assertBytes(aad, 'additional data');
  if (iv.length !== AES_GCM_IV_LENGTH)
    throw new KeyFormatError(`IV is ${iv.length} bytes; AES-GCM here needs exactly ${AES_GCM_IV_LENGTH}`);
}

/**
 * AES-256-GCM encryption with an explicit IV and optional AAD; returns
 * ciphertext ‖ 16-byte tag.
 *
 * @throws KeyFormatError for a wrong key or an IV that is not 12 bytes.
 * @example
 * const ct = await encryptBytes({ key, iv: randomBytes(12), plaintext, aad: header });
 */
export async function encryptBytes(options: EncryptBytesOptions): Promise<Uint8Array<ArrayBuffer>> {
  assertOptions(options, 'encryptBytes');
  const { key, iv, plaintext, aad = EMPTY } = options;
  checkGcm(key, 'encrypt', iv, aad);
  assertBytes(plaintext, 'plaintext');
  return aesGcm('encrypt', key, toBufferSource(iv), toBufferSource(plaintext), toBufferSource(aad));
}

/**
 * AES-256-GCM decryption and authentication. Every failure — wrong key type,
 * IV not 12 bytes, ciphertext shorter than the tag, tag mismatch — rejects with
 * the same {@link DecryptError}; the original error is its `cause`.
 *
 * @example
 * const plaintext = await decryptBytes({ key, iv, ciphertext, aad: header });
 */
export async function decryptBytes(options: DecryptBytesOptions): Promise<Uint8Array<ArrayBuffer>> {
  const { key, iv, ciphertext, aad = EMPTY } = options ?? {};
  try {
    checkGcm(key, 'decrypt', iv, aad);
    assertBytes(ciphertext, 'ciphertext');
    if (ciphertext.length < AES_GCM_TAG_LENGTH)
      throw new KeyFormatError(`ciphertext is shorter than the ${AES_GCM_TAG_LENGTH}-byte tag`);
  } catch (cause) {
    throw new DecryptError({ cause });
  }
  return aesGcm('decrypt', key, toBufferSource(iv), toBufferSource(ciphertext), toBufferSource(aad));
}
