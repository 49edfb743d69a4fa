/**
 * A token bucket per connection: `burst` requests at once, refilled at `rate`
 * per second. Two numbers on the connection, no timer.
 */
export class TokenBucket {
  #tokens: number;
  #at: number;
  /** Requests refused in a row (reset by the next accepted one). */
  refusedInARow = 0;

  constructor(
    readonly rate: number,
    readonly burst: number,
  ) {
    this.#tokens = burst;
    this.#at = performance.now();
  }

  /** Takes `count` tokens if there are enough; `false` (and nothing taken) otherwise. */
  take(count = 1): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens >= count) {
      this.#tokens -= count;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow++;
    return false;
  }
}
