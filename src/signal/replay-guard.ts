/**
 * Remembers the IVs of one connection's `encrypted` frames so that a frame seen
 * before — received earlier, or sent by this side and reflected back — is
 * rejected. A `Set` of canonical base64 IVs that never holds more than its capacity.
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
export class ReplayGuard extends Set<string> {
  readonly #capacity: number;

  constructor(capacity: number) {
    super();
    this.#capacity = capacity;
  }

  /** Remembers `iv`, evicting the oldest IV when full. */
  override add(iv: string): this {
    // A Set iterates in insertion order, so its first value is the oldest.
    if (!this.has(iv) && this.size >= this.#capacity) this.delete(this.values().next().value as string);
    return super.add(iv);
  }
}
