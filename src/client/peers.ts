import type { ConnectOptions } from '../protocol/wss.js';

/** The peer registry: private ID -> the peer's connect options, in connection order. */
export class PeerRegistry {
  readonly #peers = new Map<string, ConnectOptions>();

  /** A read-only view, live. */
  get view(): ReadonlyMap<string, ConnectOptions> {
    return this.#peers;
  }

  /** Replaces everything with the `WSS_Connect` result's lists (`connect[i]` ↔ `options[i]`). */
  reset(ids: readonly string[], options: readonly ConnectOptions[]): void {
    this.#peers.clear();
    ids.forEach((id, i) => this.#peers.set(id, options[i] ?? {}));
  }

  add(id: string, options: ConnectOptions): void {
    this.#peers.set(id, options);
  }

  /** @returns whether the peer was known. */
  remove(id: string): boolean {
    return this.#peers.delete(id);
  }

  /** Renames a peer, keeping its options; an unknown peer is added with no options. */
  rename(oldId: string, newId: string): void {
    const options = this.#peers.get(oldId) ?? {};
    this.#peers.delete(oldId);
    this.#peers.set(newId, options);
  }

  clear(): void {
    this.#peers.clear();
  }
}
