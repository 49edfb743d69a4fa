/** This end's keys for one connection: a fresh ephemeral ECDH pair and what is published about it. */
import { AuthenticationError, KeyFormatError } from '../errors.js';
import { base64ToBytes, bytesToBase64 } from '../crypto/base64.js';
import { generateECDHKeyPair } from '../crypto/ecdh.js';
import { exportVerifyKeyRaw, sign } from '../crypto/signing.js';
import { isRecord } from '../protocol/guards.js';
import { bindingInput, identityKeyFingerprint, keyFingerprint, keyId, SCHEME_VERSION } from './scheme.js';

/** The `e2e` member of the `WSS_Connect` options, as published to peers. */
export interface E2eAdvert {
  /** Scheme version. */
  v: 1;
  /** Standard base64 of the raw 65-byte ECDH P-256 public key, new every connection. */
  pk: string;
  /** Standard base64 of the raw 65-byte ECDSA P-256 identity public key (with `identity`). */
  idk?: string;
  /** Standard base64 of the 64-byte ECDSA signature of the binding input (with `identity`). */
  sig?: string;
}

/** The name of the connect-options member that carries {@link E2eAdvert}. */
export const ADVERT_KEY = 'e2e';

/** Own keys of one connection. */
export interface LocalKeys {
  privateKey: CryptoKey;
  publicRaw: Uint8Array;
  publicB64: string;
  kid: string;
  fingerprint: string;
  advert: E2eAdvert;
}

/** The long-term identity, exported once per session. */
export interface LocalIdentity {
  privateKey: CryptoKey;
  publicRaw: Uint8Array;
  fingerprint: string;
}

/** Exports the identity's public key and computes its safety number. */
export async function loadIdentity(pair: CryptoKeyPair): Promise<LocalIdentity> {
  const publicRaw = await exportVerifyKeyRaw(pair.publicKey);
  return { privateKey: pair.privateKey, publicRaw, fingerprint: await identityKeyFingerprint(publicRaw) };
}

/** Generates this connection's ephemeral keys and, with an identity, signs the public key. */
export async function createLocalKeys(appInfo: string, identity: LocalIdentity | null): Promise<LocalKeys> {
  const { keyPair, publicKeyB64 } = await generateECDHKeyPair();
  const publicRaw = base64ToBytes(publicKeyB64, 'own public key');
  const advert: E2eAdvert = { v: SCHEME_VERSION, pk: publicKeyB64 };
  if (identity) {
    advert.idk = bytesToBase64(identity.publicRaw);
    advert.sig = bytesToBase64(await sign(identity.privateKey, bindingInput(appInfo, publicRaw)));
  }
  return {
    privateKey: keyPair.privateKey,
    publicRaw,
    publicB64: publicKeyB64,
    kid: keyId(publicKeyB64),
    fingerprint: await keyFingerprint(appInfo, publicRaw),
    advert,
  };
}

/** A peer's advert after format checks (the key itself is imported later). */
export interface PeerAdvert {
  publicB64: string;
  publicRaw: Uint8Array;
  identityRaw: Uint8Array | null;
  signature: Uint8Array | null;
}

/**
 * Reads a peer's `e2e` advert from its connect options.
 * @returns `null` when the peer published none (a plaintext peer).
 * @throws {KeyFormatError} when the advert is malformed.
 * @throws {AuthenticationError} when it has only one of `idk` and `sig`.
 */
export function readPeerAdvert(options: Record<string, unknown>): PeerAdvert | null {
  const advert = options[ADVERT_KEY];
  if (advert === undefined) return null;
  if (!isRecord(advert)) throw new KeyFormatError("the peer's connect option 'e2e' is not an object");
  if (advert.v !== SCHEME_VERSION) throw new KeyFormatError(`the peer's e2e scheme version ${String(advert.v)} is not supported (expected ${SCHEME_VERSION})`);
  const publicB64 = advert.pk;
  if (typeof publicB64 !== 'string') throw new KeyFormatError("the peer's e2e.pk is not a string");
  const publicRaw = base64ToBytes(publicB64, "the peer's e2e.pk");
  if (publicRaw.length !== 65 || publicRaw[0] !== 0x04) throw new KeyFormatError("the peer's e2e.pk is not a 65-byte uncompressed P-256 point");
  const hasIdk = advert.idk !== undefined;
  if (hasIdk !== (advert.sig !== undefined)) throw new AuthenticationError("the peer's e2e advert has only one of 'idk' and 'sig'");
  if (!hasIdk) return { publicB64, publicRaw, identityRaw: null, signature: null };
  if (typeof advert.idk !== 'string' || typeof advert.sig !== 'string') throw new KeyFormatError("the peer's e2e.idk and e2e.sig must be strings");
  return {
    publicB64,
    publicRaw,
    identityRaw: base64ToBytes(advert.idk, "the peer's e2e.idk"),
    signature: base64ToBytes(advert.sig, "the peer's e2e.sig"),
  };
}
