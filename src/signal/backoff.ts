/** Reconnection delays: exponential backoff with ±50 % jitter. */
import { backoffBase, type BackoffSchedule } from '../util/backoff.js';

/**
 * The delay before reconnection attempt `attempt` (1 for the first retry):
 * `d = min(interval × backoffMultiplier^(attempt − 1), maxInterval)`, then
 * jittered uniformly to `[d/2, 3d/2)` so that clients dropped together do not
 * come back together. Because jitter is applied after the cap, a delay can
 * reach 1.5 × `maxInterval`.
 *
 * @param random - a source of uniform numbers in [0, 1); `Math.random` by default (jitter needs no secrecy).
 */
export function reconnectDelay(attempt: number, options: BackoffSchedule, random: () => number = Math.random): number {
  return Math.floor(backoffBase(attempt, options) * (0.5 + random()));
}
