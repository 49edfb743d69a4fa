#!/usr/bin/env node
// Post-build step: gives CommonJS consumers their own declaration tree. Next to every
// dist/types/**/*.d.ts it writes a .d.cts whose relative imports point at .cjs, so that
// TypeScript reads the `require` entries' types as CommonJS (package.json "exports" →
// "require" → "types"), not as ES modules ("masquerading as ESM").
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

const TYPES = resolve(import.meta.dirname, '..', 'dist/types');
const RELATIVE_JS = /((?:\bfrom|\bimport\(|^import)\s*['"])(\.{1,2}\/[^'"]+?)\.js(['"])/gm;

async function* declarations(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith('.d.ts')) yield path;
  }
}

let count = 0;
for await (const file of declarations(TYPES)) {
  const text = await readFile(file, 'utf8');
  await writeFile(file.replace(/\.d\.ts$/, '.d.cts'), text.replace(RELATIVE_JS, '$1$2.cjs$3'));
  count++;
}
if (count === 0) {
  console.error(`cjs-types: no .d.ts files under ${TYPES}; run tsc first`);
  process.exit(1);
}
