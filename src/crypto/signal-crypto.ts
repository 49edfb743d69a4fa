/**
 * The Signal protocol's crypto API (PROTOCOL.md §2): ECDH P-256 → HKDF-SHA-256
 * → AES-256-GCM `{iv, ct}` envelopes with base64 fields. Same names and shapes
 * as the original `signal-crypto.ts`, with strict input checks.
 */
import { DecryptError, InvalidArgumentError } from '../errors.js';
import { base64ToBytes, bytesToBase64 } from './base64.js';
import { assertOptions, kindOf, utf8Decode, utf8Encode } from './bytes.js';
import { AES_GCM_IV_LENGTH, aesGcmNow, decryptBytes } from './aead.js';
import { assertRawP256PublicKey, ecdhBits, importRawP256 } from './ecdh.js';
import { hkdfAesGcmKey } from './hkdf.js';
import { assertKey } from './keys.js';
import { syncSeal } from '../util/platform.js';
import { andThen } from '../util/soon.js';

/** An AES-GCM envelope as it travels in an `encrypted` event. */
export interface IEncryptedPayload {
  /** Standard base64 of the 12-byte IV. */
  iv: string;
  /** Standard base64 of ciphertext ‖ 16-byte tag. */
  ct: string;
}

/**
 * Derives the session's AES-256-GCM key: ECDH(clientPrivateKey, server public
 * key) as HKDF-SHA-256 input, with the base64 `saltB64` and the UTF-8 bytes of
 * `ecdhInfo`. The key is non-extractable.
 *
 * @throws KeyFormatError when the server public key (not 65-byte uncompressed
 *   P-256, not on the curve, bad base64), the salt (bad base64) or the client
 *   private key is wrong — the message says which.
 * @example
 * const aesKey = await deriveAESKey({ clientPrivateKey: keyPair.privateKey, serverPublicKeyB64, saltB64, ecdhInfo: 'app-v1' });
 */
export async function deriveAESKey(opts: {
  clientPrivateKey: CryptoKey;
  serverPublicKeyB64: string;
  saltB64: string;
  ecdhInfo: string;
}): Promise<CryptoKey> {
  assertOptions(opts, 'deriveAESKey');
  const { clientPrivateKey, serverPublicKeyB64, saltB64, ecdhInfo } = opts;
  if (typeof ecdhInfo !== 'string')
    throw new InvalidArgumentError(
      `ecdhInfo must be a string (the HKDF info shared with the server), got ${kindOf(ecdhInfo)}`,
    );
  const what = 'server public key (serverPublicKeyB64)';
  const serverKeyRaw = base64ToBytes(serverPublicKeyB64, what);
  assertKey(clientPrivateKey, 'ECDH private key', {
    type: 'private',
    algorithm: 'ECDH',
    namedCurve: 'P-256',
    usage: 'deriveBits',
  });
  // The detailed format diagnosis first; agreeAesKey then imports the key.
  assertRawP256PublicKey(serverKeyRaw, what);
  return agreeAesKey(clientPrivateKey, serverKeyRaw, what, base64ToBytes(saltB64, 'HKDF salt (saltB64)'), ecdhInfo);
}

/**
 * The Signal key schedule, on the crypto module's one implementation of each
 * step: ECDH of an ECDH P-256 private key (the caller's own, not checked) with
 * a peer's raw public key (checked by `importRawP256`, `what` names it), then
 * HKDF-SHA-256 of the 32-byte shared secret with `salt` and the UTF-8 of
 * `info` to a non-extractable AES-256-GCM key. The secret is wiped afterwards.
 * @throws KeyFormatError when the peer key is malformed or not on the curve.
 * @internal
 */
export async function agreeAesKey(
  privateKey: CryptoKey,
  peerRaw: Uint8Array<ArrayBuffer>,
  what: string,
  salt: Uint8Array<ArrayBuffer>,
  info: string,
): Promise<CryptoKey> {
  const shared = await ecdhBits(privateKey, await importRawP256(peerRaw, what));
  try {
    return await hkdfAesGcmKey(shared, salt, utf8Encode(info));
  } finally {
    shared.fill(0);
  }
}

/**
 * Encrypts a string with AES-256-GCM under a fresh random 12-byte IV.
 *
 * @throws KeyFormatError when `aesKey` is not an AES-GCM encryption key.
 * @example
 * socket.send(JSON.stringify({ event: 'encrypted', data: await encrypt({ plaintext, aesKey }) }));
 */
export async function encrypt(opts: { plaintext: string; aesKey: CryptoKey }): Promise<IEncryptedPayload> {
  assertOptions(opts, 'encrypt');
  const { plaintext, aesKey } = opts;
  if (typeof plaintext !== 'string')
    throw new InvalidArgumentError(`plaintext must be a string, got ${kindOf(plaintext)}`);
  assertKey(aesKey, 'AES-GCM key', { type: 'secret', algorithm: 'AES-GCM', usage: 'encrypt' });
  return sealNow(plaintext, aesKey);
}

/**
 * IVs are cut from blocks of this many random bytes (341 IVs): one
 * `getRandomValues` call per 341 messages rather than one per message, whose
 * fixed cost (microseconds on Node) exceeds a short message's encryption.
 */
const IV_BLOCK_BYTES = 341 * AES_GCM_IV_LENGTH;
let ivBlock = new Uint8Array(0);
let ivNext = 0;

/**
 * A fresh random 12-byte IV: the next unused 12 bytes of a block drawn from
 * `getRandomValues`. Each byte of a block goes into one IV only, and a used-up
 * block is replaced by a new one, never refilled, so an IV still held elsewhere
 * never changes. The IVs are as random, unique and unpredictable as drawn one by one.
 * @internal
 */
export function freshIv(): Uint8Array<ArrayBuffer> {
  if (ivNext + AES_GCM_IV_LENGTH > ivBlock.length) {
    // Whoever holds a CryptoKey has WebCrypto, so getRandomValues exists (randomBytes' checks are moot here).
    ivBlock = crypto.getRandomValues(new Uint8Array(IV_BLOCK_BYTES));
    ivNext = 0;
  }
  const start = ivNext;
  ivNext += AES_GCM_IV_LENGTH;
  return ivBlock.subarray(start, ivNext);
}

/**
 * {@link encrypt} without the argument checks, for callers whose key is known
 * to be an AES-GCM encryption key; the envelope itself where the platform
 * encrypts synchronously (Node: see `aesGcmNow`), else its promise. A failure
 * is thrown in the first case and rejected in the second.
 * @internal
 */
export function sealNow(plaintext: string, aesKey: CryptoKey): IEncryptedPayload | Promise<IEncryptedPayload> {
  const iv = freshIv();
  // Node seals the text straight to base64, sparing the byte arrays in between (src/util/platform.ts).
  const sealed = syncSeal?.(aesKey, iv, plaintext);
  if (sealed !== undefined) return { iv: bytesToBase64(iv), ct: sealed };
  return andThen(aesGcmNow('encrypt', aesKey, iv, utf8Encode(plaintext)), (ct) => ({
    iv: bytesToBase64(iv),
    ct: bytesToBase64(ct),
  }));
}

/**
 * Decrypts and authenticates an `{iv, ct}` envelope back to its string.
 * Whatever is wrong — payload shape, base64, IV length, short ciphertext, tag
 * mismatch, invalid UTF-8 — rejects with the one fixed {@link DecryptError}
 * (original error as `cause`), so the failure reveals nothing to a sender.
 *
 * @example
 * const json = await decrypt({ payload: frame.data, aesKey });
 */
export async function decrypt(opts: { payload: IEncryptedPayload; aesKey: CryptoKey }): Promise<string> {
  try {
    const { payload, aesKey } = opts;
    const iv = base64ToBytes(payload.iv, 'iv');
    const ct = base64ToBytes(payload.ct, 'ct');
    const plaintext = await decryptBytes({ key: aesKey, iv, ciphertext: ct });
    return utf8Decode(plaintext);
  } catch (err) {
    throw err instanceof DecryptError ? err : new DecryptError({ cause: err });
  }
}
