// How every benchmark figure is taken and reported, so that all of them read alike:
// the same work in each variant, measured in one run, in rounds whose order alternates,
// summarised as the median with its range. Targets live here and in the bench modules,
// never in timed unit tests (the machines are shared and noisy).

/** Fewest rounds a figure is the median of. */
export const MIN_ROUNDS = 5;

/**
 * Runs each variant once to warm up, then `rounds` rounds of all of them, the
 * order reversed every other round, so drift in the machine's load falls on both
 * sides alike. Each variant is an async function returning one sample: a number,
 * or an object the caller takes its numbers from.
 * @returns variant name → its samples, in round order.
 */
export async function alternate(variants, { rounds = MIN_ROUNDS, warmup = true } = {}) {
  if (rounds < MIN_ROUNDS) throw new Error(`alternate(): at least ${MIN_ROUNDS} rounds, got ${rounds}`);
  const names = Object.keys(variants);
  if (warmup) for (const name of names) await variants[name]();
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name].push(await variants[name]());
  }
  return samples;
}

/** Per-round quotients `a[i] / b[i]` of two sample lists taken in the same rounds. */
export function perRound(a, b) {
  if (a.length !== b.length) throw new Error('perRound(): sample lists of different lengths');
  return a.map((x, i) => x / b[i]);
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * One figure of the summary and of bench/results.json: the median of `samples`
 * with their range, and whether it meets `goal` (`higherIsBetter` says which way).
 * `unit` is only printed ('x' for ratios).
 */
export function result({ id, label, samples, goal, higherIsBetter = true, unit = 'x' }) {
  if (!samples.length || samples.some((s) => !Number.isFinite(s))) {
    throw new Error(`${id}: samples must be finite numbers, got ${samples}`);
  }
  const value = median(samples);
  const met = higherIsBetter ? value >= goal : value <= goal;
  const figure = { id, label, value, min: Math.min(...samples), max: Math.max(...samples), goal, higherIsBetter, met };
  Object.defineProperty(figure, 'unit', { value: unit, enumerable: false });
  console.log(`  ${describe(figure)}`);
  return figure;
}

const round = (n) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

/** `median (range min–max)` of some samples, each number written by `format`. */
export function spread(samples, format = round) {
  return `${format(median(samples))} (range ${format(Math.min(...samples))}–${format(Math.max(...samples))})`;
}

/** `met    ID label: value unit (range min–max; goal >= g)`. */
export function describe(figure) {
  const unit = figure.unit === 'x' ? 'x' : figure.unit ? ` ${figure.unit}` : '';
  const way = figure.higherIsBetter ? '>=' : '<=';
  return `${figure.met ? 'met   ' : 'MISSED'} ${figure.id} ${figure.label}: ${round(figure.value)}${unit} (range ${round(figure.min)}–${round(figure.max)}; goal ${way} ${figure.goal})`;
}
