/**
 * The peer table: who is connected under which private ID with which checked
 * keys, and the replay counter of each key pair. Pure state: it reports what
 * changed and the connection turns that into events. Spec §2 ("One key, one
 * peer"), §5 and "Renames".
 */
import { AuthenticationError, InvalidArgumentError, KeyFormatError } from '../errors.js';
import { isRecord } from '../protocol/guards.js';
import type { ConnectOptions } from '../protocol/wss.js';
import type { PeerKeyEvent, SecurePeer } from './events.js';
import { type Counter, ReplayLedger } from './replay.js';
import { type DeliveryLetter, keyId, type LocalKeys, type PeerKeys, unusable } from './scheme.js';

/** A current peer. */
export interface PeerEntry {
  /** Its current private ID: a rename changes it in place, so a batch sealed meanwhile reads the new one. */
  id: string;
  options: ConnectOptions;
  keys: PeerKeys;
  /** Its key id (envelopes name recipients by it); `null` without a usable key. */
  kid: string | null;
  /** The replay state of (this connection's key, this peer's key); `null` without a usable key. */
  counter: Counter | null;
}

/** What an announcement changed. */
export interface Announced {
  /** The private ID was not listed. */
  joined: boolean;
  /** The `peerkey` event (encrypted sessions). */
  key: PeerKeyEvent | null;
  /** Its key was refused: this session's own, or held by another peer. */
  refused: boolean;
  /** Releasing the old key went past the retired-keys bound. */
  overflow: boolean;
}

/** How a rename went: done, refused (the new private ID is another peer's), or about no listed peer. */
export type Renamed = 'renamed' | 'taken' | 'unknown';

/** Whether a peer's advert says it runs this delivery (`'r'` reliable, `'a'` at most once with requests). */
export const advertises = (options: ConnectOptions, letter: DeliveryLetter): boolean =>
  isRecord(options.e2e) && options.e2e.d === letter;

/** Whether messages can be sealed for a peer: it has a pair key to send with, and a key id. */
export const usable = (peer: PeerEntry): boolean => !!(peer.keys.send && peer.kid);

/** Why nothing can be sent to a peer without a usable key (its key's own error as the cause). */
export const noUsableKey = (peer: PeerEntry): AuthenticationError =>
  new AuthenticationError(`peer ${peer.id}: no usable key`, { cause: peer.keys.error ?? undefined });

/** Why nothing can be sent to a private ID no peer holds. */
export const noPeer = (privateId: string): InvalidArgumentError => new InvalidArgumentError(`no peer '${privateId}'`);

/** The peers of one session; its entries are per connection (cleared when one ends), its view is the session's `peers`. */
export class PeerTable {
  readonly #entries = new Map<string, PeerEntry>();
  /** What `SecureSession.peers` shows: a frozen summary of each entry. */
  readonly view = new Map<string, SecurePeer>();
  readonly #ledger: ReplayLedger;
  readonly #encrypted: boolean;

  constructor(encrypted: boolean, maxRetiredKeys: number) {
    this.#encrypted = encrypted;
    this.#ledger = new ReplayLedger(maxRetiredKeys);
  }

  get(privateId: string): PeerEntry | undefined {
    return this.#entries.get(privateId);
  }

  /**
   * The peer listed under `privateId`, if any, for sending to.
   * @throws {AuthenticationError} when it is listed without a usable key.
   */
  sendable(privateId: string): PeerEntry | undefined {
    const peer = this.#entries.get(privateId);
    if (peer && !usable(peer)) throw noUsableKey(peer);
    return peer;
  }

  values(): IterableIterator<PeerEntry> {
    return this.#entries.values();
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * A peer announced with its checked keys (`own`: this connection's keys, `null`
   * on a plaintext session). A key already held by another entry, or this
   * session's own, is refused (`KeyFormatError`); a known private ID with another
   * key is a key change, whose old key is released.
   * @returns what changed, or `null` when the same key was announced again (nothing changes).
   */
  announce(own: LocalKeys | null, privateId: string, options: ConnectOptions, checked: PeerKeys): Announced | null {
    const old = this.#entries.get(privateId);
    if (old && old.keys.pk === checked.pk) return null;
    const overflow = !!old && !this.#release(old);
    let keys = checked;
    let counter: Counter | null = null;
    if (keys.receive && keys.pk) counter = (keys.pk !== own?.pk && this.#ledger.claim(keys.pk)) || null;
    const refused = !!keys.receive && !counter;
    // One key, one peer: a key that is this session's own or another peer's would let messages be reflected or counted twice.
    if (refused)
      keys = unusable(null, new KeyFormatError(`peer ${privateId}: key in use by another peer or this session`));
    this.#put({ id: privateId, options, keys, kid: counter && keyId(keys.pk as string), counter });
    const { fingerprint, verified, identityFingerprint, error } = keys;
    const key: PeerKeyEvent | null = own && {
      privateId,
      fingerprint,
      verified,
      identityFingerprint,
      ...(old && { previousFingerprint: old.keys.fingerprint }),
      ...(error && { error }),
    };
    return { joined: !old, key, refused, overflow };
  }

  /** Moves a peer to a new private ID, unless another peer holds that ID: then both stay as they are. */
  rename(oldPrivateId: string, newPrivateId: string): Renamed {
    if (oldPrivateId !== newPrivateId && this.#entries.has(newPrivateId)) return 'taken';
    const entry = this.#entries.get(oldPrivateId);
    if (!entry) return 'unknown';
    this.#entries.delete(oldPrivateId);
    this.view.delete(oldPrivateId);
    entry.id = newPrivateId;
    this.#put(entry);
    return 'renamed';
  }

  /**
   * A peer left; its key is released (remembered with its counter if it delivered anything).
   * @returns whether it was listed, and `overflow` as for {@link announce}.
   */
  remove(privateId: string): { listed: boolean; overflow: boolean } {
    const entry = this.#entries.get(privateId);
    if (!entry) return { listed: false, overflow: false };
    this.#entries.delete(privateId);
    this.view.delete(privateId);
    return { listed: true, overflow: !this.#release(entry) };
  }

  /** The connection ended: every entry and all replay state go (the next connection has new keys). @returns the private IDs that were listed. */
  clear(): string[] {
    const ids = [...this.#entries.keys()];
    this.#entries.clear();
    this.view.clear();
    this.#ledger.clear();
    return ids;
  }

  #release(entry: PeerEntry): boolean {
    return !entry.counter || this.#ledger.release(entry.keys.pk as string, entry.counter);
  }

  #put(entry: PeerEntry): void {
    const { id: privateId, options, keys } = entry;
    const { fingerprint, verified, identityFingerprint } = keys;
    this.#entries.set(privateId, entry);
    this.view.set(
      privateId,
      Object.freeze({
        privateId,
        options,
        fingerprint,
        verified,
        identityFingerprint,
        usable: !this.#encrypted || !!entry.counter,
        delivery: advertises(options, 'r') ? 'reliable' : 'at-most-once',
      }),
    );
  }
}
