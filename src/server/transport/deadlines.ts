/**
 * Deadlines that all share one timeout, on a single timer: items expire in
 * the order they were added, so the queue is a Map in insertion order and the
 * timer only ever waits for its head. Thousands of pending handshakes or
 * sockets cost one timer, not one each.
 */
export class DeadlineQueue<T> {
  readonly #timeout: number;
  readonly #onExpire: (item: T) => void;
  readonly #due = new Map<T, number>();
  #timer: NodeJS.Timeout | null = null;

  /** @param timeout milliseconds each item gets; `0` means items never expire. */
  constructor(timeout: number, onExpire: (item: T) => void) {
    this.#timeout = timeout;
    this.#onExpire = onExpire;
  }

  /** Starts `item`'s deadline (restarts it if it was already waiting). */
  add(item: T): void {
    if (this.#timeout === 0) return;
    this.#due.delete(item);
    this.#due.set(item, Date.now() + this.#timeout);
    this.#timer ??= this.#arm(this.#timeout);
  }

  /** Cancels `item`'s deadline. */
  delete(item: T): void {
    this.#due.delete(item);
    if (this.#due.size === 0) this.clear();
  }

  /** Number of items waiting. */
  get size(): number {
    return this.#due.size;
  }

  /** Cancels every deadline and the timer. */
  clear(): void {
    this.#due.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => this.#fire(), Math.max(0, ms));
    timer.unref();
    return timer;
  }

  #fire(): void {
    this.#timer = null;
    const now = Date.now();
    for (const [item, due] of this.#due) {
      if (due > now) {
        this.#timer = this.#arm(due - now);
        return;
      }
      this.#due.delete(item);
      this.#onExpire(item);
    }
  }
}
