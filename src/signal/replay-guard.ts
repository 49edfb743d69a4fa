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
  /**
   * The IVs in the order they were added, grown up to the capacity, then
   * reused as a ring whose slot `#next` holds the oldest. (A Set's own first
   * entry can sit behind many deleted ones, so it is not an O(1) way to find the oldest.)
   */
  readonly #ring: string[] = [];
  #next = 0;

  constructor(capacity: number) {
    super();
    this.#capacity = capacity;
  }

  /** Remembers `iv`, evicting the oldest IV when full. */
  override add(iv: string): this {
    if (this.has(iv)) return this;
    const ring = this.#ring;
    if (ring.length < this.#capacity) {
      ring.push(iv);
    } else {
      this.delete(ring[this.#next] as string);
      ring[this.#next] = iv;
      this.#next = (this.#next + 1) % ring.length;
    }
    return super.add(iv);
  }

  override clear(): void {
    super.clear();
    this.#ring.length = 0;
    this.#next = 0;
  }
}
