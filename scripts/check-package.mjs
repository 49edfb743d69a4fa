#!/usr/bin/env node
// Checks the package as it would be published: packs it (npm pack), then runs
//   - publint --strict on the tarball (exports map, files, formats; warnings fail too),
//   - @arethetypeswrong/cli on the tarball with the node16 profile (types for every entry
//     under node16 ESM, node16 CJS and bundler resolution; node10, which ignores "exports",
//     is out of scope for a package that needs Node 20),
//   - a look at the file list: every entry's files present; nothing from build/, test/ or
//     scripts/; only the public declarations (one bundle per entry and their shared chunks),
//   - the source maps: every bundle and declaration file has one, and every source a map names
//     is in the tarball (the maps point at src/*.ts, which ships for that reason) or, for code
//     bundled from a dependency, inside the map,
//   - the links: every relative link in the shipped Markdown (README.md, docs/, legacy-compat/)
//     leads to a file in the tarball, so none breaks on the registry page or in node_modules.
//
//   npm run check:package            (builds first when dist/ is out of date)
//   npm run check:package -- --build rebuild first
//
// Exits 1 when any check fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { ensureBuilt } from './build-stamp.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'node_modules/.bin');

function ensureFreshBuild(force) {
  if (!force) return ensureBuilt({ quiet: true });
  console.log('Building dist/ (npm run build)…');
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

/** The files package.json names: the exports map, main, module, types and bin. */
function entryFiles(pkg) {
  const targets = new Set();
  const collect = (value) => {
    if (typeof value === 'string') targets.add(value.replace(/^\.\//, ''));
    else if (value && typeof value === 'object') Object.values(value).forEach(collect);
  };
  collect(pkg.exports);
  collect([pkg.main, pkg.module, pkg.types, pkg.bin]);
  targets.add('dist/legacy/wssclient.js');
  return targets;
}

/**
 * Why `file` should not be in the tarball, or null. Sources (.ts) ship only under src/ and
 * legacy-compat/, for the source maps; declarations only as the entries' bundles and their chunks.
 */
function strayReason(file, publicDeclarations) {
  if (/^(build|test|bench|scripts|examples|node_modules)\//.test(file)) return 'not part of the package';
  if (/\.d\.c?ts(\.map)?$/.test(file)) {
    const declaration = file.replace(/\.map$/, '');
    return publicDeclarations.has(declaration) || /^dist\/types\/chunks\/[^/]+\.d\.c?ts$/.test(declaration)
      ? null
      : "an internal declaration (only the entries' bundles and their chunks ship)";
  }
  if (/\.[cm]?ts$/.test(file) && !/^(src|legacy-compat)\//.test(file))
    return 'a source outside src/ and legacy-compat/';
  return null;
}

/** Every entry file in the tarball; nothing stray, no internal declaration. */
function checkFiles(files) {
  console.log('\n== tarball contents');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const targets = entryFiles(pkg);
  const publicDeclarations = new Set([...targets].filter((t) => /\.d\.c?ts$/.test(t)));
  const present = new Set(files);
  const problems = [
    ...[...targets].filter((t) => !present.has(t)).map((t) => `missing from the tarball: ${t}`),
    ...files.flatMap((f) => {
      const reason = strayReason(f, publicDeclarations);
      return reason ? [`should not be published: ${f} (${reason})`] : [];
    }),
  ];
  for (const p of problems) console.error(p);
  if (problems.length === 0) {
    const declarations = files.filter((f) => /\.d\.c?ts$/.test(f)).length;
    console.log(
      `${files.length} files; all ${targets.size} entry files present, ${declarations} declaration files (entries and chunks), nothing stray.`,
    );
  }
  return problems.length === 0;
}

/** Every bundle and declaration file names its map, and every map's sources ship. */
function checkMaps(files, unpacked) {
  console.log('\n== source and declaration maps');
  const present = new Set(files);
  const problems = [];
  const mapped = files.filter((f) => f.startsWith('dist/') && /\.(c?js|d\.c?ts)$/.test(f));
  for (const file of mapped) {
    const name = file.split('/').pop();
    const text = readFileSync(join(unpacked, file), 'utf8');
    if (!text.trimEnd().endsWith(`//# sourceMappingURL=${name}.map`)) problems.push(`${file} names no source map`);
    if (!present.has(`${file}.map`)) {
      problems.push(`${file}.map is missing`);
      continue;
    }
    const map = JSON.parse(readFileSync(join(unpacked, `${file}.map`), 'utf8'));
    for (const [i, source] of (map.sources ?? []).entries()) {
      const target = posix.normalize(posix.join(posix.dirname(file), source));
      if (!present.has(target) && typeof map.sourcesContent?.[i] !== 'string')
        problems.push(`${file}.map names ${source}, which is neither in the tarball nor in the map`);
    }
  }
  for (const p of problems) console.error(p);
  if (problems.length === 0) console.log(`${mapped.length} files, each with a map whose sources all ship.`);
  return problems.length === 0;
}

/** Every relative link in the shipped Markdown leads to a shipped file. */
function checkLinks(files, unpacked) {
  console.log('\n== links in the shipped Markdown');
  const present = new Set(files);
  const problems = [];
  let count = 0;
  for (const file of files.filter((f) => f.endsWith('.md'))) {
    const text = readFileSync(join(unpacked, file), 'utf8');
    for (const [, href] of text.matchAll(/\]\(\s*<?([^)\s>]+)>?[^)]*\)/g)) {
      if (/^([a-z][a-z0-9+.-]*:|#)/i.test(href)) continue;
      count++;
      const target = posix.normalize(posix.join(posix.dirname(file), decodeURI(href.replace(/#.*$/, ''))));
      const isFolder = [...present].some((f) => f.startsWith(`${target.replace(/\/$/, '')}/`));
      if (!present.has(target) && !isFolder) problems.push(`${file} links to ${href}, which is not in the tarball`);
    }
  }
  for (const p of problems) console.error(p);
  if (problems.length === 0) console.log(`${count} relative links, all to shipped files.`);
  return problems.length === 0;
}

async function main() {
  ensureFreshBuild(process.argv.includes('--build'));
  const dir = await mkdtemp(join(tmpdir(), 'wss-pack-'));
  try {
    const { tarball, files } = pack(dir);
    const unpacked = join(dir, 'package');
    execFileSync('tar', ['-xzf', tarball, '-C', dir]);
    const results = [
      checkFiles(files),
      checkMaps(files, unpacked),
      checkLinks(files, unpacked),
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
