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

export const typeLetter = (type: MessageType): TypeLetter => (type === 'broadcast' ? 'b' : 'd');
export const letterType = (letter: TypeLetter): MessageType => (letter === 'b' ? 'broadcast' : 'direct');

const isKid = (value: unknown): value is string => typeof value === 'string' && value.length === KID_LENGTH;
export const isCounter = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_COUNTER;

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
 * Validates an envelope's shape. Authentication comes later; this only keeps
 * malformed input away from the crypto.
 * @throws {ProtocolError} naming the bad field.
 */
export function parseEnvelope(data: Record<string, unknown>): Envelope {
  if (data.e2e !== SCHEME_VERSION) bad(`unsupported version ${String(data.e2e)}`);
  if (data.t !== 'b' && data.t !== 'd') bad("field 't' must be 'b' or 'd'");
  if (!isKid(data.s)) bad(`field 's' must be a ${KID_LENGTH}-character key id`);
  if (typeof data.ct !== 'string') bad("field 'ct' must be a base64 string");
  if (hasOwn(data, 'k')) {
    if (!isRecord(data.k)) bad("field 'k' must be an object");
    return data as unknown as MultiEnvelope;
  }
  if (!isKid(data.r)) bad(`field 'r' must be a ${KID_LENGTH}-character key id`);
  if (!isCounter(data.n)) bad("field 'n' must be an integer counter from 1");
  return data as unknown as SingleEnvelope;
}

/**
 * This recipient's entry of a multi-recipient envelope.
 * @returns `null` when the envelope has none for `kid`.
 * @throws {ProtocolError} when the entry is malformed.
 */
export function recipientEntry(envelope: MultiEnvelope, kid: string): { n: number; wrapped: string } | null {
  if (!hasOwn(envelope.k, kid)) return null;
  const entry: unknown = envelope.k[kid];
  if (!Array.isArray(entry) || entry.length !== 2 || !isCounter(entry[0]) || typeof entry[1] !== 'string') {
    bad("a recipient entry of 'k' must be [counter, base64]");
  }
  return { n: entry[0] as number, wrapped: entry[1] as string };
}
