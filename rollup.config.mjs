// Bundles what `tsc` (TypeScript 7, native) emits into build/: the JavaScript into dist/esm,
// dist/cjs, dist/browser and dist/legacy, and the declarations into one .d.ts per entry under
// dist/types. TypeScript 7 has no JavaScript compiler API, so no rollup TypeScript plugin can
// drive it: tsc type-checks and emits, rollup only bundles. rollup-plugin-dts parses the emitted
// declarations with the TypeScript 6 API (@typescript/typescript6), which is all it needs.
import { existsSync, readFileSync } from 'node:fs';
import nodeResolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';

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
/** The Node-only entries: the server and the CLI (ESM only: the `bin` runs it, nothing requires it). */
const server = existing({ server: 'build/src/server/index.js' });
const cli = existing({ cli: 'build/src/server/cli.js' });
/** The same client entries with Node's platform module (package.json "node", and every CommonJS entry). */
const nodeEntries = existing(Object.fromEntries(browserEntries.map((name) => [name, `build/src/node/${name}.js`])));
/** Declarations: one bundle per public entry; the Node versions export exactly what the portable ones do. */
const declarations = existing(
  Object.fromEntries(
    Object.entries({ ...entries, ...server }).map(([name, file]) => [name, file.replace(/\.js$/, '.d.ts')]),
  ),
);

/** What npm installs beside the package stays outside the ESM and CommonJS bundles (browser bundles inline it). */
const { dependencies = {}, peerDependencies = {} } = JSON.parse(readFileSync('package.json', 'utf8'));
const installed = Object.keys({ ...dependencies, ...peerDependencies });
const isExternal = (id) => id.startsWith('node:') || installed.some((name) => id === name || id.startsWith(`${name}/`));

/**
 * Hands rollup the source map tsc wrote next to each module, so the bundles' maps lead back to
 * src/*.ts (which the package ships) instead of to build/.
 */
const tscSourceMaps = {
  name: 'tsc-source-maps',
  load(id) {
    if (!id.endsWith('.js') || !existsSync(`${id}.map`)) return null;
    const code = readFileSync(id, 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
    return { code, map: readFileSync(`${id}.map`, 'utf8') };
  },
};

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

const browserPlugins = () => [
  browserOnly,
  tscSourceMaps,
  nodeResolve({ browser: true }),
  commonjs(),
  terser({ ecma: 2020 }),
];

/**
 * Maps name their sources relative to the map (../../src/…). Ours ship, and tsc's maps carry no
 * copy of them, so none goes inside; code bundled from a dependency (browser builds) keeps its
 * text in the map, since the dependency's files are not in the package.
 */
const maps = { sourcemap: true };

/** An ES module build into dist/esm whose shared code goes to `chunks` (a folder under dist/esm). */
const esm = (input, chunks) => ({
  input,
  external: isExternal,
  plugins: [tscSourceMaps],
  output: {
    dir: 'dist/esm',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: `${chunks}/[name]-[hash].js`,
    ...maps,
  },
});

export default [
  // ESM, portable: the entries bundlers for browsers get. Built apart from the Node entries, so that
  // src/node/setup.ts is not in this build: nothing here installs a platform hook (src/util/platform.ts),
  // rollup sees each one stay `undefined` and drops every use of it, and Node's fast paths cost these
  // modules (and so browser bundles) nothing. test/package/portable-build.test.ts checks it.
  esm(entries, 'chunks'),
  // ESM for Node: the same entries with Node's platform module under node/, the server and the CLI,
  // sharing their chunks (one copy of each class in a Node process), which stay apart from the portable ones.
  esm(
    {
      ...Object.fromEntries(Object.entries(nodeEntries).map(([name, file]) => [`node/${name}`, file])),
      ...server,
      ...cli,
    },
    'node/chunks',
  ),
  // CommonJS is for Node (require): every entry is the Node version.
  {
    input: { ...nodeEntries, ...server },
    external: isExternal,
    plugins: [tscSourceMaps],
    output: {
      dir: 'dist/cjs',
      format: 'cjs',
      entryFileNames: '[name].cjs',
      chunkFileNames: 'chunks/[name]-[hash].cjs',
      ...maps,
    },
  },
  // One self-contained file per browser entry: usable from a <script type="module"> with no bundler.
  ...browserEntries.map((name) => ({
    input: entries[name],
    plugins: browserPlugins(),
    output: { file: `dist/browser/${name}.js`, format: 'es', inlineDynamicImports: true, ...maps },
  })),
  // The legacy drop-in: a classic script that assigns exactly one global, WSSClient.
  ...(existsSync('build/legacy-compat/browser.js')
    ? [
        {
          input: 'build/legacy-compat/browser.js',
          plugins: browserPlugins(),
          output: { file: 'dist/legacy/wssclient.js', format: 'iife', inlineDynamicImports: true, ...maps },
        },
      ]
    : []),
  // Declarations: one file per entry plus shared chunks (so every entry names the same error
  // classes), with declaration maps back to src/*.ts. scripts/declarations.mjs then makes them
  // readable by TypeScript before 5.7 and writes the .d.cts twins the "require" conditions point at.
  {
    input: declarations,
    external: isExternal,
    plugins: [dts({ sourcemap: true })],
    output: {
      dir: 'dist/types',
      format: 'es',
      entryFileNames: '[name].d.ts',
      // Chunks are named after a module of theirs ('errors.d'); the file becomes chunks/errors-<hash>.d.ts.
      chunkFileNames: (chunk) => `chunks/${chunk.name.replace(/\.d$/, '')}-[hash].d.ts`,
      ...maps,
    },
  },
];
