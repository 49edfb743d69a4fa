import { UnsupportedEnvironmentError } from '../errors.js';

/** Lowercase hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
}

/**
 * The platform's WebCrypto, or a fix-it error when the context lacks it
 * (browsers offer `crypto.subtle` only in secure contexts).
 */
export function webCrypto(): Crypto {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (!c?.subtle) {
    throw new UnsupportedEnvironmentError(
      'crypto.subtle is missing: serve the page over https:// or from localhost, or use Node 20+',
    );
  }
  return c;
}

/** `bytes` cryptographically random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  return toHex(webCrypto().getRandomValues(new Uint8Array(bytes)));
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await webCrypto().subtle.digest('SHA-256', new TextEncoder().encode(text))));
}
