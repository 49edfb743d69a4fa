// Runs the reference server in its own process for benchmarks, as a relay would
// run in production: prints its address as one JSON line, stops on 'stop' or SIGTERM.
import { createServer } from '../dist/esm/server.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const server = await createServer({ port: 0, maxConnectionsPerIp: 1000, ...options });
process.stdout.write(`${JSON.stringify({ url: server.url, httpUrl: server.httpUrl, port: server.port })}\n`);
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.stdin.on('data', (chunk) => String(chunk).includes('stop') && stop());
