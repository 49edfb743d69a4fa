import { InvalidArgumentError } from '../errors.js';
import { webCrypto } from '../util/random.js';

/**
 * The platform's WebCrypto `SubtleCrypto`.
 *
 * @throws UnsupportedEnvironmentError when `crypto.subtle` is missing, which in a
 *   browser means the page is not a secure context.
 */
export const getSubtle = (): SubtleCrypto => webCrypto().subtle;

// getRandomValues refuses requests above 65536 bytes, so larger ones are filled piecewise.
const MAX_RANDOM_CHUNK = 65536;

/**
 * `n` cryptographically secure random bytes.
 *
 * @example
 * const userToken = bytesToBase64(randomBytes(16));
 */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`randomBytes: n must be a non-negative integer, got ${String(n)}`);
  const crypto = webCrypto();
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += MAX_RANDOM_CHUNK) crypto.getRandomValues(out.subarray(i, i + MAX_RANDOM_CHUNK));
  return out;
}
