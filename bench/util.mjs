// Small helpers shared by the benchmark scripts.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { spread } from './measure.mjs';

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

/** Prints the rate of `count` operations for each sample of milliseconds: median with its range. */
export function rateFigure(label, count, msSamples, unit = 'per s') {
  const rates = msSamples.map((ms) => (count / ms) * 1000);
  figure(
    label,
    spread(rates, (n) => Math.round(n).toLocaleString('en-US')),
    unit,
  );
}

/** What every benchmark that starts a server process must say next to its figures. */
export const SHARED_CORES = `the server runs in its own process; it and this one share the machine's ${availableParallelism()} cores`;

/** Delivers the lines a stream writes, one `next()` at a time. */
function lineReader(stream) {
  const lines = [];
  const waiting = [];
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return () => (lines.length ? Promise.resolve(lines.shift()) : new Promise((resolve) => waiting.push(resolve)));
}

/**
 * Starts a benchmark server script (bench/server-process.mjs unless `script`
 * names another) in its own process. The script prints its addresses as one
 * JSON line, then one JSON line per reply to a command written to its stdin,
 * and stops on 'stop'. Resolves with the addresses, `command(text)` (resolves
 * with the next line, parsed), `nextLine()` and `close()`.
 */
export async function spawnServer(options = {}, script = 'server-process.mjs') {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [new URL(`./${script}`, import.meta.url).pathname, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const readLine = lineReader(child.stdout);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const early = exited.then((code) => {
    throw new Error(`benchmark server ${script} exited early with code ${code}`);
  });
  early.catch(() => {}); // seen through nextLine(); an exit after close() is no error
  const nextLine = async () => JSON.parse(await Promise.race([readLine(), early]));
  const info = await nextLine();
  return {
    ...info,
    nextLine,
    command: (text) => {
      child.stdin.write(`${text}\n`);
      return nextLine();
    },
    close: () => {
      child.stdin.write('stop\n');
      return exited;
    },
  };
}
