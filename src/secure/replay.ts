/**
 * Replay state of one connection, bound to key pairs: for this connection's own
 * key, the highest counter accepted from each peer key, whatever private ID the
 * relay shows that key under and however often it is announced, removed and
 * announced again. Spec §5.
 */

/** The receive counter of one (own key, peer key) pair: the highest envelope counter accepted. */
export interface Counter {
  received: number;
}

/**
 * Counters by peer key for one connection. A key is held by at most one peer
 * entry at a time; a released key is remembered (oldest first, at most
 * `maxRetired` of them) when it delivered anything, so it continues from its
 * counter when it comes back. Keys that never delivered are forgotten at once:
 * there is nothing of theirs to replay.
 */
export class ReplayLedger {
  readonly #maxRetired: number;
  /** Keys held by a current peer entry. */
  readonly #held = new Map<string, Counter>();
  /** Released keys that delivered something → their last counter, oldest first. */
  readonly #retired = new Map<string, number>();

  constructor(maxRetired: number) {
    this.#maxRetired = maxRetired;
  }

  /** How many released keys are remembered. */
  get retired(): number {
    return this.#retired.size;
  }

  /**
   * The counter for an entry that is to hold `pk`: the remembered one when the key
   * comes back, else a new one from 0.
   * @returns `undefined` while another entry holds the key (one key, one peer).
   */
  claim(pk: string): Counter | undefined {
    if (this.#held.has(pk)) return undefined;
    const counter = { received: this.#retired.get(pk) ?? 0 };
    this.#retired.delete(pk);
    this.#held.set(pk, counter);
    return counter;
  }

  /**
   * An entry lets go of `pk`.
   * @returns false when that leaves more than `maxRetired` keys remembered: the
   *   connection must end (its own key renewed) rather than forget one.
   */
  release(pk: string, counter: Counter): boolean {
    if (this.#held.get(pk) !== counter) return true;
    this.#held.delete(pk);
    if (counter.received > 0) this.#retired.set(pk, counter.received);
    return this.#retired.size <= this.#maxRetired;
  }

  /** Forgets everything: the connection ended, and its own key with it. */
  clear(): void {
    this.#held.clear();
    this.#retired.clear();
  }
}
