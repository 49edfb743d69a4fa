#!/usr/bin/env node
// Bundle budgets for browser users, measured the way an application bundler sees the package:
// each entry below is bundled and minified by esbuild for the browser (platform 'browser'; the
// exports map sends bundlers to dist/esm, whose entries share chunks, so an app importing several
// entries gets one copy of the core), tree-shaken down to what the entry imports, then gzipped at level 9. The legacy classic script is measured as shipped
// (dist/legacy/wssclient.js, gzip -9). 1 KB = 1024 bytes.
//
//   npm run size             measure (builds first when dist/ is out of date)
//   npm run size -- --build  rebuild first
//   npm run size -- --json   machine-readable output
//
// Exits 1 when an entry is over its budget.
//
// A budget moves only with its reason written down: docs/bundle-size.md keeps every move and why.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ensureBuilt } from './build-stamp.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const KB = 1024;

/** What a browser application imports, and the gzip budget for it. */
const ENTRIES = [
  {
    name: 'core',
    what: "import { WSSClient } from 'wss-sessions'",
    code: "export { WSSClient } from 'wss-sessions';",
    budget: 7.5 * KB,
  },
  {
    name: 'core + secure',
    what: "import { SecureSession } from 'wss-sessions/secure' (includes the core)",
    code: "export { SecureSession } from 'wss-sessions/secure';",
    budget: 25.75 * KB,
  },
  {
    name: 'signal',
    what: "import { EncryptedWebSocketClient } from 'wss-sessions/signal'",
    code: "export { EncryptedWebSocketClient } from 'wss-sessions/signal';",
    budget: 9.25 * KB,
  },
  {
    name: 'legacy script',
    what: 'dist/legacy/wssclient.js as shipped',
    file: 'dist/legacy/wssclient.js',
    budget: 8.75 * KB,
  },
];

/** Shown for information, without a budget. */
const EXTRA = [
  {
    name: 'core + secure, both entries',
    what: "import { WSSClient } from 'wss-sessions' and { SecureSession } from 'wss-sessions/secure'",
    code: "export { WSSClient } from 'wss-sessions'; export { SecureSession } from 'wss-sessions/secure';",
  },
  { name: 'crypto', what: "import * from 'wss-sessions/crypto'", code: "export * from 'wss-sessions/crypto';" },
];

function ensureFreshBuild(force) {
  if (!force) return ensureBuilt({ quiet: true });
  console.error('Building dist/ (npm run build)…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** esbuild for the browser from a consumer folder whose node_modules/wss-sessions is this package. */
async function bundle(code, consumer) {
  const result = await build({
    stdin: { contents: code, resolveDir: consumer, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

async function measure(entry, consumer) {
  const bytes = entry.file ? readFileSync(join(ROOT, entry.file)) : await bundle(entry.code, consumer);
  const gzip = gzipSync(bytes, { level: 9 }).length;
  const budget = entry.budget ?? null;
  return { name: entry.name, what: entry.what, minified: bytes.length, gzip, budget };
}

const withinBudget = (row) => row.budget === null || row.gzip <= row.budget;

function describe(row) {
  if (row.budget === null) return '(no budget)';
  const budget = `budget ${kb(row.budget)}`;
  return withinBudget(row)
    ? `${budget}  ok (${row.budget - row.gzip} B to spare)`
    : `${budget}  OVER by ${row.gzip - row.budget} B: FAIL`;
}

const kb = (n) => `${(n / KB).toFixed(2)} KB`;

async function main() {
  const args = new Set(process.argv.slice(2));
  ensureFreshBuild(args.has('--build'));
  const consumer = await mkdtemp(join(ROOT, 'node_modules/.cache-size-'));
  try {
    await mkdir(join(consumer, 'node_modules'), { recursive: true });
    await symlink(ROOT, join(consumer, 'node_modules/wss-sessions'), 'dir');
    const rows = [];
    for (const entry of [...ENTRIES, ...EXTRA]) rows.push(await measure(entry, consumer));
    const over = rows.filter((r) => !withinBudget(r));
    if (args.has('--json')) {
      console.log(JSON.stringify({ unit: 'bytes', rows, over: over.map((r) => r.name) }, null, 2));
    } else {
      console.log(
        'Browser bundle sizes: esbuild --bundle --minify (platform browser) of each import, gzip -9; 1 KB = 1024 bytes\n',
      );
      for (const r of rows) {
        console.log(
          `${r.name.padEnd(28)} min ${String(r.minified).padStart(7)} B   gzip ${String(r.gzip).padStart(6)} B (${kb(r.gzip)})   ${describe(r)}`,
        );
        console.log(`${''.padEnd(28)} ${r.what}`);
      }
      console.log(
        over.length ? `\nOver budget: ${over.map((r) => r.name).join(', ')}.` : '\nEvery entry is within its budget.',
      );
    }
    process.exitCode = over.length ? 1 : 0;
  } finally {
    await rm(consumer, { recursive: true, force: true });
  }
}

await main();
