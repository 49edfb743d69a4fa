/** The JSON shapes of encrypted messages (the `data` of a `WSS_Send`) and their validation. */
import { ProtocolError } from '../errors.js';
import { hasOwn, isRecord } from '../protocol/guards.js';
import { KID_LENGTH, MAX_COUNTER, SCHEME_VERSION, type MessageType } from './scheme.js';

/** Wire letter of a message type. */
export type TypeLetter = 'b' | 'd';

/** One recipient: `{e2e, t, s, r, n, ct}`. */
export interface SingleEnvelope {
  /** Scheme version. */
  e2e: 1;
  /** `'b'` broadcast or `'d'` direct, as the sender meant it. */
  t: TypeLetter;
  /** Sender key id. */
  s: string;
  /** Recipient key id. */
  r: string;
  /** Message counter of this direction, from 1, strictly increasing. */
  n: number;
  /** base64 of ciphertext ‖ tag. */
  ct: string;
}

/** Several recipients: one payload ciphertext, and per recipient its counter and the wrapped message key. */
export interface MultiEnvelope {
  e2e: 1;
  t: TypeLetter;
  s: string;
  /** base64 of the payload ciphertext ‖ tag under the one-time message key. */
  ct: string;
  /** Recipient key id → [counter, base64 of the wrapped message key ‖ tag]. */
  k: Record<string, [number, string]>;
}

export type Envelope = SingleEnvelope | MultiEnvelope;

/** An envelope as one recipient reads it: the shared fields and its own part. */
export interface ReceivedEnvelope {
  t: TypeLetter;
  /** Sender key id. */
  s: string;
  /** base64 ciphertext: the message (one recipient) or the shared payload (several). */
  ct: string;
  /** This recipient's counter; `null` when the envelope holds nothing for its key. */
  n: number | null;
  /** This recipient's wrapped message key (several recipients only). */
  wrapped?: string;
}

export const typeLetter = (type: MessageType): TypeLetter => (type === 'broadcast' ? 'b' : 'd');
export const letterType = (letter: TypeLetter): MessageType => (letter === 'b' ? 'broadcast' : 'direct');

const isKid = (value: unknown): boolean => typeof value === 'string' && value.length === KID_LENGTH;
const isCounter = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_COUNTER;

// The frame itself travels with the drop (`decrypt_error.raw`), so the error only names the field.
function bad(message: string): never {
  throw new ProtocolError(`encrypted message: ${message}`);
}

/**
 * Whether `data` claims to be an envelope at all. Anything else on an
 * encrypted session is a plaintext message and is never delivered.
 */
export function looksLikeEnvelope(data: unknown): data is Record<string, unknown> {
  return isRecord(data) && hasOwn(data, 'e2e');
}

/**
 * Validates an envelope's shape and takes out the part for `ownKid`.
 * Authentication comes later; this only keeps malformed input away from the crypto.
 * @throws {ProtocolError} naming the bad field.
 */
export function parseEnvelope(data: Record<string, unknown>, ownKid: string): ReceivedEnvelope {
  const { e2e, t, s, ct, k } = data;
  if (e2e !== SCHEME_VERSION) bad(`unsupported version ${String(e2e)}`);
  if (t !== 'b' && t !== 'd') bad("field 't' must be 'b' or 'd'");
  if (!isKid(s)) bad(`field 's' must be a ${KID_LENGTH}-character key id`);
  if (typeof ct !== 'string') bad("field 'ct' must be a base64 string");
  const envelope = { t: t as TypeLetter, s: s as string, ct };
  if (hasOwn(data, 'k')) {
    if (!isRecord(k)) bad("field 'k' must be an object");
    if (!hasOwn(k, ownKid)) return { ...envelope, n: null };
    const own = k[ownKid];
    if (!Array.isArray(own) || own.length !== 2 || !isCounter(own[0]) || typeof own[1] !== 'string') bad("a recipient entry of 'k' must be [counter, base64]");
    return { ...envelope, n: own[0], wrapped: own[1] };
  }
  if (!isKid(data.r)) bad(`field 'r' must be a ${KID_LENGTH}-character key id`);
  if (!isCounter(data.n)) bad("field 'n' must be an integer counter from 1");
  return { ...envelope, n: data.r === ownKid ? data.n : null };
}
