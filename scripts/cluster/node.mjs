// One reference-server node for the cluster tests and benchmarks: createServer() from dist/
// with the JSON options of argv[2] (port 0 and 127.0.0.1 unless given), printing
// `listening {"url","httpUrl","port"}` once it listens, stopping cleanly on SIGTERM or SIGINT.
// `"log": "debug" | "info"` in the options logs to the console at that level.
import { createServer } from '../../dist/esm/server.js';

const { log, ...options } = JSON.parse(process.argv[2] ?? '{}');
const levels = ['debug', 'info', 'warn', 'error'];
const from = log === undefined ? levels.indexOf('warn') : levels.indexOf(log);
if (from === -1) throw new Error(`node.mjs: "log" must be one of ${levels.join(', ')}; got ${JSON.stringify(log)}`);
const logger = Object.fromEntries(
  levels.map((level, i) => [level, i >= from ? (...args) => console.error(`[${level}]`, ...args) : () => {}]),
);

const server = await createServer({ port: 0, host: '127.0.0.1', logger, ...options });
console.log(`listening ${JSON.stringify({ url: server.url, httpUrl: server.httpUrl, port: server.port })}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
