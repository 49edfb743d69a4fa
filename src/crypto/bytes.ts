import { InvalidArgumentError } from '../errors.js';

const encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is data, not stripped.
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 bytes of `text`. */
export function utf8Encode(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/**
 * Strict UTF-8 decoding that throws the platform's TypeError, for callers that
 * report a failure in their own terms (a dropped frame, a failed decryption).
 * @internal
 */
export const decodeUtf8 = (bytes: Uint8Array): string => strictDecoder.decode(bytes);

/**
 * Strict UTF-8 decoding: invalid sequences throw, a leading BOM is kept.
 *
 * @throws InvalidArgumentError when `bytes` is not valid UTF-8.
 */
export function utf8Decode(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch (cause) {
    throw new InvalidArgumentError('bytes are not valid UTF-8; the sender must encode text as UTF-8', { cause });
  }
}

/**
 * Compares two byte arrays in time that depends only on their lengths, so a
 * mismatch position does not leak. Different lengths compare unequal.
 *
 * @example
 * timingSafeEqual(expectedMac, receivedMac);
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Concatenation of byte arrays into one new array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** A view WebCrypto accepts (backed by an `ArrayBuffer`); copies only SharedArrayBuffer-backed input. */
export function toBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

/** `typeof value`, except `'null'` for null: names a wrong argument in error messages. */
export function kindOf(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/** Throws unless `value` is a `Uint8Array` (the message names it). */
export function assertBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array))
    throw new InvalidArgumentError(`${what} must be a Uint8Array, got ${kindOf(value)}`);
}

/** Throws unless `value` is an options object (the message names the function). */
export function assertOptions(value: unknown, fn: string): asserts value is object {
  if (typeof value !== 'object' || !value)
    throw new InvalidArgumentError(`${fn} expects an options object, got ${kindOf(value)}`);
}
