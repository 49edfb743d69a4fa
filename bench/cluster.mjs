// Cluster benchmarks: a broadcast to 1,000 peers spread over three nodes sharing one Redis,
// against the same broadcast on one node, measured in the same run (rounds interleaved), and
// the Redis commands a broadcast costs (INFO commandstats). The nodes, Redis, the receivers
// (one client process per node) and the sender all share the machine's cores: compare the two
// variants of one run, never absolute times. Run alone with `node bench/cluster.mjs`.
import { performance } from 'node:perf_hooks';
import { createClient } from '@redis/client';
import { RedisServer } from '../scripts/cluster/processes.mjs';
import { setTimeout as delay } from 'node:timers/promises';
import { alternate, MIN_ROUNDS, median, perRound, result } from './measure.mjs';
import { BURST, PACE_MS, PACED, paced, RECEIVERS, relay, startHost, WIDE_LIMITS } from './server.mjs';
import { figure } from './util.mjs';

const NODES = 3;

/** Calls of every command Redis ran so far, from INFO commandstats (scripts' inner commands included). */
async function commandCalls(redis) {
  const text = await redis.info('commandstats');
  const calls = {};
  for (const [, name, count] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[name] = Number(count);
  return calls;
}

/** Commands Redis ran between two INFO commandstats readings, the second INFO excluded. */
function callsBetween(before, after) {
  let total = -1;
  for (const [name, count] of Object.entries(after)) total += count - (before[name] ?? 0);
  return total;
}

/**
 * Redis commands per broadcast over a burst of BURST broadcasts: every command Redis ran during
 * the burst, less what the nodes' heartbeats cost in an idle spell of the same length after it.
 * Resolves with `{ net, gross }`.
 */
async function commandsPerBroadcast(cluster, redis) {
  const before = await commandCalls(redis);
  const started = performance.now();
  const done = cluster.expect(BURST, false);
  for (let i = 0; i < BURST; i++) cluster.send.broadcast({ t: 0, text: 'hello everyone' });
  await done;
  const elapsed = performance.now() - started;
  cluster.send.drop();
  const after = await commandCalls(redis);
  await delay(elapsed);
  const idle = callsBetween(after, await commandCalls(redis));
  const gross = callsBetween(before, after);
  return { net: (gross - idle) / BURST, gross: gross / BURST };
}

/** C1 and C2 from one run. */
export async function benchCluster() {
  console.log(
    `\nCluster: a broadcast to ${RECEIVERS.toLocaleString('en-US')} peers on one node, and spread over ${NODES} nodes sharing one Redis` +
      "\n  (Redis, every node, the receivers and the sender are processes sharing the machine's 2 cores)",
  );
  const redis = await RedisServer.start();
  const hosts = [];
  const relays = {};
  const stats = createClient({ url: redis.url });
  try {
    await stats.connect();
    for (let i = 0; i < NODES; i++)
      hosts.push(await startHost('wss', { ...WIDE_LIMITS, cluster: { redis: redis.url } }));
    relays.single = await relay('wss');
    relays.cluster = await relay('wss', hosts);
    const p50 = { single: [], cluster: [] };
    const p99 = await alternate({
      single: () => paced(relays.single, p50.single),
      cluster: () => paced(relays.cluster, p50.cluster),
    });
    const perBroadcast = [];
    for (let round = 0; round < MIN_ROUNDS; round++)
      perBroadcast.push(await commandsPerBroadcast(relays.cluster, stats));
    figure(
      'Redis commands per broadcast, heartbeats during the burst included',
      median(perBroadcast.map((r) => r.gross)).toFixed(2),
    );
    for (const name of ['single', 'cluster']) {
      figure(
        `${name}: one broadcast / ${PACE_MS} ms (${PACED} per round), p50 / p99`,
        `${median(p50[name]).toFixed(2)} / ${median(p99[name]).toFixed(2)}`,
        'ms',
      );
    }
    return [
      result({
        id: 'C1-cross-node-p99-ratio',
        label: `broadcast to ${RECEIVERS} peers over ${NODES} nodes, p99 / one node's p99 (same run)`,
        samples: perRound(p99.cluster, p99.single),
        goal: 2,
        higherIsBetter: false,
      }),
      result({
        id: 'C2-redis-ops-per-broadcast',
        label: `Redis commands per broadcast (INFO commandstats, ${NODES} nodes, heartbeats subtracted)`,
        samples: perBroadcast.map((r) => r.net),
        goal: NODES + 1,
        higherIsBetter: false,
        unit: 'commands',
      }),
    ];
  } finally {
    await Promise.all(Object.values(relays).map((r) => r.stop()));
    await Promise.all(hosts.map((h) => h.stop()));
    stats.destroy();
    await redis.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCluster();
