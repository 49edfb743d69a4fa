/**
 * The classic-script build of the legacy client (what rollup.config.mjs makes into
 * dist/legacy/wssclient.js), built from the current sources into a temporary directory and
 * evaluated in isolated global scopes, as a page would load it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import vm from 'node:vm';
import { rollup, type RollupOptions } from 'rollup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createServer } from '../../src/server/index.js';

const root = resolve(import.meta.dirname, '../..');
const DIST_SCRIPT = 'dist/legacy/wssclient.js';
let outDir = '';
let script = '';

/** Emits the sources with tsc into a temporary directory and bundles browser.ts with the rollup config's own plugins and format. */
async function buildScript(): Promise<string> {
  // Inside the project, so that the bundler resolves dependencies from its node_modules.
  const cache = join(root, 'node_modules/.cache');
  await mkdir(cache, { recursive: true });
  outDir = await mkdtemp(join(cache, 'wss-legacy-'));
  const tsc = join(root, 'node_modules/.bin/tsc');
  const entry = join(outDir, 'legacy-compat/browser.js');
  try {
    await promisify(execFile)(tsc, ['-p', 'tsconfig.json', '--outDir', outDir, '--declaration', 'false'], { cwd: root });
  } catch (error) {
    // Type errors are the typecheck step's business; only a missing emit stops this test.
    if (!existsSync(entry)) throw error;
  }
  const configs = ((await import(join(root, 'rollup.config.mjs'))) as { default: RollupOptions[] }).default;
  const config = configs.find((c) => !Array.isArray(c.output) && c.output?.file === DIST_SCRIPT);
  if (!config || Array.isArray(config.output) || !config.output) throw new Error(`rollup.config.mjs has no ${DIST_SCRIPT} build`);
  const bundle = await rollup({ input: entry, plugins: config.plugins, onwarn: (warning) => { throw new Error(warning.message); } });
  try {
    const { file: _file, ...outputOptions } = config.output;
    const { output } = await bundle.generate(outputOptions);
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

const ownKeys = (context: vm.Context): string[] => vm.runInContext('Object.getOwnPropertyNames(globalThis)', context) as string[];

beforeAll(async () => {
  script = await buildScript();
}, 60_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe(`the classic script ${DIST_SCRIPT}`, () => {
  it('is an unnamed IIFE that defines exactly one global, WSSClient', () => {
    expect(script).toMatch(/^!?\(?function\s*\(/);
    expect(script).not.toMatch(/^(var|let|const)\s/m);
    const context = vm.createContext({});
    const before = ownKeys(context);
    vm.runInContext(script, context, { filename: 'wssclient.js' });
    const after = ownKeys(context);
    expect(after.filter((k) => !before.includes(k))).toEqual(['WSSClient']);
    expect(before.filter((k) => !after.includes(k))).toEqual([]);
    expect(vm.runInContext("new WSSClient('ws://x').toString()", context)).toBe('WSSClient');
    expect(vm.runInContext("new WSSClient('ws://x').handshakeServerAddr", context)).toBe('ws://x');
  });

  it('runs a page against the reference server with only the page globals it needs', async () => {
    const server = await createServer({ port: 0, host: '127.0.0.1' });
    // What a browser page offers that the script uses; the `ws` package plays the page's WebSocket.
    const page = { WebSocket, fetch, crypto, TextEncoder, Event, MessageEvent, URL, AbortController, setTimeout, clearTimeout, queueMicrotask, console };
    const context = vm.createContext({ ...page });
    vm.runInContext(script, context, { filename: 'wssclient.js' });
    const keys = ownKeys(context);
    expect(keys.filter((k) => !Object.keys(page).includes(k) && !ownKeys(vm.createContext({})).includes(k))).toEqual(['WSSClient']);
    try {
      const pageCode = `(async () => {
        const a = new WSSClient(${JSON.stringify(server.httpUrl)});
        const b = new WSSClient();
        const events = [];
        const router = { name: 'router' };
        a.addEventListener('message', function (event) { events.push([this.name, event.data.result.from, event.data.result.data, event.target === a]); }, router);
        const got = new Promise((resolve) => a.addEventListener('message', resolve));
        const opened = JSON.parse((await a.connect(${JSON.stringify(server.url)}, true, { options: { wss: true } })).data).result;
        await b.connect(${JSON.stringify(server.url)});
        const sent = JSON.parse((await b.send('from b', [a.privateID])).data).result;
        await got;
        const result = { opened, sent, events, aPeers: a.peers, b: b.privateID };
        await a.disconnect();
        await b.disconnect();
        return JSON.stringify(result);
      })()`;
      const result = JSON.parse(await (vm.runInContext(pageCode, context) as Promise<string>));
      expect(result.opened).toMatchObject({ message: 'open', connect: [] });
      expect(result.sent).toEqual({ message: 'ok' });
      expect(result.aPeers).toEqual([result.b]);
      expect(result.events).toEqual([['router', result.b, 'from b', true]]);
    } finally {
      await server.close();
    }
  });
});
