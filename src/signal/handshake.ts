/**
 * The client side of the Signal key agreement: checks what `connected`
 * offers (no downgrade, optional server signature) and derives the session key.
 */
import { AuthenticationError, KeyFormatError, ProtocolError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { agreeAesKey } from '../crypto/signal-crypto.js';
import { importRawP256 } from '../crypto/ecdh.js';
import { verifySignature } from '../crypto/signing.js';
import type { IECDHKeyPair } from '../crypto/ecdh.js';
import { need } from './frames.js';
import type { ISignalConnectedData } from './types.js';

/** Largest HKDF salt accepted from a server, in bytes. */
export const MAX_SALT_BYTES = 1024;

/**
 * The bytes a server signs to prove it chose `serverPublicKey` and `salt` for
 * this client: clientPublicKey ‖ serverPublicKey ‖ salt, all raw.
 */
export function signalTranscript(clientPublicKey: Uint8Array, serverPublicKey: Uint8Array, salt: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array([...clientPublicKey, ...serverPublicKey, ...salt]);
}

/** Imports a `serverVerifyKey` option value (already format-checked) as an ECDSA verify key. */
export async function loadVerifyKey(key: string | CryptoKey): Promise<CryptoKey> {
  return typeof key === 'string' ? importRawP256(base64ToBytes(key), 'serverVerifyKey', true) : key;
}

/**
 * The session's AES-256-GCM key, or `null` when the server offers no
 * encryption and `required` is false. `keys` is this connection's ECDH key
 * pair. With a `verifyKey` (the `serverVerifyKey` option, already
 * format-checked) the signature is checked before the server's key is used at all.
 *
 * @throws ProtocolError when serverPublicKey or salt is missing (and
 *   encryption is `required`, or only one of them is missing);
 *   KeyFormatError for a malformed key or salt (empty or over 1024 bytes);
 *   AuthenticationError when a required signature is missing or wrong.
 */
export async function establishClientKey(
  connected: ISignalConnectedData,
  keys: IECDHKeyPair,
  ecdhInfo: string,
  required: boolean,
  verifyKey?: string | CryptoKey,
): Promise<CryptoKey | null> {
  const { serverPublicKey, salt } = connected;
  const what = "'connected' serverPublicKey";
  const absent = serverPublicKey == null;
  // With a verifyKey, missing key material is simply an unverifiable offer (AuthenticationError below).
  need(verifyKey || (absent ? salt == null && !required : salt != null), ProtocolError, "'connected' lacks serverPublicKey or salt");
  if (!verifyKey && absent) return null;
  // A verify key that cannot be imported is a configuration error, reported as such.
  const key = verifyKey ? await loadVerifyKey(verifyKey) : undefined;
  let serverRaw, saltRaw;
  let verified = !key;
  try {
    serverRaw = base64ToBytes(serverPublicKey!, what);
    saltRaw = base64ToBytes(salt!, "'connected' salt");
    need(saltRaw.length && saltRaw.length <= MAX_SALT_BYTES, KeyFormatError, "'connected' salt must be 1-1024 bytes");
    // A missing or non-base64 signature throws here: simply a bad signature.
    verified ||= await verifySignature(key!, base64ToBytes(connected.signature!), signalTranscript(base64ToBytes(keys.publicKeyB64), serverRaw, saltRaw));
  } catch (err) {
    if (!key) throw err;
  }
  need(verified, AuthenticationError, "'connected' signature does not verify with serverVerifyKey");
  return agreeAesKey(keys.keyPair.privateKey, serverRaw!, what, saltRaw!, ecdhInfo);
}
