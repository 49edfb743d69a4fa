/**
 * Remembers the IVs of one connection's `encrypted` frames so that a frame seen
 * before — received earlier, or sent by this side and reflected back — is
 * rejected.
 *
 * Bound: at most `capacity` IVs, evicted oldest first (FIFO); memory is
 * O(capacity) (about 100 bytes per IV). Once an IV has been evicted, a replay
 * of that old frame is NOT detected: it still authenticates under the
 * connection's key. So the guard stops replays and reflections within the
 * last `capacity` frames of a connection, not older ones; the wire protocol
 * carries no sequence number or timestamp that would allow more without
 * unbounded memory. Frames can never be replayed into another connection,
 * because every connection derives a new key. The IVs are random 96-bit
 * values, so an honest peer repeating one is not a practical concern.
 */
export class ReplayGuard {
  readonly #seen = new Set<string>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Whether `iv` (canonical base64) is among the remembered IVs. */
  has(iv: string): boolean {
    return this.#seen.has(iv);
  }

  /** Remembers `iv`, evicting the oldest IV when full. */
  add(iv: string): void {
    if (this.#seen.has(iv)) return;
    if (this.#seen.size >= this.#capacity) {
      // A Set iterates in insertion order, so its first value is the oldest.
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    this.#seen.add(iv);
  }

  /** Number of IVs remembered (never more than the capacity). */
  get size(): number {
    return this.#seen.size;
  }

  /** Forgets everything (when the connection's key is discarded). */
  clear(): void {
    this.#seen.clear();
  }
}
