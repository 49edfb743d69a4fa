/** This end's keys for one connection: a fresh ephemeral ECDH pair and what is published about it. */
import { AuthenticationError, KeyFormatError } from '../errors.js';
import { base64ToBytes, bytesToBase64 } from '../crypto/base64.js';
import { isRecord } from '../protocol/guards.js';
import { bindingInput, identityKeyFingerprint, keyFingerprint, keyId, SCHEME_VERSION } from './scheme.js';
import { assertRawP256PublicKey, exportPublicKeyRaw, generateECDHKeyPair } from '../crypto/ecdh.js';
import { sign } from '../crypto/signing.js';

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
  const publicRaw = await exportPublicKeyRaw(pair.publicKey);
  return { privateKey: pair.privateKey, publicRaw, fingerprint: await identityKeyFingerprint(publicRaw) };
}

/** Generates this connection's ephemeral keys and, with an identity, signs the public key. */
export async function createLocalKeys(appInfo: string, identity: LocalIdentity | null): Promise<LocalKeys> {
  const { keyPair, publicKeyB64 } = await generateECDHKeyPair();
  const { privateKey } = keyPair;
  const publicRaw = base64ToBytes(publicKeyB64);
  const advert: E2eAdvert = { v: SCHEME_VERSION, pk: publicKeyB64 };
  if (identity) {
    advert.idk = bytesToBase64(identity.publicRaw);
    advert.sig = bytesToBase64(await sign(identity.privateKey, bindingInput(appInfo, publicRaw)));
  }
  return {
    privateKey,
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
  publicRaw: Uint8Array<ArrayBuffer>;
  identityRaw: Uint8Array<ArrayBuffer> | null;
  signature: Uint8Array<ArrayBuffer> | null;
}

/** The bytes of a base64 member of a peer's advert. */
function decode(value: unknown, name: string): Uint8Array<ArrayBuffer> {
  const what = `the peer's e2e.${name}`;
  if (typeof value !== 'string') throw new KeyFormatError(`${what} is not a string`);
  return base64ToBytes(value, what);
}

/** A published P-256 point: only the 65-byte uncompressed form (some platforms would also take others). */
function point(value: unknown, name: string): Uint8Array<ArrayBuffer> {
  const raw = decode(value, name);
  assertRawP256PublicKey(raw, `the peer's e2e.${name}`);
  return raw;
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
  const publicRaw = point(advert.pk, 'pk');
  const hasIdk = advert.idk !== undefined;
  if (hasIdk !== (advert.sig !== undefined)) throw new AuthenticationError("the peer's e2e advert has only one of 'idk' and 'sig'");
  return {
    publicB64: advert.pk as string,
    publicRaw,
    identityRaw: hasIdk ? point(advert.idk, 'idk') : null,
    signature: hasIdk ? decode(advert.sig, 'sig') : null,
  };
}
