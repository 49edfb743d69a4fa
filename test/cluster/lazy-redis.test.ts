/**
 * A server without the `cluster` option never loads the Redis client: a child process whose
 * module loader refuses every `@redis/*` import runs a single node (it serves), then asks for a
 * cluster node (which then fails on that refusal, and only then).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/cluster/processes.mjs';

/** A module resolve hook that refuses @redis/* and records nothing else. */
const HOOK = `export async function resolve(specifier, context, next) {
  if (specifier.startsWith('@redis/')) throw new Error('refused: ' + specifier);
  return next(specifier, context);
}`;

const REGISTER = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}));`;

const PROGRAM = `
const { createServer } = await import(${JSON.stringify(join(ROOT, 'dist/esm/server.js'))});
const single = await createServer({ port: 0, demo: false });
const res = await fetch(single.httpUrl, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'WSS_Handshake', params: { user_token: 't' } }) });
console.log('single', (await res.json()).result.message);
await single.close();
try {
  await createServer({ port: 0, demo: false, cluster: { redis: 'redis://127.0.0.1:1' } });
  console.log('cluster started');
} catch (err) {
  console.log('cluster failed', err.message);
}`;

function run(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', PROGRAM],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
}

describe('the Redis client', () => {
  it('is loaded only when the cluster option is set', async () => {
    const out = await run();
    expect(out).toContain('single accept');
    expect(out).toMatch(/cluster failed .*refused: @redis\/client/);
  });
});
