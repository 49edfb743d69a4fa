/** `GET /healthz` and `GET /metrics`, beside the protocol endpoints on the shared port. */
import type { RouteTable, ServerComponent } from '../routes.js';
import { reply } from '../http.js';
import type { ServerMetrics } from './metrics.js';

/** Where the operations endpoints are served. */
export const OPS_PATHS = Object.freeze({ health: '/healthz', metrics: '/metrics' });

/** What `/healthz` reports. */
export interface HealthSource {
  /** `true` once `close()` was called. */
  draining(): boolean;
  /** Sessions open now (every endpoint). */
  sessions(): number;
}

/** Serves `/healthz` (always) and `/metrics` (when `metrics` is on). */
export class OpsRoutes implements ServerComponent {
  readonly #started = performance.now();

  constructor(
    readonly health: HealthSource,
    readonly metrics: ServerMetrics | null,
  ) {}

  mount(routes: RouteTable): void {
    routes.addHttp('GET', OPS_PATHS.health, (_req, res) => {
      const draining = this.health.draining();
      const body = {
        status: draining ? 'draining' : 'ok',
        sessions: this.health.sessions(),
        uptime: Math.round((performance.now() - this.#started) / 10) / 100,
      };
      reply(res, draining ? 503 : 200, JSON.stringify(body), {
        'Content-Type': 'application/json',
        'Cache-Control': 'no-store',
      });
    });
    const metrics = this.metrics;
    if (metrics) {
      routes.addHttp('GET', OPS_PATHS.metrics, async (_req, res) => {
        const text = await metrics.registry.metrics();
        reply(res, 200, text, { 'Content-Type': metrics.registry.contentType, 'Cache-Control': 'no-store' });
      });
    }
  }

  close(): void {}
}
