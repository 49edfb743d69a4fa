#!/usr/bin/env node
// Post-build step over dist/types (the per-entry declaration bundles and their shared chunks):
//
// 1. TypeScript before 5.7 has no generic typed arrays: `Uint8Array<ArrayBuffer>` there is
//    error TS2315. Each `XArray<ArrayBuffer>` becomes `XArrayOnArrayBuffer`, an alias declared
//    at the end of the file as `ReturnType<XArray['slice']>` (slice always allocates a new
//    ArrayBuffer): `XArray<ArrayBuffer>` on TypeScript 5.7 and later, plain `XArray` before. The
//    alias has the length of what it replaces, so declaration maps stay exact. Any other
//    instantiation (a SharedArrayBuffer, a type parameter) fails the build, since it has no
//    spelling both versions read.
// 2. CommonJS consumers get their own declarations: next to every .d.ts a .d.cts whose relative
//    imports point at .cjs, so that TypeScript reads the `require` entries' types as CommonJS
//    (package.json "exports" → "require" → "types"), not as ES modules ("masquerading as ESM"),
//    together with its own declaration map.
//
// The consumer test (test/package) compiles against the result with the oldest supported
// TypeScript and the current one.
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const TYPES = join(ROOT, 'dist/types');
const RELATIVE_JS = /((?:\bfrom|\bimport\(|^import)\s*['"])(\.{1,2}\/[^'"]+?)\.js(['"])/gm;
const MAP_COMMENT = /\n\/\/# sourceMappingURL=(\S+)\.d\.ts\.map\s*$/;
const TYPED_ARRAY = /\b((?:Big)?(?:Int|Uint|Float)(?:8|16|32|64)(?:Clamped)?Array|DataView)<([^<>]*)>/g;

async function* declarations(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* declarations(path);
    else if (entry.name.endsWith('.d.ts')) yield path;
  }
}

/** `text` readable by TypeScript 5.0–5.6 as well as 5.7+, or an error naming what cannot be. */
function portableTypedArrays(text, file) {
  const aliases = new Set();
  const out = text.replace(TYPED_ARRAY, (whole, name, argument) => {
    if (name === 'DataView' || argument.trim() !== 'ArrayBuffer') {
      throw new Error(
        `${relative(ROOT, file)}: '${whole}' has no spelling TypeScript before 5.7 reads; use a plain ${name}${name === 'DataView' ? '' : ` or ${name}<ArrayBuffer>`} in public types`,
      );
    }
    aliases.add(name);
    return `${name}OnArrayBuffer`;
  });
  if (aliases.size === 0) return text;
  const declared = [...aliases].map(
    (name) =>
      `/** \`${name}<ArrayBuffer>\` on TypeScript 5.7 and later; \`${name}\` before, where typed arrays are not generic. */\n` +
      `type ${name}OnArrayBuffer = ReturnType<${name}['slice']>;\n`,
  );
  const comment = out.match(MAP_COMMENT);
  const body = comment ? out.slice(0, comment.index) : out;
  return `${body}\n${declared.join('')}${comment ? comment[0].slice(1) : ''}`;
}

/** Writes `file`'s .d.cts twin and, when `file` has a declaration map, the twin's map. */
async function twin(file, text) {
  const cts = file.replace(/\.d\.ts$/, '.d.cts');
  const cjsText = text.replace(RELATIVE_JS, '$1$2.cjs$3').replace(MAP_COMMENT, '\n//# sourceMappingURL=$1.d.cts.map');
  await writeFile(cts, cjsText);
  if (!existsSync(`${file}.map`)) return;
  const map = JSON.parse(await readFile(`${file}.map`, 'utf8'));
  await writeFile(`${cts}.map`, JSON.stringify({ ...map, file: basename(cts) }));
}

let count = 0;
try {
  for await (const file of declarations(TYPES)) {
    const text = portableTypedArrays(await readFile(file, 'utf8'), file);
    await writeFile(file, text);
    await twin(file, text);
    count++;
  }
} catch (error) {
  console.error(`declarations: ${error.message}`);
  process.exit(1);
}
if (count === 0) {
  console.error(`declarations: no .d.ts files under ${TYPES}; run the build first`);
  process.exit(1);
}
