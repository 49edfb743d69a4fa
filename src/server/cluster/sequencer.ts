/**
 * Keeps presence events in the cluster's order (`seq`) and holds every
 * message back while the node reloads its picture of the cluster, so that a
 * session never hears of a peer's message before the peer's arrival.
 */
import type { BusMessage } from './bus.js';

/** Messages held while the node resynchronises; past this it drops them and resynchronises once more. */
export const MAX_HELD_MESSAGES = 100_000;

/** What to do with a message now. */
export type Verdict =
  /** Apply or deliver it now. */
  | 'apply'
  /** A presence event the node has already (it came before the snapshot it loaded). */
  | 'old'
  /** Kept for later: the node is resynchronising. */
  | 'held'
  /** A presence event after a gap: kept, and the node must resynchronise. */
  | 'gap';

export class EventSequencer {
  readonly #max: number;
  #last = 0;
  #holding = true;
  #held: BusMessage[] = [];
  #dropped = 0;

  /** Starts holding: nothing is applied before the first {@link release}. */
  constructor(max = MAX_HELD_MESSAGES) {
    this.#max = max;
  }

  /** Whether messages are held now. */
  get holding(): boolean {
    return this.#holding;
  }

  /** Messages dropped because too many were held (since the last release). */
  get dropped(): number {
    return this.#dropped;
  }

  accept(message: BusMessage): Verdict {
    if (this.#holding) return this.#hold(message);
    if (!('seq' in message)) return 'apply';
    if (message.seq <= this.#last) return 'old';
    if (message.seq === this.#last + 1) {
      this.#last = message.seq;
      return 'apply';
    }
    this.#holding = true;
    this.#hold(message);
    return 'gap';
  }

  /** Holds everything from now on (the link came back, or a gap was seen). */
  hold(): void {
    this.#holding = true;
  }

  /**
   * The node now knows the presence up to `seq`. Returns the held messages in
   * arrival order; pass each through {@link accept} again (it may find a gap).
   */
  release(seq: number): BusMessage[] {
    const held = this.#held;
    this.#held = [];
    this.#holding = false;
    this.#dropped = 0;
    this.#last = seq;
    return held;
  }

  #hold(message: BusMessage): Verdict {
    if (this.#held.length >= this.#max) {
      this.#dropped++;
      return 'held';
    }
    this.#held.push(message);
    return 'held';
  }
}
