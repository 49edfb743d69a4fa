/**
 * A cluster node's parts, for `createServer({ cluster })`. The server imports
 * this module (and with it the Redis client) only when that option is set.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../../util/logger.js';
import { ClusterRooms } from './cluster-rooms.js';
import { ClusterCounters } from './metrics.js';
import type { ClusterStatus } from './node.js';
import type { ResolvedClusterOptions } from './options.js';
import { type LocalRooms, RedisBroker } from './redis-broker.js';

/** What `/healthz` says about the cluster. */
export interface ClusterHealth {
  readonly status: ClusterStatus;
  /** This node's id in the cluster. */
  readonly node: string;
  /** Nodes this node knows alive, itself included. */
  readonly nodes: number;
  /** WSS sessions on every node. */
  readonly sessions: number;
}

/** The parts a node needs before it can start: its room relay exists first, for the Signal endpoint. */
export interface ClusterNodeParts {
  readonly rooms: ClusterRooms;
  /**
   * Joins the cluster and returns its broker.
   * @throws ClusterUnavailableError when Redis cannot be reached.
   */
  start(endpoints: { evict(privateId: string): void; rooms: LocalRooms | null }): Promise<RedisBroker>;
  /** The cluster's state for `/healthz` (after `start`). */
  health(): ClusterHealth;
}

export function prepareCluster(options: ResolvedClusterOptions, logger: Logger, registry: Registry): ClusterNodeParts {
  let broker: RedisBroker | null = null;
  const started = (): RedisBroker => {
    if (!broker) throw new Error('cluster: the node has not started');
    return broker;
  };
  const metrics = new ClusterCounters(registry, () => (broker ? broker.node.peers + 1 : 1));
  return {
    rooms: new ClusterRooms(() => started().node, metrics, logger),
    async start(endpoints) {
      broker = await RedisBroker.start({ options, logger, metrics, ...endpoints });
      return broker;
    },
    health() {
      const node = started().node;
      return { status: node.status, node: node.id, nodes: node.peers + 1, sessions: node.presence.size };
    },
  };
}
