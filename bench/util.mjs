// Small helpers shared by the benchmark scripts.
import { performance } from 'node:perf_hooks';

/** Runs `fn` and returns elapsed milliseconds. */
export async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Prints one aligned figure line. */
export function figure(label, value, unit = '') {
  console.log(`  ${label.padEnd(58)} ${value}${unit ? ` ${unit}` : ''}`);
}

/** Prints a ratio with its target and whether it is met; returns the verdict for the summary. */
export function ratio(label, value, target, higherIsBetter = true) {
  const ok = higherIsBetter ? value >= target : value <= target;
  figure(label, `${value.toFixed(2)}x`, `(target ${higherIsBetter ? '>=' : '<='} ${target}: ${ok ? 'met' : 'MISSED'})`);
  return { label, value, target, ok };
}

/** Formats a rate. */
export const perSecond = (count, ms) => Math.round((count / ms) * 1000).toLocaleString('en-US');
