/**
 * The portable ES modules (what bundlers for browsers get) are built apart from the Node entries,
 * so nothing installs a platform hook there and rollup drops every use of one: Node's fast paths
 * cost a browser nothing. The Node modules keep the hooks. Reads dist/ as `npm run build` left it
 * (`npm test` builds first).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ESM = resolve(import.meta.dirname, '../../dist/esm');
const HOOKS = ['loadWebSocket', 'adaptWebSocket', 'syncAesGcm', 'syncSeal', 'decodeBase64View'];

/** The code of every .js file directly in `dir`, comments removed (they may name a hook). */
function code(dir: string): string {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.js'))
    .map((name) =>
      readFileSync(join(dir, name), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1'),
    )
    .join('\n');
}

describe('the portable build', () => {
  it('uses no Node hook: every use was dropped, since nothing there installs one', () => {
    const portable = `${code(ESM)}\n${code(join(ESM, 'chunks'))}`;
    for (const hook of HOOKS) expect(portable, hook).not.toMatch(new RegExp(`\\b${hook}\\b`));
    // Still the code that takes the portable ways, e.g. WebCrypto's AES-GCM.
    expect(portable).toMatch(/subtle\[op\]/);
  });

  it('leaves the hooks to the Node build, which installs them', () => {
    const node = code(join(ESM, 'node/chunks'));
    for (const hook of HOOKS) expect(node, hook).toMatch(new RegExp(`\\b${hook}\\b`));
    expect(node).toMatch(/function installPlatform\(/);
  });
});
