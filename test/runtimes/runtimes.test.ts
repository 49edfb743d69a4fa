/**
 * Bun and Deno, as the README promises: each runs the core scenario (scenario.mjs: connect,
 * broadcast, direct, setPrivateId, disconnect) with the built package, imported by name from a
 * consumer folder whose node_modules/wss-sessions is this package, against the reference server
 * this test starts under Node on a free port. Both runtimes are devDependencies installed from
 * the npm registry (`bun`, `deno`); Bun's binary arrives through its postinstall script, which
 * package.json's "allowScripts" lets run.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type WssSessionsServer } from '../../src/server/index.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

interface Runtime {
  name: string;
  binary: string;
  /** Arguments before the script; Deno gets only the network permission the scenario needs. */
  args: string[];
  userAgent: RegExp;
}

const RUNTIMES: Runtime[] = [
  { name: 'Bun', binary: join(ROOT, 'node_modules/.bin/bun'), args: [], userAgent: /^Bun\/\d/ },
  {
    name: 'Deno',
    binary: join(ROOT, 'node_modules/.bin/deno'),
    args: ['run', '--allow-net=127.0.0.1'],
    userAgent: /^Deno\/\d/,
  },
];

let consumer = '';
let server: WssSessionsServer;

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist/esm/node/index.js'))) throw new Error("dist/ is missing: run 'npm run build' first");
  consumer = await mkdtemp(join(tmpdir(), 'wss-runtimes-'));
  await mkdir(join(consumer, 'node_modules'));
  await symlink(ROOT, join(consumer, 'node_modules/wss-sessions'), 'dir');
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'runtimes', private: true, type: 'module' }));
  await copyFile(join(import.meta.dirname, 'scenario.mjs'), join(consumer, 'scenario.mjs'));
  server = await createServer({ port: 0, host: '127.0.0.1', demo: false });
});

afterAll(async () => {
  await server?.close();
  if (consumer) await rm(consumer, { recursive: true, force: true });
});

/** Runs the scenario under `runtime`; resolves with the JSON line it printed. */
async function scenario(runtime: Runtime): Promise<Record<string, unknown>> {
  if (!existsSync(runtime.binary)) {
    throw new Error(`${runtime.binary} is missing: run 'npm install' (${runtime.name} is a devDependency)`);
  }
  const { stdout } = await run(runtime.binary, [...runtime.args, 'scenario.mjs', server.url, server.httpUrl], {
    cwd: consumer,
    timeout: 60_000,
    // No update checks or telemetry: the runtimes reach nothing but the loopback server.
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1', NO_COLOR: '1' },
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, unknown>;
}

describe.each(RUNTIMES)('$name', (runtime) => {
  it('runs the core scenario through the reference server: connect, broadcast, direct, setPrivateId, disconnect', async () => {
    const seen = await scenario(runtime);
    expect(seen.runtime).toMatch(runtime.userAgent);
    expect(seen).toEqual({
      runtime: seen.runtime,
      peersWhenBJoined: 1,
      join: { sameId: true, options: { wss: true, webrtc: false, ortc: false, name: 'b' } },
      broadcast: { type: 'broadcast', fromA: true, data: { text: 'to everyone' } },
      direct: { type: 'direct', fromB: true, data: { text: 'to a' } },
      rename: { from: true, to: 'b-renamed' },
      leave: 'b-renamed',
      states: ['disconnected', 'disconnected'],
      peersLeft: 0,
    });
  }, 90_000);
});
