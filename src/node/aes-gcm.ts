/**
 * AES-GCM on node:crypto's synchronous cipher, installed by ./setup.ts as the
 * platform's `syncAesGcm` (src/util/platform.ts): each WebCrypto call is a round trip through
 * libuv's thread pool and a promise, several times the cost of the cipher
 * itself for chat-sized messages. Same bytes on the wire: ciphertext ‖ 16-byte tag.
 */
import { createCipheriv, createDecipheriv, KeyObject, type CipherGCMTypes } from 'node:crypto';
import { concatBytes } from '../crypto/bytes.js';
import { DecryptError, InvalidArgumentError, KeyFormatError } from '../errors.js';
import type { SyncAesGcm, SyncSeal } from '../util/platform.js';

/**
 * Largest input done synchronously. Bigger ones go to WebCrypto, which works
 * off the event loop: at AES-NI speeds 1 MiB holds the loop for well under a millisecond.
 */
export const SYNC_AES_GCM_LIMIT = 1 << 20;

const TAG_LENGTH = 16;
/** The one IV length the library uses; others go to WebCrypto, whose limits differ from node:crypto's. */
const IV_LENGTH = 12;

const CIPHERS: Readonly<Record<number, CipherGCMTypes>> = { 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' };

/** What node:crypto needs of a key. */
interface NodeKey {
  object: KeyObject | Uint8Array;
  cipher: CipherGCMTypes;
  usages: readonly KeyUsage[];
}

const BOTH: readonly KeyUsage[] = ['encrypt', 'decrypt'];

/**
 * One entry per CryptoKey seen, held only as long as the key itself: its
 * KeyObject (also for non-extractable keys), or null when node:crypto cannot
 * use it (WebCrypto then gives the usual error). CryptoKeys are immutable, so
 * the entry never goes stale.
 */
const nodeKeys = new WeakMap<CryptoKey, NodeKey | null>();

function toNodeKey(key: CryptoKey): NodeKey | null {
  try {
    if (key.algorithm.name !== 'AES-GCM') return null;
    const object = KeyObject.from(key);
    const cipher = CIPHERS[object.symmetricKeySize ?? 0];
    return cipher ? { object, cipher, usages: key.usages } : null;
  } catch {
    return null;
  }
}

function nodeKey(key: CryptoKey | Uint8Array): NodeKey | null {
  if (key instanceof Uint8Array) {
    const cipher = CIPHERS[key.length];
    return cipher ? { object: key, cipher, usages: BOTH } : null;
  }
  if (typeof key !== 'object' || key === null) return null;
  let found = nodeKeys.get(key);
  if (found === undefined) {
    found = toNodeKey(key);
    nodeKeys.set(key, found);
  }
  return found;
}

/** node:crypto's cipher options: the tag length every path here uses (made once, not per message). */
const GCM_OPTIONS = { authTagLength: TAG_LENGTH };

function seal(
  key: NodeKey,
  iv: Uint8Array,
  plaintext: Uint8Array,
  additionalData: Uint8Array | undefined,
): Uint8Array<ArrayBuffer> {
  const cipher = createCipheriv(key.cipher, key.object, iv, GCM_OPTIONS);
  if (additionalData) cipher.setAAD(additionalData);
  const out = new Uint8Array(plaintext.length + TAG_LENGTH);
  const body = cipher.update(plaintext);
  out.set(body);
  out.set(cipher.final(), body.length);
  out.set(cipher.getAuthTag(), plaintext.length);
  return out;
}

function open(
  key: NodeKey,
  iv: Uint8Array,
  sealed: Uint8Array,
  additionalData: Uint8Array | undefined,
): Uint8Array<ArrayBuffer> {
  if (sealed.length < TAG_LENGTH) throw new KeyFormatError(`ciphertext is shorter than the ${TAG_LENGTH}-byte tag`);
  const end = sealed.length - TAG_LENGTH;
  const decipher = createDecipheriv(key.cipher, key.object, iv, GCM_OPTIONS);
  if (additionalData) decipher.setAAD(additionalData);
  decipher.setAuthTag(sealed.subarray(end));
  const body = decipher.update(sealed.subarray(0, end));
  // Throws when the tag does not authenticate; `body` is then never returned. GCM gives nothing more here.
  const rest = decipher.final();
  return rest.length ? concatBytes(body, rest) : own(body);
}

/**
 * The bytes as a plain Uint8Array owning its whole ArrayBuffer: a view when the
 * Buffer has one to itself (node:crypto's output does), else a copy (a Buffer
 * may be a slice of a shared pool, which must not leak through `.buffer`).
 */
function own(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer, byteOffset, length } = bytes;
  return buffer instanceof ArrayBuffer && byteOffset === 0 && buffer.byteLength === length
    ? new Uint8Array(buffer, 0, length)
    : new Uint8Array(bytes);
}

/**
 * AES-GCM (128-bit tag) on node:crypto for AES-GCM CryptoKeys holding the
 * operation's usage or raw keys of 16, 24 or 32 bytes, 12-byte IVs and inputs up to {@link SYNC_AES_GCM_LIMIT};
 * `undefined` for anything else, which `aesGcm` hands to WebCrypto. A failure throws the same
 * typed error as WebCrypto's path (a wrong tag: DecryptError), node:crypto's as its cause.
 */
export const nodeAesGcm: SyncAesGcm = (op, key, iv, data, additionalData) => {
  const found = iv.length === IV_LENGTH && data.length <= SYNC_AES_GCM_LIMIT ? nodeKey(key) : null;
  if (!found?.usages.includes(op)) return undefined;
  if (op === 'encrypt') {
    try {
      return seal(found, iv, data, additionalData);
    } catch (cause) {
      throw new InvalidArgumentError('AES-GCM encryption failed in node:crypto (see cause)', { cause });
    }
  }
  try {
    return open(found, iv, data, additionalData);
  } catch (cause) {
    throw new DecryptError({ cause });
  }
};

/**
 * Text whose UTF-8 may exceed {@link SYNC_AES_GCM_LIMIT} bytes (3 bytes at
 * most per UTF-16 unit) goes the general way, which hands large inputs to WebCrypto.
 */
const SYNC_TEXT_LIMIT = Math.floor(SYNC_AES_GCM_LIMIT / 3);

/**
 * {@link SyncSeal} on node:crypto: the cipher takes the string itself (encoded
 * to UTF-8 natively, as TextEncoder would: lone surrogates become U+FFFD) and
 * ciphertext ‖ tag are joined in Buffer's pool, only to be read as base64.
 * Same bytes as {@link nodeAesGcm} of the text's UTF-8; `undefined` for what
 * it does not take (as nodeAesGcm).
 */
export const nodeSealText: SyncSeal = (key, iv, text) => {
  const found = iv.length === IV_LENGTH && text.length <= SYNC_TEXT_LIMIT ? nodeKey(key) : null;
  if (!found?.usages.includes('encrypt')) return undefined;
  try {
    const cipher = createCipheriv(found.cipher, found.object, iv, GCM_OPTIONS);
    const body = cipher.update(text, 'utf8');
    cipher.final();
    return Buffer.concat([body, cipher.getAuthTag()]).toString('base64');
  } catch (cause) {
    throw new InvalidArgumentError('AES-GCM encryption failed in node:crypto (see cause)', { cause });
  }
};
