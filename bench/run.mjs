// `npm run bench`: every benchmark from one run, a summary of its figures, and
// bench/results.json ([{ id, label, value, min, max, goal, higherIsBetter, met }]).
// Figures, not pass/fail tests: shared machines are noisy, so read the medians with their ranges.
// `npm run bench -- --only core,server` runs some of the modules (results.json then holds only theirs).
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { benchCluster } from './cluster.mjs';
import { benchCore } from './core.mjs';
import { benchCrypto } from './crypto.mjs';
import { describe } from './measure.mjs';
import { benchReliable } from './reliable.mjs';
import { benchSecure } from './secure.mjs';
import { benchServer } from './server.mjs';
import { benchSignal } from './signal.mjs';

/** Module name → the function that runs it and returns its figures (see measure.mjs `result`). */
const MODULES = {
  core: benchCore,
  crypto: benchCrypto,
  signal: benchSignal,
  secure: benchSecure,
  reliable: benchReliable,
  server: benchServer,
  cluster: benchCluster,
};

/** The targets a full run must report (issues 12, 14, 15 and 16); a module that stops reporting one fails the run. */
const REQUIRED = [
  'P1-direct',
  'P2-inflight',
  'P3-secure-single',
  'P3-secure-window',
  'P4-signal-seq',
  'P4-signal-pipelined',
  'P5-base64-encode',
  'P5-base64-decode',
  'R1-reliable-vs-at-most-once',
  'S1-fanout-vs-sio',
  'S2-fanout-vs-raw',
  'S3-fanout-p99-ms',
  'S4-connect-10k-s',
  'S5-rss-per-session-kb',
  'S6-slow-consumer-peak-mb',
  'C1-cross-node-p99-ratio',
  'C2-redis-ops-per-broadcast',
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',') ?? Object.keys(MODULES);
const unknown = only.filter((name) => !(name in MODULES));
if (unknown.length)
  throw new Error(`--only: no module ${unknown.join(', ')}; modules: ${Object.keys(MODULES).join(', ')}`);

const cores = availableParallelism();
const machine = `${cores} cores, load average ${loadavg()[0].toFixed(1)} at the start, Node ${process.version}`;
console.log(`Benchmarks on ${machine}: ${only.join(', ')}`);
const figures = [];
for (const name of only) figures.push(...(await MODULES[name]()));
console.log(
  `\nSummary: each figure is the median of at least 5 rounds in alternating order, with its range. The
benchmarks that start a server process run it beside this one on the same ${cores} cores, so their ratios
also measure how the two share them. Compare figures within one run only.`,
);
for (const figure of figures) console.log(`  ${describe(figure)}`);
const missing = values.only ? [] : REQUIRED.filter((id) => !figures.some((figure) => figure.id === id));
if (missing.length) throw new Error(`no figure for ${missing.join(', ')}: a bench module stopped reporting it`);
const file = new URL('./results.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
console.log(`\n${figures.length} figures written to bench/results.json`);
