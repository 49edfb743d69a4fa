/**
 * The classic-script build of the legacy client, dist/legacy/wssclient.js, as `npm test`
 * builds it, evaluated in isolated global scopes as a page would load it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createServer } from '../../src/server/index.js';

const DIST_SCRIPT = 'dist/legacy/wssclient.js';
const scriptPath = resolve(import.meta.dirname, '../..', DIST_SCRIPT);
if (!existsSync(scriptPath))
  throw new Error(`${DIST_SCRIPT} is missing: run \`npm run build\` (npm test does it first)`);
const script = readFileSync(scriptPath, 'utf8');

const ownKeys = (context: vm.Context): string[] =>
  vm.runInContext('Object.getOwnPropertyNames(globalThis)', context) as string[];

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
    const page = {
      WebSocket,
      fetch,
      crypto,
      TextEncoder,
      Event,
      MessageEvent,
      URL,
      AbortController,
      setTimeout,
      clearTimeout,
      queueMicrotask,
      console,
    };
    const context = vm.createContext({ ...page });
    vm.runInContext(script, context, { filename: 'wssclient.js' });
    const keys = ownKeys(context);
    expect(keys.filter((k) => !Object.keys(page).includes(k) && !ownKeys(vm.createContext({})).includes(k))).toEqual([
      'WSSClient',
    ]);
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
