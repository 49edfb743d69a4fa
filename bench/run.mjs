// `npm run bench`: every benchmark from one run, then a summary of the ratios.
// Figures, not pass/fail tests: shared machines are noisy, so read the ratios.
import { existsSync } from 'node:fs';
import { benchCore } from './core.mjs';

const suites = [['core', benchCore]];
for (const [name, fn] of [['crypto', 'benchCrypto'], ['signal', 'benchSignal'], ['secure', 'benchSecure']]) {
  if (existsSync(new URL(`./${name}.mjs`, import.meta.url))) {
    const mod = await import(`./${name}.mjs`);
    suites.push([name, mod[fn]]);
  }
}

const verdicts = [];
for (const [, run] of suites) verdicts.push(...((await run()) ?? []));
console.log('\nSummary');
for (const v of verdicts) console.log(`  ${v.ok ? 'met   ' : 'MISSED'} ${v.label}: ${v.value.toFixed(2)}x (target ${v.target})`);
