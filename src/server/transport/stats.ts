/** Plain counters an endpoint bumps on its hot paths; `/metrics` reads them when scraped. */
export interface TrafficStats {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Writes handed to sockets (each carries every frame queued for its socket in one turn). */
  writes: number;
  /** Connections closed because their outbound buffer passed `maxBufferedBytes`. */
  backpressureCloses: number;
  /** Requests refused by the per-connection rate limit. */
  rateLimited: number;
}

/** Fresh zeroed counters. */
export function trafficStats(): TrafficStats {
  return { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, writes: 0, backpressureCloses: 0, rateLimited: 0 };
}
