/**
 * The server's Prometheus metrics, on a `prom-client` Registry of its own (never
 * the global one, so two servers in one process do not mix). Hot paths bump
 * plain numbers ({@link TrafficStats}); the registry reads them when scraped.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { trafficStats, type TrafficStats } from '../transport/stats.js';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

type StatsKey = keyof TrafficStats;

/** The counters of every endpoint, exported with an `endpoint` label. */
const TRAFFIC: ReadonlyArray<[name: string, help: string, key: StatsKey]> = [
  ['wss_sessions_frames_received_total', 'WebSocket messages received', 'framesIn'],
  ['wss_sessions_received_bytes_total', 'WebSocket message bytes received', 'bytesIn'],
  ['wss_sessions_frames_sent_total', 'WebSocket frames written (responses and pushes)', 'framesOut'],
  ['wss_sessions_sent_bytes_total', 'WebSocket frame bytes written', 'bytesOut'],
  [
    'wss_sessions_socket_writes_total',
    'Writes to sockets (all frames queued for a socket in one turn go in one)',
    'writes',
  ],
  [
    'wss_sessions_backpressure_closes_total',
    'Connections closed because they passed maxBufferedBytes',
    'backpressureCloses',
  ],
  ['wss_sessions_rate_limited_requests_total', 'Requests refused by the per-connection rate limit', 'rateLimited'],
];

/** Metrics of one server. */
export class ServerMetrics {
  /** The registry `/metrics` serialises. */
  readonly registry = new Registry();
  readonly #endpoints = new Map<string, TrafficStats>();
  readonly #sessionCounts = new Map<string, () => number>();
  readonly #latency: Histogram<'method' | 'outcome'>;
  readonly #methods: ReadonlySet<string>;
  /** Accepted `WSS_Handshake` calls. */
  handshakes = 0;
  /** Open WebSockets on every path. */
  sockets = 0;

  /** @param methods method names that get a label of their own; any other is counted as `other`, so clients cannot grow the label set. */
  constructor(methods: Iterable<string>) {
    this.#methods = new Set(methods);
    const registers = [this.registry];
    const self = this;
    for (const [name, help, key] of TRAFFIC) {
      new Counter({
        name,
        help,
        labelNames: ['endpoint'],
        registers,
        collect() {
          this.reset();
          for (const [endpoint, stats] of self.#endpoints) this.inc({ endpoint }, stats[key]);
        },
      });
    }
    new Gauge({
      name: 'wss_sessions_sessions',
      help: 'Sessions open now',
      labelNames: ['endpoint'],
      registers,
      collect() {
        for (const [endpoint, count] of self.#sessionCounts) this.set({ endpoint }, count());
      },
    });
    new Gauge({
      name: 'wss_sessions_sockets',
      help: 'WebSockets open now, on every path',
      registers,
      collect() {
        this.set(self.sockets);
      },
    });
    new Counter({
      name: 'wss_sessions_handshakes_total',
      help: 'Accepted WSS_Handshake calls (socket and HTTP)',
      registers,
      collect() {
        this.reset();
        this.inc(self.handshakes);
      },
    });
    new Gauge({
      name: 'process_resident_memory_bytes',
      help: 'Resident memory of the server process',
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    this.#latency = new Histogram({
      name: 'wss_sessions_request_duration_seconds',
      help: 'Time from a request arriving to its answer being queued, by method and outcome',
      labelNames: ['method', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /** The traffic counters of endpoint `name`, created on first use. */
  endpoint(name: string): TrafficStats {
    let stats = this.#endpoints.get(name);
    if (!stats) {
      stats = trafficStats();
      this.#endpoints.set(name, stats);
    }
    return stats;
  }

  /** Reports endpoint `name`'s session count through `count` at each scrape. */
  countSessions(name: string, count: () => number): void {
    this.#sessionCounts.set(name, count);
  }

  /** Records one answered request. */
  observeRequest(method: string, ok: boolean, seconds: number): void {
    const label = this.#methods.has(method) ? method : 'other';
    this.#latency.observe({ method: label, outcome: ok ? 'ok' : 'error' }, seconds);
  }
}
