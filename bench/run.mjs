// `npm run bench`: every benchmark from one run, then a summary of the ratios.
// Figures, not pass/fail tests: shared machines are noisy, so read the ratios.
import { benchCore } from './core.mjs';
import { benchCrypto } from './crypto.mjs';
import { benchSecure } from './secure.mjs';
import { benchSignal } from './signal.mjs';

/** The base64 rows as verdicts against the ≥ 5× target (fallback rows included, for honesty). */
async function cryptoVerdicts() {
  console.log('\nCrypto: base64');
  const { rows } = await benchCrypto();
  return Object.entries(rows).map(([label, row]) => ({
    label: `base64 ${label} vs per-byte loop`,
    value: row.ratio,
    target: 5,
    ok: row.ratio >= 5,
  }));
}

const verdicts = [];
for (const run of [benchCore, cryptoVerdicts, benchSignal, benchSecure]) verdicts.push(...(await run()));
console.log('\nSummary');
for (const v of verdicts)
  console.log(`  ${v.ok ? 'met   ' : 'MISSED'} ${v.label}: ${v.value.toFixed(2)}x (target ${v.target})`);
