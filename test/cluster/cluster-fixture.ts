/**
 * A cluster for one test file: a real redis-server and reference-server nodes, each in a process
 * of its own (scripts/cluster/node.mjs with the `cluster` option), started in beforeAll, every
 * process and client stopped in afterAll even when a test failed.
 */
import { afterAll, beforeAll } from 'vitest';
import { RedisServer, ServerNode } from '../../scripts/cluster/processes.mjs';
import { createServer, type ServerOptions, type WssSessionsServer } from '../../src/server/index.js';
import { isPush, RawClient, type Json } from '../server/helpers.js';

/** What {@link useCluster} starts. */
export interface ClusterFixtureOptions {
  /** Nodes to start. Default: 3. */
  nodes?: number;
  /** Server options of every node (the `cluster` option is added). */
  server?: Record<string, unknown>;
  /** Members of the `cluster` option besides `redis`. */
  cluster?: Record<string, unknown>;
}

export interface ClusterFixture {
  readonly redis: RedisServer;
  readonly nodes: ServerNode[];
  /** A raw WSS client on node `i` (closed in afterAll). */
  client(i: number): Promise<RawClient>;
  /** A raw client on node `i` that has handshaken and connected. */
  joined(i: number, options?: Json): Promise<RawClient>;
  /** Starts one more node with the same options (stopped in afterAll). */
  addNode(): Promise<ServerNode>;
  /** A node in this process (for its API, such as `server.signal`), with the same options (closed in afterAll). */
  inProcess(): Promise<WssSessionsServer>;
}

export function useCluster(options: ClusterFixtureOptions = {}): ClusterFixture {
  let redis: RedisServer | undefined;
  const nodes: ServerNode[] = [];
  const servers: WssSessionsServer[] = [];
  const clients = new Set<RawClient>();

  const nodeOptions = () => ({
    maxConnectionsPerIp: 1000,
    ...options.server,
    cluster: { redis: need(redis).url, ...options.cluster },
  });

  beforeAll(async () => {
    redis = await RedisServer.start();
    const count = options.nodes ?? 3;
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) => ServerNode.start(nodeOptions(), { name: `node${i}` })),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') nodes.push(outcome.value);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  });

  afterAll(async () => {
    await Promise.all([...clients].map((c) => c.close().catch(() => {})));
    await Promise.all([...nodes.map((node) => node.stop()), ...servers.map((server) => server.close())]);
    await redis?.close();
  });

  const fixture: ClusterFixture = {
    get redis() {
      return need(redis);
    },
    nodes,
    async client(i) {
      const node = nodes[i];
      if (!node) throw new Error(`no node ${i}`);
      const client = await RawClient.open(node.url);
      clients.add(client);
      return client;
    },
    async joined(i, connectOptions) {
      const client = await fixture.client(i);
      await client.join(connectOptions);
      return client;
    },
    async inProcess() {
      const server = await createServer({ port: 0, host: '127.0.0.1', ...(nodeOptions() as ServerOptions) });
      servers.push(server);
      return server;
    },
    async addNode() {
      const node = await ServerNode.start(nodeOptions(), { name: `node${nodes.length}` });
      nodes.push(node);
      return node;
    },
  };
  return fixture;
}

/**
 * Resolves once `client` has been told of each peer's connect. A node learns of another node's
 * sessions from the bus, and tells its clients when it does; from then on it routes direct messages
 * to them. A test that knows a peer's private ID without that push must wait for it first, as a
 * client following the protocol does.
 */
export async function announced(client: RawClient, ...peers: RawClient[]): Promise<void> {
  for (const peer of peers) {
    await client.until((m) => isPush(m) && m.result.type === 'session' && m.result.connect === peer.privateId);
  }
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('useCluster(): use the fixture inside tests and hooks');
  return value;
}
