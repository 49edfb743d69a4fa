/** The server side of the Signal key agreement. */
import { ProtocolError } from '../../errors.js';
import { base64ToBytes, bytesToBase64 } from '../../crypto/base64.js';
import { utf8Encode } from '../../crypto/bytes.js';
import { deriveSharedBits, exportPublicKeyRaw, generateECDHKeyPair, importPeerPublicKey } from '../../crypto/ecdh.js';
import { randomBytes } from '../../crypto/env.js';
import { deriveAesGcmKey } from '../../crypto/hkdf.js';
import { sign } from '../../crypto/signing.js';
import { isRecord } from '../../protocol/guards.js';
import { signalTranscript } from '../../signal/handshake.js';
import type { ResolvedSignalOptions } from './options.js';

/** A validated `authenticate` frame. */
export interface AuthenticateRequest {
  token: string;
  clientPublicKey: string;
}

/** Validates `authenticate` data: `{type: 'Bearer', token, clientPublicKey}`. */
export function parseAuthenticate(data: unknown): AuthenticateRequest {
  if (
    !isRecord(data) ||
    data.type !== 'Bearer' ||
    typeof data.token !== 'string' ||
    typeof data.clientPublicKey !== 'string'
  ) {
    throw new ProtocolError("'authenticate' data must be {type: 'Bearer', token: string, clientPublicKey: string}");
  }
  return { token: data.token, clientPublicKey: data.clientPublicKey };
}

/** The key material of one connection's `connected` frame. */
export interface ServerKeys {
  aesKey: CryptoKey;
  serverPublicKey: string;
  salt: string;
  signature?: string;
}

/**
 * Imports the client's public key (KeyFormatError when malformed), makes a
 * new server key pair and salt for this connection, derives the AES-256-GCM
 * key and, with a signing key, signs clientPublicKey ‖ serverPublicKey ‖ salt.
 */
export async function serverHandshake(clientPublicKeyB64: string, options: ResolvedSignalOptions): Promise<ServerKeys> {
  const clientRaw = base64ToBytes(clientPublicKeyB64, 'clientPublicKey');
  const clientKey = await importPeerPublicKey(clientRaw, 'clientPublicKey');
  const { keyPair } = await generateECDHKeyPair();
  const serverRaw = await exportPublicKeyRaw(keyPair.publicKey);
  const salt = randomBytes(options.saltLength);
  const shared = await deriveSharedBits(keyPair.privateKey, clientKey);
  let aesKey: CryptoKey;
  try {
    aesKey = await deriveAesGcmKey(shared, salt, utf8Encode(options.ecdhInfo));
  } finally {
    shared.fill(0);
  }
  const keys: ServerKeys = { aesKey, serverPublicKey: bytesToBase64(serverRaw), salt: bytesToBase64(salt) };
  if (options.signingKey)
    keys.signature = bytesToBase64(await sign(options.signingKey, signalTranscript(clientRaw, serverRaw, salt)));
  return keys;
}
