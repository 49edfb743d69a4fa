/**
 * Queues read from the front keep an index to their first item instead of
 * calling `shift()`, which V8 runs by copying once an array is large.
 */

/** Items taken off the front before the array is cleared out (when they are also half of it). */
const COMPACT_AFTER = 1024;

/**
 * Takes the item at `head` off `items` (clearing its place).
 * @returns the array and the head to go on with: a fresh array once it is empty, or
 *   once enough has gone from its front.
 */
export function advance<T>(items: Array<T | undefined>, head: number): [Array<T | undefined>, number] {
  items[head++] = undefined;
  if (head === items.length) return [[], 0];
  if (head >= COMPACT_AFTER && head * 2 >= items.length) return [items.slice(head), 0];
  return [items, head];
}
