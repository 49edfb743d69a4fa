/**
 * Peers of one connection, by private ID and by key id. Entries are created
 * synchronously when a peer becomes known, so messages that follow at once
 * find them; key agreement and identity checks run in the background
 * (`entry.ready`). Private IDs change; key ids do not.
 */
import { AuthenticationError, KeyFormatError, toError } from '../errors.js';
import type { ConnectOptions } from '../protocol/wss.js';
import { readPeerAdvert, type LocalKeys, type PeerAdvert } from './local-keys.js';
import { bindingInput, derivePairKeys, identityKeyFingerprint, keyId, pairFingerprint, type PairKeys } from './scheme.js';
import { importPeerPublicKey } from '../crypto/ecdh.js';
import { importVerifyKey, verifySignature } from '../crypto/signing.js';

/** What is known about a peer's keys once checks are done. */
export interface PeerSecurity {
  /** Directional keys; `null` when the peer cannot be used for encryption. */
  keys: PairKeys | null;
  /** Pair safety number; `null` without a usable key. */
  fingerprint: string | null;
  /** `true` identity verified, `false` identity check failed or missing but required, `null` no identity in play. */
  verified: boolean | null;
  /** Safety number of the peer's identity key, when it published one. */
  identityFingerprint: string | null;
  /** Why the peer is unusable, when it is (`null` on a plaintext session). */
  error: Error | null;
}

/** How peer identities are judged. */
export interface IdentityPolicy {
  /** Peers without a valid identity signature are unusable. */
  require: boolean;
  /** Extra application check of a validly signed identity (pinning); `false` makes the peer unusable. */
  trust?: (peer: { privateId: string; identityKey: Uint8Array; identityFingerprint: string }) => boolean | Promise<boolean>;
}

/** A peer of a plaintext session: no keys, nothing wrong. */
const PLAINTEXT: PeerSecurity = { keys: null, fingerprint: null, verified: null, identityFingerprint: null, error: null };

/** One peer of one connection. */
export class PeerEntry {
  privateId: string;
  readonly options: ConnectOptions;
  readonly advert: PeerAdvert | null;
  /** Key id of the peer's public key; `null` for a peer that published none or a malformed one. */
  readonly kid: string | null;
  /** Settles (never rejects) once key agreement and identity checks are done. */
  readonly ready: Promise<PeerSecurity>;
  /** Set when `ready` settles. */
  security: PeerSecurity | null = null;
  /** Last counter sent to this peer. */
  sendCounter = 0;
  /** Highest counter accepted from this peer. */
  receiveCounter = 0;

  constructor(privateId: string, options: ConnectOptions, advert: PeerAdvert | null, ready: (entry: PeerEntry) => Promise<PeerSecurity>) {
    this.privateId = privateId;
    this.options = options;
    this.advert = advert;
    this.kid = advert && keyId(advert.publicB64);
    this.ready = ready(this).then((security) => (this.security = security));
  }
}

/**
 * Checks the identity binding (and the application's pin), then agrees the
 * pair keys. Any failure leaves the peer unusable, with the reason.
 */
async function secure(entry: PeerEntry, advertError: Error | null, local: LocalKeys, appInfo: string, policy: IdentityPolicy): Promise<PeerSecurity> {
  const { advert, privateId } = entry;
  const peer = `peer ${privateId}`;
  // Until the checks pass, an identity in play (published or required) counts as failed.
  const verified = policy.require || advert?.identityRaw ? false : null;
  let identityFingerprint: string | null = null;
  try {
    if (advertError) throw advertError;
    if (!advert) throw new AuthenticationError(`${peer} published no end-to-end key; it cannot take part in an encrypted session`);
    const { identityRaw, signature, publicRaw } = advert;
    if (identityRaw && signature) {
      identityFingerprint = await identityKeyFingerprint(identityRaw);
      const identityKey = await importVerifyKey(identityRaw, `${peer}'s identity key`);
      if (!(await verifySignature(identityKey, signature, bindingInput(appInfo, publicRaw)))) {
        throw new AuthenticationError(`${peer}'s identity signature does not match its published key; the key may have been replaced in transit`);
      }
      if (policy.trust && !(await policy.trust({ privateId, identityKey: identityRaw, identityFingerprint }))) {
        throw new AuthenticationError(`${peer}'s identity ${identityFingerprint} was rejected by verifyPeerIdentity`);
      }
    } else if (policy.require) {
      throw new AuthenticationError(`${peer} published no identity key, and identities are required`);
    }
    const keys = await derivePairKeys(local.privateKey, local.publicRaw, await importPeerPublicKey(publicRaw, `${peer}'s public key`), publicRaw, appInfo);
    return { keys, fingerprint: await pairFingerprint(appInfo, local.publicRaw, publicRaw), verified: identityRaw ? true : null, identityFingerprint, error: null };
  } catch (error) {
    return { keys: null, fingerprint: null, verified, identityFingerprint, error: toError(error) };
  }
}

/** The peers of one connection. */
export class PeerTable {
  readonly #byPid = new Map<string, PeerEntry>();
  readonly #byKid = new Map<string, PeerEntry>();
  readonly #local: LocalKeys | null;
  readonly #appInfo: string;
  readonly #policy: IdentityPolicy;

  /** `local` is `null` in a plaintext session: entries then carry no keys. */
  constructor(local: LocalKeys | null, appInfo: string, policy: IdentityPolicy) {
    this.#local = local;
    this.#appInfo = appInfo;
    this.#policy = policy;
  }

  get(privateId: string): PeerEntry | undefined {
    return this.#byPid.get(privateId);
  }

  byKid(kid: string): PeerEntry | undefined {
    return this.#byKid.get(kid);
  }

  entries(): IterableIterator<PeerEntry> {
    return this.#byPid.values();
  }

  /**
   * Adds a peer. A second announcement of the same key is a no-op (`added: false`);
   * a different key for a known private ID replaces the old entry (`replaced`).
   */
  add(privateId: string, options: ConnectOptions): { entry: PeerEntry; added: boolean; replaced: PeerEntry | null } {
    const local = this.#local;
    const existing = this.#byPid.get(privateId) ?? null;
    let advert: PeerAdvert | null = null;
    let advertError: Error | null = null;
    try {
      advert = local && readPeerAdvert(options);
      // A key id is a session's name in envelopes: this session's own, or another current peer's, cannot be a second peer's.
      const kid = advert && keyId(advert.publicB64);
      const holder = kid && this.#byKid.get(kid);
      if (kid && (kid === local?.kid || (holder && holder.privateId !== privateId))) {
        throw new KeyFormatError(`peer ${privateId} published a public key that another session already uses; it is ignored`);
      }
    } catch (error) {
      advert = null;
      advertError = toError(error);
    }
    if (existing && !advertError && existing.advert?.publicB64 === advert?.publicB64) return { entry: existing, added: false, replaced: null };
    if (existing) this.remove(privateId);
    const entry = new PeerEntry(privateId, options, advert, async (e) => (local ? secure(e, advertError, local, this.#appInfo, this.#policy) : PLAINTEXT));
    this.#byPid.set(privateId, entry);
    if (entry.kid !== null) this.#byKid.set(entry.kid, entry);
    return { entry, added: true, replaced: existing };
  }

  /** Removes a peer. */
  remove(privateId: string): void {
    const entry = this.#byPid.get(privateId);
    if (!entry) return;
    this.#byPid.delete(privateId);
    if (entry.kid !== null && this.#byKid.get(entry.kid) === entry) this.#byKid.delete(entry.kid);
  }

  /** Moves a peer to a new private ID; an unknown old ID adds a peer without options. */
  rename(oldId: string, newId: string): void {
    const entry = this.#byPid.get(oldId);
    if (!entry) {
      this.add(newId, {});
      return;
    }
    this.#byPid.delete(oldId);
    this.remove(newId);
    entry.privateId = newId;
    this.#byPid.set(newId, entry);
  }
}
