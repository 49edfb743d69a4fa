/** The exponential schedule both reconnecting clients share (each adds the jitter its protocol documents). */
export interface BackoffSchedule {
  /** Delay before the first attempt, in ms. */
  interval: number;
  /** Each further attempt waits this many times longer. */
  backoffMultiplier: number;
  /** Cap on the delay before jitter, in ms. */
  maxInterval: number;
}

/**
 * The delay before attempt `attempt` (from 1), before jitter:
 * `min(interval × backoffMultiplier^(attempt − 1), maxInterval)`.
 */
export function backoffBase(attempt: number, { interval, backoffMultiplier, maxInterval }: BackoffSchedule): number {
  return Math.min(maxInterval, interval * backoffMultiplier ** Math.max(0, attempt - 1));
}
