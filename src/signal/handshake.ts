/**
 * The client side of the Signal key agreement: checks what `connected`
 * offers (no downgrade, optional server signature) and derives the session key.
 */
import { AuthenticationError, KeyFormatError } from '../errors.js';
import { agreeAesKey } from '../crypto/signal-crypto.js';
import { importRawP256 } from '../crypto/ecdh.js';
import { verifySignature } from '../crypto/signing.js';
import type { IECDHKeyPair } from '../crypto/ecdh.js';
import { decodeBase64 } from '../crypto/base64.js';
import { need } from './frames.js';
import type { ISignalConnectedData } from './types.js';

/** Largest HKDF salt accepted from a server, in bytes. */
export const MAX_SALT_BYTES = 1024;

/**
 * The bytes a server signs to prove it chose `serverPublicKey` and `salt` for
 * this client: clientPublicKey ‖ serverPublicKey ‖ salt, all raw.
 */
export function signalTranscript(
  clientPublicKey: Uint8Array,
  serverPublicKey: Uint8Array,
  salt: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return new Uint8Array([...clientPublicKey, ...serverPublicKey, ...salt]);
}

/** Imports a `serverVerifyKey` option value (already format-checked) as an ECDSA verify key. */
async function loadVerifyKey(key: string | CryptoKey): Promise<CryptoKey> {
  return typeof key === 'string' ? importRawP256(decodeBase64(key), 'serverVerifyKey', true) : key;
}

/**
 * The session's AES-256-GCM key, or `null` when the server offers no
 * encryption and `required` is false. `keys` is this connection's ECDH key
 * pair. With a `verifyKey` (the `serverVerifyKey` option, already
 * format-checked) the signature is checked before the server's key is used at all.
 *
 * @throws ProtocolError when serverPublicKey or salt is missing (and
 *   encryption is `required`, or only one of them is missing);
 *   KeyFormatError for a malformed key or salt (not base64, empty or over 1024 bytes);
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
  const absent = serverPublicKey == null;
  // With a verifyKey, missing key material is simply an unverifiable offer (AuthenticationError below).
  need(verifyKey || (absent ? salt == null && !required : salt != null), "'connected' lacks serverPublicKey or salt");
  if (!verifyKey && absent) return null;
  const serverRaw = decodeBase64(serverPublicKey);
  const saltRaw = decodeBase64(salt);
  // The signature is checked before the server's key is used at all; a missing or malformed
  // signature or key material is simply a bad signature. A verify key that cannot be imported
  // is a configuration error, reported as such.
  need(
    !verifyKey ||
      (await verifySignature(
        await loadVerifyKey(verifyKey),
        decodeBase64(connected.signature),
        signalTranscript(decodeBase64(keys.publicKeyB64), serverRaw, saltRaw),
      )),
    "'connected' signature does not verify with serverVerifyKey",
    AuthenticationError,
  );
  need(
    saltRaw.length && saltRaw.length <= MAX_SALT_BYTES,
    "'connected' salt must be base64 of 1-1024 bytes",
    KeyFormatError,
  );
  return agreeAesKey(keys.keyPair.privateKey, serverRaw, "'connected' serverPublicKey (base64)", saltRaw, ecdhInfo);
}
