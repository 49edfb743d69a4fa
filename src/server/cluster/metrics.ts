/**
 * Cross-node traffic of a cluster node, on the server's own `prom-client`
 * registry: plain numbers bumped on the hot path, read when `/metrics` is
 * scraped (as the server's other counters are).
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What a cluster node counts. */
export interface ClusterMetrics {
  /** A message this node published (`broadcast`, `direct`, `room`), and its size in bytes. */
  sent(kind: string, bytes: number): void;
  /** A message this node read from Redis, by kind (`bad`: refused), and its size in bytes. */
  received(kind: string, bytes: number): void;
  /** A Redis command that failed because Redis could not be reached (its request answers -32006). */
  unavailable(): void;
  /** The link to Redis went down or came back. */
  link(up: boolean): void;
}

interface Tally {
  messages: number;
  bytes: number;
}

/** The counters, and their registration on `registry`. */
export class ClusterCounters implements ClusterMetrics {
  readonly #sent = new Map<string, Tally>();
  readonly #received = new Map<string, Tally>();
  #unavailable = 0;
  #losses = 0;
  #up = true;

  /** @param nodes the nodes this node knows alive (itself included), read at each scrape. */
  constructor(registry: Registry, nodes: () => number) {
    const registers = [registry];
    const tallies = (name: string, help: string, map: Map<string, Tally>, key: keyof Tally): void => {
      new Counter({
        name,
        help,
        labelNames: ['kind'],
        registers,
        collect() {
          this.reset();
          for (const [kind, tally] of map) this.inc({ kind }, tally[key]);
        },
      });
    };
    tallies('wss_sessions_cluster_messages_sent_total', 'Messages published to other nodes', this.#sent, 'messages');
    tallies('wss_sessions_cluster_sent_bytes_total', 'Bytes published to other nodes', this.#sent, 'bytes');
    tallies('wss_sessions_cluster_messages_received_total', 'Messages read from Redis', this.#received, 'messages');
    tallies('wss_sessions_cluster_received_bytes_total', 'Bytes read from Redis', this.#received, 'bytes');
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    counter(
      'wss_sessions_cluster_unavailable_total',
      'Redis commands that failed while Redis was unreachable (their requests answer -32006)',
      () => this.#unavailable,
    );
    counter('wss_sessions_cluster_link_losses_total', 'Times the link to Redis was lost', () => this.#losses);
    gauge('wss_sessions_cluster_link_up', '1 while the node is linked to Redis, else 0', () => (this.#up ? 1 : 0));
    gauge('wss_sessions_cluster_nodes', 'Nodes of the cluster this node knows alive, itself included', nodes);
  }

  sent(kind: string, bytes: number): void {
    tally(this.#sent, kind, bytes);
  }

  received(kind: string, bytes: number): void {
    tally(this.#received, kind, bytes);
  }

  unavailable(): void {
    this.#unavailable++;
  }

  link(up: boolean): void {
    if (this.#up && !up) this.#losses++;
    this.#up = up;
  }
}

function tally(map: Map<string, Tally>, kind: string, bytes: number): void {
  const entry = map.get(kind);
  if (entry) {
    entry.messages++;
    entry.bytes += bytes;
  } else map.set(kind, { messages: 1, bytes });
}
