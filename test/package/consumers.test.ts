/**
 * The package as consumers get it: `npm pack` of the built package, unpacked into the
 * node_modules of a temporary consumer project outside this repository, next to exactly its
 * runtime `dependencies` (linked from this project's node_modules, so nothing is fetched; no
 * `@types/*` package, since a consumer installs none for us), then used from an ES module, from
 * CommonJS and from TypeScript (node16 resolution, ESM and CJS files) under the oldest
 * TypeScript the README promises and the current one. Each consumer imports or requires every
 * entry and runs WSSClient against the packaged reference server.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
};
/** What `npm install wss-sessions` brings along; the packages they need resolve from where the links lead. */
const DEPENDENCIES = Object.keys(PACKAGE.dependencies ?? {});
/**
 * The oldest TypeScript the published declarations support (README, "TypeScript"). It is
 * installed from the npm registry once, into node_modules/.cache, and reused by later runs.
 */
const OLDEST_TYPESCRIPT = '5.0.4';

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
// Bytes from the crypto entry go straight into WebCrypto, whichever TypeScript reads them.
const digest: Promise<ArrayBuffer> = crypto.subtle.digest('SHA-256', randomBytes(16));
const old: string = new LegacyClient('ws://127.0.0.1:1').toString();
const started: Promise<{ url: string; close(): Promise<void> }> = createServer({ port: 0 });
const error: Error = new RpcError('WSS_Send', -32000, 'x');
export { state, safety, encrypted, keys, digest, old, started, error };
`;
/** Named imports per entry; in a .cts file TypeScript resolves them through the "require" condition. */
const TS_IMPORTS = [
  "import { WSSClient, RpcError } from 'wss-sessions';",
  "import { SecureSession } from 'wss-sessions/secure';",
  "import { EncryptedWebSocketClient } from 'wss-sessions/signal';",
  "import { generateECDHKeyPair, randomBytes } from 'wss-sessions/crypto';",
  "import { WSSClient as LegacyClient } from 'wss-sessions/legacy';",
  "import { createServer } from 'wss-sessions/server';",
].join('\n');
const TS_CONSUMER = `${TS_IMPORTS}\n${TS_USE}`;
/** TypeScript 5.7 and later only: the bytes are exactly `Uint8Array<ArrayBuffer>` there, not a looser type. */
const TS_GENERIC_BYTES = `
import { randomBytes, sha256 } from 'wss-sessions/crypto';
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export const random: Equal<ReturnType<typeof randomBytes>, Uint8Array<ArrayBuffer>> = true;
export const hashed: Equal<Awaited<ReturnType<typeof sha256>>, Uint8Array<ArrayBuffer>> = true;
`;
/** A strict consumer with no @types at all (TypeScript 7's default `types: []`), DOM lib for WebCrypto and WebSocket. */
const TS_OPTIONS = {
  module: 'node16',
  moduleResolution: 'node16',
  target: 'es2022',
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noEmit: true,
  skipLibCheck: false,
  types: [],
  lib: ['es2022', 'dom'],
};

/** Two module systems, one process: what the README's "ESM and CommonJS" paragraph says to expect. */
const DUAL_CONSUMER = `
import { createRequire } from 'node:module';
import * as esm from 'wss-sessions';
const cjs = createRequire(import.meta.url)('wss-sessions');
let error;
try {
  new cjs.WSSClient({});
} catch (caught) {
  error = caught;
}
console.log(JSON.stringify({
  sameClass: cjs.RpcError === esm.RpcError,
  instanceOfEsm: error instanceof esm.WssError,
  instanceOfCjs: error instanceof cjs.WssError,
  name: error.name,
  code: error.code,
}));
`;

/** tsc of the oldest supported TypeScript, installed from the registry on first use and kept in node_modules/.cache. */
async function oldestTsc(): Promise<string> {
  const dir = join(ROOT, 'node_modules/.cache', `typescript-${OLDEST_TYPESCRIPT}`);
  const tsc = join(dir, 'node_modules/typescript/bin/tsc');
  if (existsSync(tsc)) return tsc;
  // Installed beside the cache and moved in whole, so an interrupted install is never taken for a cached one.
  await mkdir(dirname(dir), { recursive: true });
  const staging = await mkdtemp(`${dir}-installing-`);
  try {
    await writeFile(join(staging, 'package.json'), JSON.stringify({ private: true }));
    const flags = ['--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts'];
    await run('npm', ['install', ...flags, `typescript@${OLDEST_TYPESCRIPT}`], { cwd: staging });
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return tsc;
}

/**
 * The project's TypeScript, by path: node_modules/.bin/tsc may be TypeScript 6, whose package
 * (a dependency of the compatibility package rollup-plugin-dts uses) also declares a `tsc`.
 */
const CURRENT_TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const CURRENT_TYPESCRIPT = (
  JSON.parse(readFileSync(join(ROOT, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }
).version;

/** Type-checks the consumer's `project` with the tsc script `tsc`; resolves with its complaints. */
async function typeCheck(tsc: string, project: string): Promise<string> {
  return run(process.execPath, [tsc, '-p', project], { cwd: consumer }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string; stderr?: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}`,
  );
}

beforeAll(async () => {
  for (const file of ['dist/esm/index.js', 'dist/cjs/index.cjs', 'dist/types/index.d.cts']) {
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
  for (const dep of DEPENDENCIES) {
    await mkdir(dirname(join(consumer, 'node_modules', dep)), { recursive: true });
    await symlink(join(ROOT, 'node_modules', dep), join(consumer, 'node_modules', dep), 'dir');
  }
  await writeFile(
    join(consumer, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }),
  );
  await writeFile(join(consumer, 'esm.mjs'), ESM_CONSUMER);
  await writeFile(join(consumer, 'cjs.cjs'), CJS_CONSUMER);
  await writeFile(join(consumer, 'dual.mjs'), DUAL_CONSUMER);
  await writeFile(join(consumer, 'esm.mts'), TS_CONSUMER);
  await writeFile(join(consumer, 'cjs.cts'), TS_CONSUMER);
  await writeFile(join(consumer, 'generic-bytes.mts'), TS_GENERIC_BYTES);
  const project = (files: string[]) => JSON.stringify({ compilerOptions: TS_OPTIONS, files });
  await writeFile(join(consumer, 'tsconfig.json'), project(['esm.mts', 'cjs.cts', 'generic-bytes.mts']));
  await writeFile(join(consumer, 'tsconfig.oldest.json'), project(['esm.mts', 'cjs.cts']));
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

  it(`type-checks from TypeScript ESM and CJS files with TypeScript ${CURRENT_TYPESCRIPT}, with no @types installed`, async () => {
    const { stdout: version } = await run(process.execPath, [CURRENT_TSC, '--version']);
    expect(version.trim()).toBe(`Version ${CURRENT_TYPESCRIPT}`);
    expect(await typeCheck(CURRENT_TSC, 'tsconfig.json')).toBe('');
  });

  it(`type-checks from TypeScript ESM and CJS files with TypeScript ${OLDEST_TYPESCRIPT}, the oldest supported`, async () => {
    const tsc = await oldestTsc();
    const { stdout: version } = await run(process.execPath, [tsc, '--version']);
    expect(version.trim()).toBe(`Version ${OLDEST_TYPESCRIPT}`);
    expect(await typeCheck(tsc, 'tsconfig.oldest.json')).toBe('');
  }, 180_000);

  it('gives CommonJS and ES modules their own classes: compare errors by code and name across them', async () => {
    const { stdout } = await run(process.execPath, ['dual.mjs'], { cwd: consumer });
    expect(JSON.parse(stdout)).toEqual({
      sameClass: false,
      instanceOfEsm: false,
      instanceOfCjs: true,
      name: 'InvalidArgumentError',
      code: 'ERR_INVALID_ARGUMENT',
    });
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
