/**
 * The end-to-end scheme of SecureSession, version 1: labels, key derivation,
 * IVs, additional data, key ids and safety numbers. docs/secure-session-spec.md
 * describes the same construction in prose; keep the two in step.
 */
import { concatBytes, utf8Encode } from '../crypto/bytes.js';
import { ecdhBits } from '../crypto/ecdh.js';
import { sha256 } from '../crypto/hash.js';
import { hkdfAesGcmKey } from '../crypto/hkdf.js';

/** Scheme version carried in envelopes and published keys. */
export const SCHEME_VERSION = 1;

/** Length of a key id: the first 16 base64 characters of the raw public key (0x04 and 11 bytes of X). */
export const KID_LENGTH = 16;

/** Largest message counter: counters are JSON numbers, so they stay exact integers. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

const label = (name: string): Uint8Array => concatBytes(utf8Encode(`wss-sessions/e2e/v1 ${name}`), Uint8Array.of(0));
const SALT = label('salt');
const KEY = label('key');
const AAD = label('aad');
const BINDING = label('binding');
const PAIR_FINGERPRINT = label('pair fingerprint');
const KEY_FINGERPRINT = label('key fingerprint');
const IDENTITY_FINGERPRINT = label('identity fingerprint');

/** Envelope formats, as bound into the additional data. */
export const Format = { single: 1, wrap: 2, payload: 3 } as const;
export type FormatCode = (typeof Format)[keyof typeof Format];

/** Message types; the additional data binds the code of the wire letter (`'b'` 0x62, `'d'` 0x64), the type's first letter. */
export type MessageType = 'broadcast' | 'direct';

/** The application label as bound everywhere: big-endian 16-bit byte length, then the UTF-8 bytes, so concatenations cannot be ambiguous. */
function appLabel(appInfo: string): Uint8Array {
  const bytes = utf8Encode(appInfo);
  return concatBytes(Uint8Array.of(bytes.length >>> 8, bytes.length & 0xff), bytes);
}

/** Big-endian 64-bit encoding of a safe integer. */
export function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Byte-wise order of two public keys (both 65 bytes), so both ends of a pair list them the same way. */
function sortedPair(a: Uint8Array, b: Uint8Array): [Uint8Array, Uint8Array] {
  const i = a.findIndex((byte, j) => byte !== b[j]);
  return i >= 0 && (a[i] as number) > (b[i] as number) ? [b, a] : [a, b];
}

/** The key id of a base64 public key. */
export function keyId(publicKeyB64: string): string {
  return publicKeyB64.slice(0, KID_LENGTH);
}

/** The 12-byte AES-GCM IV of message counter `n`: 4 zero bytes ‖ n as 64-bit big-endian. */
export function counterIv(n: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  iv.set(u64(n), 4);
  return iv;
}

/** The two directional keys of a peer pair, derived by both ends. */
export interface PairKeys {
  /** Encrypts what this end sends to the peer. */
  send: CryptoKey;
  /** Decrypts what the peer sends to this end. */
  receive: CryptoKey;
}

/**
 * Derives both directional keys of a pair. IKM: ECDH(own private, peer public).
 * Salt: SHA-256(label ‖ lower key ‖ higher key). Info: label ‖ len ‖ app info ‖
 * sender key ‖ recipient key, so each direction gets its own key.
 */
export async function derivePairKeys(
  ownPrivate: CryptoKey,
  ownPublic: Uint8Array,
  peerPublicKey: CryptoKey,
  peerPublic: Uint8Array,
  appInfo: string,
): Promise<PairKeys> {
  const ikm = await ecdhBits(ownPrivate, peerPublicKey);
  const salt = await sha256(concatBytes(SALT, ...sortedPair(ownPublic, peerPublic)));
  const info = concatBytes(KEY, appLabel(appInfo));
  // One key per direction: the labels differ in the order of the two public keys.
  const [send, receive] = await Promise.all([
    hkdfAesGcmKey(ikm, salt, concatBytes(info, ownPublic, peerPublic)),
    hkdfAesGcmKey(ikm, salt, concatBytes(info, peerPublic, ownPublic)),
  ]);
  ikm.fill(0);
  return { send, receive };
}

/** What one ciphertext's additional data covers. */
export interface AadFields {
  format: FormatCode;
  type: MessageType;
  sender: Uint8Array;
  /** Absent only for the shared payload of a multi-recipient envelope. */
  recipient?: Uint8Array;
  counter?: number;
  /** The shared payload ciphertext, for key wraps: authenticated under the pair key, which other recipients do not have. */
  payload?: Uint8Array;
}

/** Additional data: label ‖ version ‖ format ‖ type ‖ sender key ‖ [recipient key] ‖ [counter] ‖ [payload ciphertext]. */
export function buildAad({ format, type, sender, recipient, counter, payload }: AadFields): Uint8Array<ArrayBuffer> {
  const parts = [AAD, Uint8Array.of(SCHEME_VERSION, format, type.charCodeAt(0)), sender, recipient, counter === undefined ? undefined : u64(counter), payload];
  return concatBytes(...parts.filter((part) => part !== undefined));
}

/** What an identity key signs: label ‖ len ‖ app info ‖ ephemeral public key. No private ID, which can change. */
export function bindingInput(appInfo: string, ephemeralPublic: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(BINDING, appLabel(appInfo), ephemeralPublic);
}

/** Six groups of five decimal digits from the first 30 bytes of SHA-256 of the parts. */
async function safetyNumber(...parts: Uint8Array[]): Promise<string> {
  const digest = await sha256(concatBytes(...parts));
  const groups: string[] = [];
  for (let g = 0; g < 30; g += 5) {
    let value = 0;
    for (let i = g; i < g + 5; i++) value = value * 256 + (digest[i] as number);
    groups.push(String(value % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/** Safety number of a pair: the same string at both ends. */
export const pairFingerprint = (appInfo: string, a: Uint8Array, b: Uint8Array): Promise<string> => safetyNumber(PAIR_FINGERPRINT, appLabel(appInfo), ...sortedPair(a, b));

/** Safety number of one ephemeral public key. */
export const keyFingerprint = (appInfo: string, publicKey: Uint8Array): Promise<string> => safetyNumber(KEY_FINGERPRINT, appLabel(appInfo), publicKey);

/**
 * Safety number of a long-term identity public key (raw 65 bytes, as from
 * `exportVerifyKeyRaw`); independent of the app label, so it can be pinned anywhere.
 */
export const identityKeyFingerprint = (identityPublic: Uint8Array): Promise<string> => safetyNumber(IDENTITY_FINGERPRINT, identityPublic);
