/**
 * The client side of the Signal key agreement: checks what `connected`
 * offers (no downgrade, optional server signature) and derives the session key.
 */
import { AuthenticationError, KeyFormatError, ProtocolError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { concatBytes, utf8Encode } from '../crypto/bytes.js';
import { deriveSharedBits, importPeerPublicKey } from '../crypto/ecdh.js';
import { deriveAesGcmKey } from '../crypto/hkdf.js';
import { importVerifyKey, verify } from '../crypto/signing.js';
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

/** What {@link establishClientKey} needs. */
export interface ClientKeyInput {
  connected: ISignalConnectedData;
  clientPrivateKey: CryptoKey;
  clientPublicKeyB64: string;
  ecdhInfo: string;
  /** Present when the server must prove itself with a signature. */
  verifyKey?: CryptoKey;
}

/**
 * The session's AES-256-GCM key, or `null` when the server offers no
 * encryption (the caller decides whether that is allowed).
 *
 * @throws ProtocolError when only one of serverPublicKey / salt is present or
 *   the salt is empty or too long; KeyFormatError for a malformed key or salt;
 *   AuthenticationError when a required signature is missing or wrong.
 */
export async function establishClientKey(input: ClientKeyInput): Promise<CryptoKey | null> {
  const { connected, verifyKey } = input;
  const { serverPublicKey, salt } = connected;
  if (serverPublicKey === undefined && salt === undefined) {
    if (verifyKey) throw new AuthenticationError("server sent no key in 'connected', so it cannot prove its identity (serverVerifyKey is set)");
    return null;
  }
  if (serverPublicKey === undefined || salt === undefined) {
    throw new ProtocolError(`'connected' carries ${serverPublicKey === undefined ? 'a salt but no serverPublicKey' : 'a serverPublicKey but no salt'}; both are needed for encryption`);
  }
  const serverRaw = base64ToBytes(serverPublicKey, "'connected' serverPublicKey");
  const saltRaw = base64ToBytes(salt, "'connected' salt");
  if (saltRaw.length === 0 || saltRaw.length > MAX_SALT_BYTES) {
    throw new KeyFormatError(`'connected' salt is ${saltRaw.length} bytes; expected 1-${MAX_SALT_BYTES}`);
  }
  const serverKey = await importPeerPublicKey(serverRaw, "'connected' serverPublicKey");
  if (verifyKey) await checkSignature(connected.signature, verifyKey, signalTranscript(base64ToBytes(input.clientPublicKeyB64), serverRaw, saltRaw));
  const shared = await deriveSharedBits(input.clientPrivateKey, serverKey);
  try {
    return await deriveAesGcmKey(shared, saltRaw, utf8Encode(input.ecdhInfo));
  } finally {
    shared.fill(0);
  }
}

async function checkSignature(signature: string | undefined, verifyKey: CryptoKey, transcript: Uint8Array): Promise<void> {
  if (signature === undefined) throw new AuthenticationError("server sent no 'signature' in 'connected'; serverVerifyKey requires one");
  let raw: Uint8Array;
  try {
    raw = base64ToBytes(signature, "'connected' signature");
  } catch (cause) {
    throw new AuthenticationError("server 'signature' is not valid base64", { cause });
  }
  if (!(await verify(verifyKey, raw, transcript))) {
    throw new AuthenticationError("server 'signature' does not verify with serverVerifyKey; refusing to talk to this server");
  }
}
