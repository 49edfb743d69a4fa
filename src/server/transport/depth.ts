import { RawJson } from './raw-json.js';

/**
 * Whether a parsed JSON value nests deeper than `max` levels: each object or
 * array is one level (`5` is 0 levels, `{"a":[1]}` is 2), a {@link RawJson}
 * as many as it holds. Iterative, so a hostile value nested 100,000 deep
 * cannot overflow the stack here; it stops at the first value past the limit.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (value instanceof RawJson) return value.levels > max;
  const stack: Array<[object, number]> = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next;
    if (depth > max) return true;
    const members = Array.isArray(node) ? node : Object.values(node);
    for (const member of members) {
      if (typeof member !== 'object' || member === null) continue;
      if (member instanceof RawJson) {
        if (depth + member.levels > max) return true;
      } else stack.push([member, depth + 1]);
    }
  }
  return false;
}
