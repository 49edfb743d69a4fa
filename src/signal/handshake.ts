/**
 * The client side of the Signal key agreement: checks what `connected`
 * offers (no downgrade, optional server signature) and derives the session key.
 */
import { AuthenticationError, KeyFormatError, ProtocolError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { concatBytes } from '../crypto/bytes.js';
import { agreeAesKey } from '../crypto/signal-crypto.js';
import { importRawP256 } from '../crypto/ecdh.js';
import { verifySignature } from '../crypto/signing.js';
import type { IECDHKeyPair } from '../crypto/ecdh.js';
import type { ISignalConnectedData } from './types.js';

/** Largest HKDF salt accepted from a server, in bytes. */
export const MAX_SALT_BYTES = 1024;

const UNVERIFIED = "'connected' signature does not verify with serverVerifyKey";

/**
 * The bytes a server signs to prove it chose `serverPublicKey` and `salt` for
 * this client: clientPublicKey ‖ serverPublicKey ‖ salt, all raw.
 */
export function signalTranscript(clientPublicKey: Uint8Array, serverPublicKey: Uint8Array, salt: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(clientPublicKey, serverPublicKey, salt);
}

/** Imports a `serverVerifyKey` option value (already format-checked) as an ECDSA verify key. */
export async function loadVerifyKey(key: string | CryptoKey): Promise<CryptoKey> {
  return typeof key === 'string' ? importRawP256(base64ToBytes(key), 'serverVerifyKey', true) : key;
}

/**
 * The session's AES-256-GCM key, or `null` when the server offers no
 * encryption (the caller decides whether that is allowed). `keys` is this
 * connection's ECDH key pair. With a `verifyKey` (from {@link loadVerifyKey})
 * the signature is checked before the server's key is used at all.
 *
 * @throws ProtocolError when only one of serverPublicKey / salt is present;
 *   KeyFormatError for a malformed key or salt (empty or over 1024 bytes);
 *   AuthenticationError when a required signature is missing or wrong.
 */
export async function establishClientKey(
  connected: ISignalConnectedData,
  keys: IECDHKeyPair,
  ecdhInfo: string,
  verifyKey?: Promise<CryptoKey>,
): Promise<CryptoKey | null> {
  const { serverPublicKey, salt } = connected;
  if (serverPublicKey === undefined || salt === undefined) {
    if (!verifyKey && serverPublicKey === salt) return null;
    throw verifyKey ? new AuthenticationError(UNVERIFIED) : new ProtocolError("'connected' needs both serverPublicKey and salt");
  }
  const what = "'connected' serverPublicKey";
  const serverRaw = base64ToBytes(serverPublicKey, what);
  const saltRaw = base64ToBytes(salt, "'connected' salt");
  if (!saltRaw.length || saltRaw.length > MAX_SALT_BYTES) throw new KeyFormatError(`'connected' salt must be 1-${MAX_SALT_BYTES} bytes`);
  if (verifyKey) {
    const key = await verifyKey;
    let verified = false;
    try {
      // A missing or non-base64 signature throws here: simply a bad signature.
      const signature = base64ToBytes(connected.signature as string);
      verified = await verifySignature(key, signature, signalTranscript(base64ToBytes(keys.publicKeyB64), serverRaw, saltRaw));
    } catch {}
    if (!verified) throw new AuthenticationError(UNVERIFIED);
  }
  return agreeAesKey(keys.keyPair.privateKey, serverRaw, what, saltRaw, ecdhInfo);
}
