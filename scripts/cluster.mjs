#!/usr/bin/env node
// `npm run cluster`: a redis-server, three reference-server nodes sharing it, and HAProxy in
// front of them (where haproxy is installed), all on loopback; prints the one address to open.
// Stops everything on Ctrl+C (or SIGTERM), and when any of them dies.
//
//   npm run cluster                      free ports everywhere
//   npm run cluster -- --port 8080       HAProxy on 8080
//   npm run cluster -- --redis URL       use that Redis instead of starting one
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { HAPROXY, Haproxy, REDIS_SERVER, RedisServer, ServerNode } from './cluster/processes.mjs';

const NODES = 3;

const { values } = parseArgs({
  options: { port: { type: 'string' }, redis: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('Usage: npm run cluster [-- --port <proxy port>] [--redis <redis://host:port>]');
  process.exit(0);
}
const proxyPort = values.port === undefined ? undefined : Number(values.port);
if (proxyPort !== undefined && !(Number.isInteger(proxyPort) && proxyPort >= 0 && proxyPort <= 65535)) {
  console.error(`--port must be an integer from 0 to 65535; got '${values.port}'`);
  process.exit(2);
}

const started = [];
let stopping = false;

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Reverse order: the proxy first, then the nodes (they drain), Redis last.
  for (const item of started.reverse()) await item.stop();
  process.exit(code);
}

function watch(name, child) {
  child.exited.then((status) => {
    if (stopping) return;
    console.error(`\n${name} stopped unexpectedly (${JSON.stringify(status)}); its last lines:`);
    for (const line of child.output.slice(-20)) console.error(`  | ${line}`);
    stopAll(1);
  });
}

async function startRedis() {
  if (values.redis) return values.redis;
  if (!existsSync(REDIS_SERVER)) {
    console.error(
      `No redis-server at ${REDIS_SERVER}: install Debian's package ('apt-get install redis-server') or pass --redis <url>.`,
    );
    process.exit(1);
  }
  const redis = await RedisServer.start();
  started.push({ stop: () => redis.close() });
  console.log(`Redis:     ${redis.url} (persistence off)`);
  return redis.url;
}

async function main() {
  const redisUrl = await startRedis();
  const nodes = [];
  for (let i = 1; i <= NODES; i++) {
    const args = ['--redis', redisUrl, '--trust-proxy', '127.0.0.1', '--log', 'info'];
    const node = await ServerNode.cli(args, { name: `node${i}` });
    started.push(node);
    watch(`node${i}`, node.process);
    nodes.push(node);
    console.log(`Node ${i}:    ${node.httpUrl}`);
  }
  if (!existsSync(HAPROXY)) {
    console.log(`\nNo HAProxy at ${HAPROXY} ('apt-get install haproxy' puts one in front of the nodes).`);
    console.log('Open any node address above in two browser windows; they share one chat.');
  } else {
    const proxy = await Haproxy.start(nodes, { port: proxyPort });
    started.push(proxy);
    watch('haproxy', proxy.process);
    console.log(`\nOpen ${proxy.httpUrl}/ in two browser windows (HAProxy, round robin over ${NODES} nodes).`);
  }
  console.log('Ctrl+C stops everything.');
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  stopAll(1);
});
