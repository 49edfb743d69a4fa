#!/usr/bin/env node
// Checks the package as it would be published: packs it (npm pack), then runs
//   - publint --strict on the tarball (exports map, files, formats; warnings fail too),
//   - @arethetypeswrong/cli on the tarball with the node16 profile (types for every entry
//     under node16 ESM, node16 CJS and bundler resolution; node10, which ignores "exports",
//     is out of scope for a package that needs Node 20),
//   - a look at the file list: every entry's files present, nothing from build/, src/ or test/.
//
//   npm run check:package            (builds first when dist/ is missing)
//   npm run check:package -- --build rebuild first
//
// Exits 1 when any check fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'node_modules/.bin');

function ensureBuilt(force) {
  if (!force && existsSync(join(ROOT, 'dist/types/src/index.d.cts')) && existsSync(join(ROOT, 'dist/esm/index.js')))
    return;
  console.log('Building (npm run build)…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** Packs into `dir` without running lifecycle scripts; returns the tarball path and its file list. */
function pack(dir) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out);
  return { tarball: join(dir, info.filename), files: info.files.map((f) => f.path) };
}

/** Runs a tool, showing its output; resolves whether it passed. */
function run(title, command, args) {
  console.log(`\n== ${title}`);
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.error) console.error(result.error.message);
  return result.status === 0;
}

/** Every file the exports map, main, module, types and bin name must be in the tarball. */
function checkFiles(files) {
  console.log('\n== tarball contents');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const targets = new Set();
  const collect = (value) => {
    if (typeof value === 'string') targets.add(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(pkg.exports);
  collect([pkg.main, pkg.module, pkg.types, pkg.bin]);
  targets.add('dist/legacy/wssclient.js');
  const present = new Set(files);
  const missing = [...targets].filter((t) => !present.has(t));
  const stray = files.filter(
    (f) =>
      /^(build|src|test|bench|scripts|examples)\//.test(f) ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.cts')),
  );
  for (const m of missing) console.error(`missing from the tarball: ${m}`);
  for (const s of stray) console.error(`should not be published: ${s}`);
  if (missing.length === 0 && stray.length === 0)
    console.log(`${files.length} files; all ${targets.size} entry files present, nothing stray.`);
  return missing.length === 0 && stray.length === 0;
}

async function main() {
  ensureBuilt(process.argv.includes('--build'));
  const dir = await mkdtemp(join(tmpdir(), 'wss-pack-'));
  try {
    const { tarball, files } = pack(dir);
    const results = [
      checkFiles(files),
      run('publint --strict', join(BIN, 'publint'), [tarball, '--strict']),
      run('arethetypeswrong (profile node16)', join(BIN, 'attw'), [
        tarball,
        '--profile',
        'node16',
        '--format',
        'table-flipped',
      ]),
    ];
    const failed = results.filter((ok) => !ok).length;
    console.log(failed ? `\n${failed} package check(s) failed.` : '\nThe package checks passed.');
    process.exitCode = failed ? 1 : 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
