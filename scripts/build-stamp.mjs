#!/usr/bin/env node
// Knows whether dist/ is what `npm run build` makes of the current sources, so that
// `npm test`, `npm run demo` and `npm run bench` rebuild only when something changed.
//
//   node scripts/build-stamp.mjs write    after a build: records the stamp (npm run build does this)
//   node scripts/build-stamp.mjs ensure   says in one line whether dist/ is up to date, and builds when it is not
//   node scripts/build-stamp.mjs check    exits 0 when dist/ is up to date, 1 when not
//
// The stamp (build/stamp.json, never published) holds a SHA-256 of every build input's path and
// content (src/, legacy-compat/, the compiler and bundler configuration, package.json, the lock
// file and npm's record of what it installed: the toolchain, and what the browser bundles inline)
// and one of every file under dist/. dist/ is up to date when both hashes match: contents, not
// modification times, so a checkout, a branch switch or a touched file cannot fool it, and
// neither can a dist/ file edited or deleted by hand.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const STAMP = join(ROOT, 'build/stamp.json');
const INPUT_DIRS = ['src', 'legacy-compat'];
const INPUT_FILES = [
  'package.json',
  'package-lock.json',
  // What npm actually installed (the toolchain, and what browser bundles inline), which can differ from the lock.
  'node_modules/.package-lock.json',
  'tsconfig.json',
  'rollup.config.mjs',
  'scripts/declarations.mjs',
  'scripts/build-stamp.mjs',
];

function* files(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** SHA-256 over each file's path (relative to the root) and content, in a fixed order. */
function digest(paths) {
  const hash = createHash('sha256');
  for (const path of paths) {
    hash.update(`${relative(ROOT, path)}\0`);
    hash.update(existsSync(path) ? readFileSync(path) : '(missing)');
    hash.update('\0');
  }
  return hash.digest('hex');
}

const inputs = () =>
  digest([...INPUT_DIRS.flatMap((dir) => [...files(join(ROOT, dir))]), ...INPUT_FILES.map((f) => join(ROOT, f))]);
const outputs = () => digest([...files(join(ROOT, 'dist'))]);

/** Why dist/ is not up to date, or null when it is. */
export function staleness() {
  if (!existsSync(STAMP)) return 'no record of a build';
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return 'the build record is unreadable';
  }
  if (stamp.inputs !== inputs()) return 'the sources or the build configuration changed';
  if (stamp.outputs !== outputs()) return 'dist/ was changed or removed';
  return null;
}

export function writeStamp() {
  mkdirSync(join(ROOT, 'build'), { recursive: true });
  writeFileSync(STAMP, `${JSON.stringify({ inputs: inputs(), outputs: outputs() })}\n`);
}

/** Builds when dist/ is out of date, saying so in one line; `quiet` says nothing when it is up to date. */
export function ensureBuilt({ quiet = false } = {}) {
  const reason = staleness();
  if (reason === null) {
    if (!quiet) console.error('dist/ is up to date with the sources; not rebuilding.');
    return;
  }
  console.error(`Building dist/ because ${reason} (tsc, then rollup: 15-60 s)…`);
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  if (command === 'write') writeStamp();
  else if (command === 'ensure') ensureBuilt();
  else if (command === 'check') {
    const reason = staleness();
    console.error(reason === null ? 'dist/ is up to date.' : `dist/ is out of date: ${reason}.`);
    process.exitCode = reason === null ? 0 : 1;
  } else {
    console.error('usage: node scripts/build-stamp.mjs write|ensure|check');
    process.exitCode = 2;
  }
}
