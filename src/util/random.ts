import { UnsupportedEnvironmentError } from '../errors.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of some bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b];
  return out;
}

/** The platform's WebCrypto, or a fix-it error when the context lacks it. */
export function webCrypto(): Crypto {
  const c = globalThis.crypto;
  if (!c?.subtle || typeof c.getRandomValues !== 'function') {
    throw new UnsupportedEnvironmentError(
      'WebCrypto (globalThis.crypto.subtle) is not available: use Node >= 20, or serve the page over HTTPS or localhost (a secure context)',
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
  const digest = await webCrypto().subtle.digest('SHA-256', new TextEncoder().encode(text));
  return toHex(new Uint8Array(digest));
}
