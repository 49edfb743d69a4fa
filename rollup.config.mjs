// Bundles the JavaScript that `tsc` (TypeScript 7, native) emits into build/.
// TypeScript 7 has no JavaScript compiler API, so no rollup TypeScript plugin
// can drive it: tsc type-checks and emits, rollup only bundles.
import { existsSync } from 'node:fs';
import nodeResolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';

const existing = (map) => Object.fromEntries(Object.entries(map).filter(([, file]) => existsSync(file)));

/** Package entry points: name -> module emitted by tsc (only those that exist yet). */
const entries = existing({
  index: 'build/src/index.js',
  secure: 'build/src/secure/index.js',
  crypto: 'build/src/crypto/index.js',
  signal: 'build/src/signal/index.js',
  legacy: 'build/legacy-compat/index.js',
});
const browserEntries = Object.keys(entries);
/** The Node-only entries: the server, and the same client entries with Node's platform module (package.json "node"). */
const nodeOnly = existing({ server: 'build/src/server/index.js', cli: 'build/src/server/cli.js' });
const nodeEntries = existing(Object.fromEntries(browserEntries.map((name) => [name, `build/src/node/${name}.js`])));

const isExternal = (id) => id.startsWith('node:') || /^(ws|jose|json-rpc-2\.0|prom-client)(\/|$)/.test(id);

/** The browser build must never reach a Node module: `ws` becomes nothing, `node:*` is an error. */
const browserOnly = {
  name: 'browser-only',
  resolveId(id) {
    if (id === 'ws') return '\0ws-absent';
    if (id.startsWith('node:')) this.error(`browser bundle imports Node module '${id}'`);
    return null;
  },
  load(id) {
    return id === '\0ws-absent' ? 'export default undefined; export const WebSocket = undefined;' : null;
  },
};

const browserPlugins = () => [browserOnly, nodeResolve({ browser: true }), commonjs(), terser({ ecma: 2020 })];

export default [
  // ESM: the portable entries (what bundlers for browsers get), their Node versions under node/, and the server.
  {
    input: {
      ...entries,
      ...Object.fromEntries(Object.entries(nodeEntries).map(([name, file]) => [`node/${name}`, file])),
      ...nodeOnly,
    },
    external: isExternal,
    output: { dir: 'dist/esm', format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
  },
  // CommonJS is for Node (require): every entry is the Node version.
  {
    input: { ...nodeEntries, ...nodeOnly },
    external: isExternal,
    output: {
      dir: 'dist/cjs',
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: 'chunks/[name]-[hash].cjs',
    },
  },
  // One self-contained file per browser entry: usable from a <script type="module"> with no bundler.
  ...browserEntries.map((name) => ({
    input: entries[name],
    plugins: browserPlugins(),
    output: { file: `dist/browser/${name}.js`, format: 'es', inlineDynamicImports: true },
  })),
  // The legacy drop-in: a classic script that assigns exactly one global, WSSClient.
  ...(existsSync('build/legacy-compat/browser.js')
    ? [
        {
          input: 'build/legacy-compat/browser.js',
          plugins: browserPlugins(),
          output: { file: 'dist/legacy/wssclient.js', format: 'iife', inlineDynamicImports: true },
        },
      ]
    : []),
];
