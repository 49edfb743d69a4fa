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
import { importPoint, verify } from './webcrypto.js';

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
  /** Why the peer is unusable, when it is. */
  error: Error | null;
}

/** How peer identities are judged. */
export interface IdentityPolicy {
  /** Peers without a valid identity signature are unusable. */
  require: boolean;
  /** Extra application check of a validly signed identity (pinning); `false` makes the peer unusable. */
  trust?: (peer: { privateId: string; identityKey: Uint8Array; identityFingerprint: string }) => boolean | Promise<boolean>;
}

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
    this.kid = advert ? keyId(advert.publicB64) : null;
    this.ready = ready(this).then((security) => (this.security = security));
  }
}

const unusable = (error: Error, extra: Partial<PeerSecurity> = {}): PeerSecurity => ({
  keys: null,
  fingerprint: null,
  verified: null,
  identityFingerprint: null,
  error,
  ...extra,
});

/** Checks the identity binding; returns the `verified` value and identity fingerprint, or an unusable result. */
async function checkIdentity(entry: PeerEntry, advert: PeerAdvert, appInfo: string, policy: IdentityPolicy): Promise<PeerSecurity | { verified: boolean | null; identityFingerprint: string | null }> {
  if (!advert.identityRaw || !advert.signature) {
    if (!policy.require) return { verified: null, identityFingerprint: null };
    return unusable(new AuthenticationError(`peer ${entry.privateId} published no identity key, and identities are required`), { verified: false });
  }
  const identityFingerprint = await identityKeyFingerprint(advert.identityRaw);
  const failed = (message: string): PeerSecurity => unusable(new AuthenticationError(message), { verified: false, identityFingerprint });
  const verifyKey = await importPoint(advert.identityRaw, true, `peer ${entry.privateId}'s identity key`);
  if (!(await verify(verifyKey, advert.signature, bindingInput(appInfo, advert.publicRaw)))) {
    return failed(`peer ${entry.privateId}'s identity signature does not match its published key; the key may have been replaced in transit`);
  }
  if (policy.trust && !(await policy.trust({ privateId: entry.privateId, identityKey: advert.identityRaw, identityFingerprint }))) {
    return failed(`peer ${entry.privateId}'s identity ${identityFingerprint} was rejected by verifyPeerIdentity`);
  }
  return { verified: true, identityFingerprint };
}

async function secure(entry: PeerEntry, local: LocalKeys, appInfo: string, policy: IdentityPolicy): Promise<PeerSecurity> {
  const advert = entry.advert;
  if (!advert) return unusable(new AuthenticationError(`peer ${entry.privateId} published no end-to-end key; it cannot take part in an encrypted session`));
  try {
    const identity = await checkIdentity(entry, advert, appInfo, policy);
    if ('keys' in identity) return identity;
    const peerKey = await importPoint(advert.publicRaw, false, `peer ${entry.privateId}'s public key`);
    const keys = await derivePairKeys(local.privateKey, local.publicRaw, peerKey, advert.publicRaw, appInfo);
    const fingerprint = await pairFingerprint(appInfo, local.publicRaw, advert.publicRaw);
    return { keys, fingerprint, error: null, ...identity };
  } catch (error) {
    return unusable(toError(error), { verified: advert.identityRaw ? false : null });
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

  /** Every entry's `ready`, settled. */
  async settled(): Promise<void> {
    await Promise.all(Array.from(this.#byPid.values(), (entry) => entry.ready));
  }

  /**
   * Adds a peer. A second announcement of the same key is a no-op (`added: false`);
   * a different key for a known private ID replaces the old entry (`replaced`).
   */
  add(privateId: string, options: ConnectOptions): { entry: PeerEntry; added: boolean; replaced: PeerEntry | null } {
    const existing = this.#byPid.get(privateId);
    const advert = this.#readAdvert(privateId, options);
    if (existing && existing.advert?.publicB64 === advert.value?.publicB64 && advert.error === null) {
      return { entry: existing, added: false, replaced: null };
    }
    if (existing) this.remove(privateId);
    const entry = new PeerEntry(privateId, options, advert.value, (e) => this.#secure(e, advert.error));
    this.#byPid.set(privateId, entry);
    if (entry.kid !== null) this.#byKid.set(entry.kid, entry);
    return { entry, added: true, replaced: existing ?? null };
  }

  /** Removes a peer; returns its entry. */
  remove(privateId: string): PeerEntry | undefined {
    const entry = this.#byPid.get(privateId);
    if (!entry) return undefined;
    this.#byPid.delete(privateId);
    if (entry.kid !== null && this.#byKid.get(entry.kid) === entry) this.#byKid.delete(entry.kid);
    return entry;
  }

  /** Moves a peer to a new private ID; an unknown old ID adds a peer without options. */
  rename(oldId: string, newId: string): PeerEntry {
    const entry = this.#byPid.get(oldId);
    if (!entry) return this.add(newId, {}).entry;
    this.#byPid.delete(oldId);
    if (this.#byPid.has(newId)) this.remove(newId);
    entry.privateId = newId;
    this.#byPid.set(newId, entry);
    return entry;
  }

  #readAdvert(privateId: string, options: ConnectOptions): { value: PeerAdvert | null; error: Error | null } {
    if (!this.#local) return { value: null, error: null };
    try {
      const value = readPeerAdvert(options);
      if (value) {
        const kid = keyId(value.publicB64);
        const holder = this.#byKid.get(kid);
        if (kid === this.#local.kid || (holder !== undefined && holder.privateId !== privateId)) {
          return { value: null, error: new KeyFormatError(`peer ${privateId} published a public key that another session already uses; it is ignored`) };
        }
      }
      return { value, error: null };
    } catch (error) {
      return { value: null, error: toError(error) };
    }
  }

  async #secure(entry: PeerEntry, advertError: Error | null): Promise<PeerSecurity> {
    if (!this.#local) return unusable(new AuthenticationError('plaintext session'));
    if (advertError) return unusable(advertError, { verified: this.#policy.require ? false : null });
    return secure(entry, this.#local, this.#appInfo, this.#policy);
  }
}
