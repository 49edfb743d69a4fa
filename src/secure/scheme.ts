/**
 * The end-to-end scheme of SecureSession, version 1: labels, key derivation,
 * IVs, additional data, key ids and safety numbers. docs/secure-session-spec.md
 * describes the same construction in prose; keep the two in step.
 */
import { concatBytes, utf8Encode } from '../crypto/bytes.js';
import { hkdfAesKeys, sha256, sharedBits } from './webcrypto.js';

/** Scheme version carried in envelopes and published keys. */
export const SCHEME_VERSION = 1;

/** Length of a key id: the first 16 base64 characters of the raw public key (0x04 and 11 bytes of X). */
export const KID_LENGTH = 16;

/** Largest message counter: counters are JSON numbers, so they stay exact integers. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

const ZERO = Uint8Array.of(0);
const label = (name: string): Uint8Array => concatBytes(utf8Encode(`wss-sessions/e2e/v1 ${name}`), ZERO);

const LABELS = {
  salt: label('salt'),
  key: label('key'),
  aad: label('aad'),
  binding: label('binding'),
  pairFingerprint: label('pair fingerprint'),
  keyFingerprint: label('key fingerprint'),
  identityFingerprint: label('identity fingerprint'),
} as const;

/** Envelope formats, as bound into the additional data. */
export const Format = { single: 1, wrap: 2, payload: 3 } as const;
export type FormatCode = (typeof Format)[keyof typeof Format];

/** Message types, as bound into the additional data. */
export type MessageType = 'broadcast' | 'direct';
const TYPE_BYTE: Record<MessageType, number> = { broadcast: 0x62, direct: 0x64 };

/** Big-endian 16-bit length followed by the bytes, so concatenations cannot be ambiguous. */
function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + bytes.length);
  out[0] = bytes.length >>> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

/** Big-endian 64-bit encoding of a safe integer. */
export function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Byte-wise order, so both ends of a pair list the two keys the same way. */
function sortedPair(a: Uint8Array, b: Uint8Array): [Uint8Array, Uint8Array] {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number) ? [a, b] : [b, a];
  }
  return a.length <= b.length ? [a, b] : [b, a];
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
  const ikm = await sharedBits(ownPrivate, peerPublicKey);
  const salt = await sha256(concatBytes(LABELS.salt, ...sortedPair(ownPublic, peerPublic)));
  const info = lengthPrefixed(utf8Encode(appInfo));
  const [send, receive] = (await hkdfAesKeys(ikm, salt, [
    concatBytes(LABELS.key, info, ownPublic, peerPublic),
    concatBytes(LABELS.key, info, peerPublic, ownPublic),
  ])) as [CryptoKey, CryptoKey];
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
export function buildAad(fields: AadFields): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [LABELS.aad, Uint8Array.of(SCHEME_VERSION, fields.format, TYPE_BYTE[fields.type]), fields.sender];
  if (fields.recipient) parts.push(fields.recipient);
  if (fields.counter !== undefined) parts.push(u64(fields.counter));
  if (fields.payload) parts.push(fields.payload);
  return concatBytes(...parts);
}

/** What an identity key signs: label ‖ len ‖ app info ‖ ephemeral public key. No private ID, which can change. */
export function bindingInput(appInfo: string, ephemeralPublic: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(LABELS.binding, lengthPrefixed(utf8Encode(appInfo)), ephemeralPublic);
}

/** Six groups of five decimal digits from the first 30 bytes of a digest. */
function formatSafetyNumber(digest: Uint8Array): string {
  const groups: string[] = [];
  for (let g = 0; g < 6; g++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (digest[g * 5 + i] as number);
    groups.push(String(value % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/** Safety number of a pair: the same string at both ends. */
export async function pairFingerprint(appInfo: string, a: Uint8Array, b: Uint8Array): Promise<string> {
  const [lo, hi] = sortedPair(a, b);
  return formatSafetyNumber(await sha256(concatBytes(LABELS.pairFingerprint, lengthPrefixed(utf8Encode(appInfo)), lo, hi)));
}

/** Safety number of one ephemeral public key. */
export async function keyFingerprint(appInfo: string, publicKey: Uint8Array): Promise<string> {
  return formatSafetyNumber(await sha256(concatBytes(LABELS.keyFingerprint, lengthPrefixed(utf8Encode(appInfo)), publicKey)));
}

/** Safety number of a long-term identity public key (independent of the app label, so it can be pinned anywhere). */
export async function identityKeyFingerprint(identityPublic: Uint8Array): Promise<string> {
  return formatSafetyNumber(await sha256(concatBytes(LABELS.identityFingerprint, identityPublic)));
}
