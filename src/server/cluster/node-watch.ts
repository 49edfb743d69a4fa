/**
 * The other nodes of the cluster as this node hears them: each message a
 * node sends (its heartbeat at least) restarts its countdown; a node silent
 * for the whole countdown is reported, and this node then asks Redis whether
 * it is dead (see `REAP` in lua.ts). One timer per node, refreshed in place.
 */

/** Countdowns of the other nodes, by node id. */
export class NodeWatch {
  readonly #silentAfter: number;
  readonly #onSilent: (node: string) => void;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** @param silentAfter ms without a word after which `onSilent(node)` is called. */
  constructor(silentAfter: number, onSilent: (node: string) => void) {
    this.#silentAfter = silentAfter;
    this.#onSilent = onSilent;
  }

  /** The node said something: its countdown starts again. */
  heard(node: string): void {
    const timer = this.#timers.get(node);
    if (timer) {
      timer.refresh();
      return;
    }
    this.#arm(node, this.#silentAfter);
  }

  /** Checks `node` again in `ms` (Redis said it still has that long). */
  recheck(node: string, ms: number): void {
    this.forget(node);
    this.#arm(node, ms);
  }

  /** Stops watching a node (it is gone). */
  forget(node: string): void {
    const timer = this.#timers.get(node);
    if (timer) clearTimeout(timer);
    this.#timers.delete(node);
  }

  /** Every node gets a whole countdown again (this node was cut off and cannot know who spoke meanwhile). */
  restartAll(): void {
    for (const timer of this.#timers.values()) timer.refresh();
  }

  /** How many nodes are watched. */
  get size(): number {
    return this.#timers.size;
  }

  /** Stops every timer. */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #arm(node: string, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(node);
      this.#onSilent(node);
    }, ms);
    timer.unref();
    this.#timers.set(node, timer);
  }
}
