// Small helpers shared by the benchmark scripts.
import { performance } from 'node:perf_hooks';

/** Runs `fn` and returns elapsed milliseconds. */
export async function timed(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Prints one aligned figure line. */
export function figure(label, value, unit = '') {
  console.log(`  ${label.padEnd(58)} ${value}${unit ? ` ${unit}` : ''}`);
}

/** Formats a rate. */
export const perSecond = (count, ms) => Math.round((count / ms) * 1000).toLocaleString('en-US');

/** Starts bench/server-process.mjs and resolves with its addresses and a `close()`. */
export async function spawnServer(options = {}) {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [new URL('./server-process.mjs', import.meta.url).pathname, JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const info = await new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n')) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`benchmark server exited early with code ${code}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ...info,
    close: () => {
      child.stdin.write('stop\n');
      return exited;
    },
  };
}
