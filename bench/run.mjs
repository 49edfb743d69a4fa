// `npm run bench`: every benchmark from one run, a summary of its figures, and
// bench/results.json ([{ id, label, value, min, max, goal, higherIsBetter, met }]).
// Figures, not pass/fail tests: shared machines are noisy, so read the medians with their ranges.
// `npm run bench -- --only core,server` runs some of the modules (results.json then holds only theirs).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchCore } from './core.mjs';
import { benchCrypto } from './crypto.mjs';
import { describe } from './measure.mjs';
import { benchSecure } from './secure.mjs';
import { benchServer } from './server.mjs';
import { benchSignal } from './signal.mjs';

/** Module name → the function that runs it and returns its figures (see measure.mjs `result`). */
const MODULES = {
  core: benchCore,
  crypto: benchCrypto,
  signal: benchSignal,
  secure: benchSecure,
  server: benchServer,
};

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',') ?? Object.keys(MODULES);
const unknown = only.filter((name) => !(name in MODULES));
if (unknown.length)
  throw new Error(`--only: no module ${unknown.join(', ')}; modules: ${Object.keys(MODULES).join(', ')}`);

const figures = [];
for (const name of only) figures.push(...(await MODULES[name]()));
console.log('\nSummary');
for (const figure of figures) console.log(`  ${describe(figure)}`);
const file = new URL('./results.json', import.meta.url);
writeFileSync(file, `${JSON.stringify(figures, null, 2)}\n`);
console.log(`\n${figures.length} figures written to bench/results.json`);
