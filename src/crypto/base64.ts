import { KeyFormatError } from '../errors.js';
import { selectBase64Codec, type Base64Codec } from './base64-codecs.js';
import { decodeBase64View } from '../util/platform.js';
import { kindOf } from './bytes.js';

// Native Uint8Array base64 where the engine has it, else atob/btoa; the Node entry points switch the latter to Buffer.
let codec = selectBase64Codec(globalThis);

/**
 * Standard padded base64 (RFC 4648 §4) of `bytes`.
 *
 * @example
 * bytesToBase64(new Uint8Array([1, 2, 3])); // 'AQID'
 */
export function bytesToBase64(bytes: Uint8Array): string {
  return codec.encode(bytes);
}

/**
 * Decodes strict standard base64: alphabet `A-Z a-z 0-9 + /`, '=' padding to a
 * multiple of 4, no whitespace, zero unused bits in the last character.
 * The result owns its `ArrayBuffer`.
 *
 * @param what - names the value in the error message, e.g. `'server public key'`.
 * @throws KeyFormatError naming what was wrong.
 * @example
 * base64ToBytes('AQID'); // Uint8Array [1, 2, 3]
 */
export function base64ToBytes(base64: string, what = 'base64 text'): Uint8Array<ArrayBuffer> {
  if (typeof base64 !== 'string') throw new KeyFormatError(`${what} must be a base64 string, got ${kindOf(base64)}`);
  const bytes = codec.decode(base64);
  if (!bytes) {
    // The first character outside the alphabet, else the first '=' that is not final padding.
    const bad = base64.search(/[^A-Za-z0-9+/=]/);
    const at = bad < 0 ? base64.search(/=(?!=?$)/) : bad;
    throw new KeyFormatError(
      `${what} is not valid base64${at < 0 ? '' : ` (${JSON.stringify(base64[at])} at index ${at})`}; send standard base64: A-Z a-z 0-9 + / with '=' padding`,
    );
  }
  return bytes;
}

/**
 * The bytes of strict, canonical base64 text; no bytes for anything else (or
 * for ''), for callers that need at least one byte and name their own failure.
 * The bytes may be a view into memory shared with other buffers (Node's
 * pool, see `decodeBase64View` in src/util/platform.ts: no copy for each
 * envelope of a busy connection), so callers read them at once (decrypt,
 * verify, import) and never hand them out.
 * @internal
 */
export function decodeBase64(text: unknown): Uint8Array<ArrayBuffer> {
  return (typeof text === 'string' && (decodeBase64View ?? codec.decode)(text)) || new Uint8Array();
}

/**
 * Standard padded base64 of an `ArrayBuffer` (same signature as in signal-crypto.ts).
 *
 * @example
 * arrayBufferToBase64(new Uint8Array([255]).buffer); // '/w=='
 */
export function arrayBufferToBase64(buffer: ArrayBuffer): string {
  return codec.encode(new Uint8Array(buffer));
}

/**
 * Decodes strict standard base64 into a fresh `ArrayBuffer` (same signature as in signal-crypto.ts).
 *
 * @throws KeyFormatError when the text is not canonical standard base64.
 */
export function base64ToArrayBuffer(base64: string): ArrayBuffer {
  return base64ToBytes(base64).buffer;
}

/** Which base64 implementation this runtime uses: `'native'`, `'buffer'` (Node) or `'fallback'`. */
export let base64Implementation: Base64Codec['name'] = codec.name;

/**
 * Replaces the codec; for the platform modules (src/node/setup.ts), before any use.
 * @internal
 */
export function useBase64Codec(replacement: Base64Codec): void {
  codec = replacement;
  base64Implementation = replacement.name;
}
