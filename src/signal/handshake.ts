/**
 * The client side of the Signal key agreement: checks what `connected`
 * offers (no downgrade, optional server signature) and derives the session key.
 */
import { AuthenticationError, KeyFormatError, ProtocolError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { concatBytes } from '../crypto/bytes.js';
import { agreeAesKey } from '../crypto/signal-crypto.js';
import { importVerifyKey, verifySignature } from '../crypto/signing.js';
import type { IECDHKeyPair } from '../crypto/ecdh.js';
import type { ISignalConnectedData } from './types.js';

/** Largest HKDF salt accepted from a server, in bytes. */
export const MAX_SALT_BYTES = 1024;

/**
 * The bytes a server signs to prove it chose `serverPublicKey` and `salt` for
 * this client: clientPublicKey ‖ serverPublicKey ‖ salt, all raw.
 */
export function signalTranscript(clientPublicKey: Uint8Array, serverPublicKey: Uint8Array, salt: Uint8Array): Uint8Array<ArrayBuffer> {
  return concatBytes(clientPublicKey, serverPublicKey, salt);
}

/** Imports a `serverVerifyKey` option value (already format-checked) as an ECDSA verify key. */
export async function loadVerifyKey(key: string | CryptoKey): Promise<CryptoKey> {
  return typeof key === 'string' ? importVerifyKey(base64ToBytes(key, 'serverVerifyKey'), 'serverVerifyKey') : key;
}

/**
 * The session's AES-256-GCM key, or `null` when the server offers no
 * encryption (the caller decides whether that is allowed). `keys` is this
 * connection's ECDH key pair. With a `verifyKey` (an ECDSA P-256 verify key,
 * checked by the options) the signature is checked before the server's key is
 * used at all.
 *
 * @throws ProtocolError when only one of serverPublicKey / salt is present;
 *   KeyFormatError for a malformed key or salt (empty or over 1024 bytes);
 *   AuthenticationError when a required signature is missing or wrong.
 */
export async function establishClientKey(
  connected: ISignalConnectedData,
  keys: IECDHKeyPair,
  ecdhInfo: string,
  verifyKey?: CryptoKey,
): Promise<CryptoKey | null> {
  const { serverPublicKey, salt } = connected;
  if (serverPublicKey === undefined && salt === undefined) {
    if (verifyKey) throw new AuthenticationError("server sent no key in 'connected', so it cannot prove its identity to serverVerifyKey");
    return null;
  }
  if (serverPublicKey === undefined || salt === undefined) {
    throw new ProtocolError("'connected' carries only one of serverPublicKey and salt; encryption needs both");
  }
  const what = "'connected' serverPublicKey";
  const serverRaw = base64ToBytes(serverPublicKey, what);
  const saltRaw = base64ToBytes(salt, "'connected' salt");
  if (!saltRaw.length || saltRaw.length > MAX_SALT_BYTES) throw new KeyFormatError(`'connected' salt is ${saltRaw.length} bytes; expected 1-${MAX_SALT_BYTES}`);
  if (verifyKey) {
    const transcript = signalTranscript(base64ToBytes(keys.publicKeyB64), serverRaw, saltRaw);
    let signature: Uint8Array | undefined;
    try {
      signature = connected.signature === undefined ? undefined : base64ToBytes(connected.signature);
    } catch {
      // Bad base64 is simply a bad signature.
    }
    if (!signature || !(await verifySignature(verifyKey, signature, transcript))) {
      const problem = connected.signature === undefined ? 'is missing' : 'does not verify with serverVerifyKey';
      throw new AuthenticationError(`'connected' signature ${problem}; refusing to talk to this server`);
    }
  }
  return agreeAesKey(keys.keyPair.privateKey, serverRaw, what, saltRaw, ecdhInfo);
}
