/**
 * The package as consumers get it: `npm pack` of the built package, unpacked into the
 * node_modules of a temporary consumer project (its dependencies linked from this project's
 * node_modules, so nothing is fetched), then used from an ES module, from CommonJS and from
 * TypeScript (node16 resolution, ESM and CJS files). Each consumer imports or requires every
 * entry and runs WSSClient against the packaged reference server.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const DEPENDENCIES = ['jose', 'json-rpc-2.0', 'prom-client', 'ws', '@types/ws', '@types/node', 'undici-types'];

/** What each consumer prints: the entries' export names it checked and a conversation's outcome. */
interface ConsumerReport {
  entries: Record<string, string[]>;
  sameErrorClass: boolean;
  received: unknown;
  peers: number;
  /** base64 implementation of the crypto entry before the server entry was loaded, and the WebSocket the core found on its own. */
  base64: string;
  webSocket: string;
}

let consumer = '';

/** Runs inside the consumer: imports every entry and has two clients talk through the packaged server. */
const BODY = `
// Measured before the server entry (which has Node's setup too) is loaded.
const base64 = crypto.base64Implementation;
// A port that accepts and drops every connection: a client that found a WebSocket fails with ConnectionClosedError.
const dropping = net.createServer((socket) => socket.destroy());
await new Promise((resolve) => dropping.listen(0, '127.0.0.1', resolve));
const webSocket = await new Promise((resolve) => {
  const probe = new core.WSSClient({ url: 'ws://127.0.0.1:' + dropping.address().port });
  probe.connect().then(() => resolve('connected'), (error) => resolve(error.name));
});
dropping.close();
const server = await loadServer();
const entries = { core, secure, crypto, signal, legacy, server };
const names = Object.fromEntries(Object.entries(entries).map(([k, m]) => [k, Object.keys(m).filter((n) => n !== 'default').sort()]));
const srv = await server.createServer({ port: 0, host: '127.0.0.1', demo: false });
try {
  const a = new core.WSSClient({ url: srv.url, handshakeUrl: srv.httpUrl });
  const b = new core.WSSClient({ url: srv.url, connectOptions: { name: 'b' } });
  await a.connect();
  const got = new Promise((resolve) => a.on('message', ({ from, data, type }) => resolve({ from: from === b.privateId, data, type })));
  const { peers } = await b.connect();
  await b.broadcast({ hello: 'from a consumer' });
  const received = await got;
  await Promise.all([a.disconnect(), b.disconnect()]);
  const sameErrorClass = core.WssError === secure.WssError && core.WssError === signal.WssError;
  console.log(JSON.stringify({ entries: names, sameErrorClass, received, peers: peers.length, base64, webSocket }));
} finally {
  await srv.close();
}
`;

const ESM_CONSUMER = `
import * as core from 'wss-sessions';
import * as secure from 'wss-sessions/secure';
import * as crypto from 'wss-sessions/crypto';
import * as signal from 'wss-sessions/signal';
import * as legacy from 'wss-sessions/legacy';
import * as net from 'node:net';
const loadServer = () => import('wss-sessions/server');
${BODY}`;

const CJS_CONSUMER = `
const core = require('wss-sessions');
const secure = require('wss-sessions/secure');
const crypto = require('wss-sessions/crypto');
const signal = require('wss-sessions/signal');
const legacy = require('wss-sessions/legacy');
const net = require('node:net');
const loadServer = async () => require('wss-sessions/server');
(async () => {
${BODY}
})().catch((error) => { console.error(error); process.exitCode = 1; });`;

/** A browser app importing the core, the secure adapter and the Signal client, as a bundler sees it. */
const BROWSER_APP = `
import { WssError, WSSClient } from 'wss-sessions';
import { WssError as SecureWssError, SecureSession } from 'wss-sessions/secure';
import { WssError as SignalWssError, EncryptedWebSocketClient } from 'wss-sessions/signal';
export const sameErrorClass = WssError === SecureWssError && WssError === SignalWssError;
export const classes = [WSSClient, SecureSession, EncryptedWebSocketClient];
`;

/** TypeScript consumers: the same calls, type-checked against the packaged declarations. */
const TS_USE = `
const client = new WSSClient({ url: 'ws://127.0.0.1:1', connectOptions: { name: 'ts' } });
const state: 'disconnected' | 'connecting' | 'connected' | 'disconnecting' = client.state;
const session = new SecureSession({ url: 'ws://127.0.0.1:1', info: 'ts-check' });
const safety: string | null = session.fingerprint();
const signalClient = new EncryptedWebSocketClient({ url: 'ws://127.0.0.1:1/stream', ecdhInfo: 'x', token: 't' });
const encrypted: boolean = signalClient.isEncrypted();
const keys: Promise<{ publicKeyB64: string }> = generateECDHKeyPair();
const old: string = new LegacyClient('ws://127.0.0.1:1').toString();
const started: Promise<{ url: string; close(): Promise<void> }> = createServer({ port: 0 });
const error: Error = new RpcError('WSS_Send', -32000, 'x');
export { state, safety, encrypted, keys, old, started, error };
`;
/** Named imports per entry; in a .cts file TypeScript resolves them through the "require" condition. */
const TS_IMPORTS = [
  "import { WSSClient, RpcError } from 'wss-sessions';",
  "import { SecureSession } from 'wss-sessions/secure';",
  "import { EncryptedWebSocketClient } from 'wss-sessions/signal';",
  "import { generateECDHKeyPair } from 'wss-sessions/crypto';",
  "import { WSSClient as LegacyClient } from 'wss-sessions/legacy';",
  "import { createServer } from 'wss-sessions/server';",
].join('\n');
const TS_CONSUMER = `${TS_IMPORTS}\n${TS_USE}`;

beforeAll(async () => {
  for (const file of ['dist/esm/index.js', 'dist/cjs/index.cjs', 'dist/types/src/index.d.cts']) {
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run 'npm run build' first`);
  }
  consumer = await mkdtemp(join(tmpdir(), 'wss-consumer-'));
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', consumer], {
    cwd: ROOT,
  });
  const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
  const installed = join(consumer, 'node_modules/wss-sessions');
  await mkdir(installed, { recursive: true });
  await run('tar', ['-xzf', join(consumer, filename), '-C', installed, '--strip-components=1']);
  await mkdir(join(consumer, 'node_modules/@types'), { recursive: true });
  for (const dep of DEPENDENCIES) {
    if (existsSync(join(ROOT, 'node_modules', dep)))
      await symlink(join(ROOT, 'node_modules', dep), join(consumer, 'node_modules', dep), 'dir');
  }
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }),
  );
  await writeFile(join(consumer, 'esm.mjs'), ESM_CONSUMER);
  await writeFile(join(consumer, 'cjs.cjs'), CJS_CONSUMER);
  await writeFile(join(consumer, 'esm.mts'), TS_CONSUMER);
  await writeFile(join(consumer, 'cjs.cts'), TS_CONSUMER);
  const compilerOptions = {
    module: 'node16',
    moduleResolution: 'node16',
    target: 'es2022',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
    lib: ['es2022', 'dom'],
  };
  await writeFile(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['esm.mts', 'cjs.cts'] }));
}, 60_000);

afterAll(async () => {
  if (consumer) await rm(consumer, { recursive: true, force: true });
});

async function report(script: string): Promise<ConsumerReport> {
  const { stdout } = await run(process.execPath, [script], { cwd: consumer });
  return JSON.parse(stdout) as ConsumerReport;
}

function expectWorking(r: ConsumerReport): void {
  expect(r.received).toEqual({ from: true, data: { hello: 'from a consumer' }, type: 'broadcast' });
  expect(r.peers).toBe(1);
  expect(r.sameErrorClass).toBe(true);
  // The Node entries install Node's share: Buffer base64 (Node 20 has no native one) and `ws`, which reaches the dropping port.
  expect(r.base64).toBe(
    typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 === 'function' ? 'native' : 'buffer',
  );
  expect(r.webSocket).toBe('ConnectionClosedError');
  expect(r.entries.core).toEqual(expect.arrayContaining(['WSSClient', 'WssError', 'RpcError', 'TimeoutError']));
  expect(r.entries.secure).toEqual(expect.arrayContaining(['SecureSession', 'generateSigningKeyPair']));
  expect(r.entries.crypto).toEqual(
    expect.arrayContaining(['generateECDHKeyPair', 'deriveAESKey', 'encrypt', 'decrypt']),
  );
  expect(r.entries.signal).toEqual(expect.arrayContaining(['EncryptedWebSocketClient']));
  expect(r.entries.legacy).toEqual(expect.arrayContaining(['WSSClient']));
  expect(r.entries.server).toEqual(expect.arrayContaining(['createServer', 'serverDefaults']));
}

describe('the packed package', () => {
  it('works from an ES module: every entry imports, WSSClient talks through the packaged server', async () => {
    const esm = await report('esm.mjs');
    expectWorking(esm);
  });

  it('works from CommonJS: every entry requires, with the same exports as ESM', async () => {
    const [cjs, esm] = await Promise.all([report('cjs.cjs'), report('esm.mjs')]);
    expectWorking(cjs);
    expect(cjs.entries).toEqual(esm.entries);
  });

  it('type-checks from TypeScript ESM and CJS files (node16 resolution)', async () => {
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const result = await run(tsc, ['-p', 'tsconfig.json'], { cwd: consumer }).then(
      () => '',
      (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
    );
    expect(result).toBe('');
  });

  it('bundles for the browser: entries share one copy of the core, and nothing from Node comes along', async () => {
    const { build } = await import('esbuild');
    const result = await build({
      stdin: { contents: BROWSER_APP, resolveDir: consumer, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/["']node:/);
    // Node's setup module (Buffer base64, loading `ws`) stays out of browser bundles.
    expect(code).not.toMatch(/\bBuffer\b|loadWebSocket =/);
    // One WSSClient class definition however many entries the app imports.
    expect(code.match(/class WSSClient\b/g)).toHaveLength(1);
    const app = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as {
      sameErrorClass: boolean;
    };
    expect(app.sameErrorClass).toBe(true);
  });

  it('runs the CLI from the package', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(consumer, 'node_modules/wss-sessions/dist/esm/cli.js'), '--help'],
      { cwd: consumer },
    );
    expect(stdout).toContain('Usage: wss-sessions serve');
  });
});
