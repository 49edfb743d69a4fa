/**
 * Finds the package's self-contained browser bundles (dist/browser/*.js) from
 * wherever this module runs: dist/esm or dist/cjs after the build (rollup
 * rewrites `import.meta.url` for CJS), or src/server/demo when run from the
 * sources, whose bundles live in the project's dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How many folders up from this module the bundle folder may be. */
const MAX_LEVELS = 5;

/**
 * The folder holding `file` (e.g. 'secure.js') of the browser bundles, found
 * by walking up from `moduleUrl`; `undefined` when the package was not built.
 */
export function findBrowserBundles(file: string, moduleUrl: string = import.meta.url): string | undefined {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (let level = 0; level <= MAX_LEVELS; level++) {
    for (const candidate of [join(dir, 'browser'), join(dir, 'dist', 'browser')]) {
      if (existsSync(join(candidate, file))) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}
