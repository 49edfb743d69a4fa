/**
 * The parts of a running server, built before it listens: options, metrics,
 * the write scheduler, the broker, the components and their routes, and the
 * WebSocket acceptor with its admission rules.
 */
import { WebSocketServer } from 'ws';
import { DemoPage } from './demo/index.js';
import { ServerMetrics } from './ops/metrics.js';
import { OpsRoutes } from './ops/routes.js';
import type { ResolvedServerOptions } from './options.js';
import { RouteTable, type ServerComponent } from './routes.js';
import { SignalEndpoint } from './signal/index.js';
import { Admission } from './transport/admission.js';
import { FlushScheduler } from './transport/outbox.js';
import { LocalBroker } from './wss/local-broker.js';
import { WssEndpoint } from './wss/endpoint.js';
import { WSS_METHOD_NAMES } from './wss/rpc.js';

/** Everything a running server is made of. */
export interface ServerCore {
  readonly options: ResolvedServerOptions;
  readonly routes: RouteTable;
  /** In mount order; closed in reverse after every socket. */
  readonly components: readonly ServerComponent[];
  readonly wss: WssEndpoint;
  readonly signal: SignalEndpoint | undefined;
  readonly metrics: ServerMetrics;
  readonly admission: Admission;
  /** Accepts upgrades for every WebSocket path (routes decide what they serve). */
  readonly sockets: WebSocketServer;
  /** Set once `close()` was called: no new sockets, `/healthz` says so. */
  draining: boolean;
}

/**
 * Builds the components served on the shared port. A new endpoint is a
 * {@link ServerComponent} added here (for example, when its option is set);
 * its `mount` registers its WebSocket paths and HTTP routes.
 */
export async function buildCore(options: ResolvedServerOptions): Promise<ServerCore> {
  const metrics = new ServerMetrics(WSS_METHOD_NAMES);
  const broker = new LocalBroker((ipKey) =>
    options.logger.debug(`wss: a handshake from ${ipKey} expired without WSS_Connect`),
  );
  const wss = new WssEndpoint({ options, broker, metrics, scheduler: new FlushScheduler() });
  const signal = options.signal ? await SignalEndpoint.create(options.signal, options.logger) : undefined;
  const core: ServerCore = {
    options,
    routes: new RouteTable(),
    components: [],
    wss,
    signal,
    metrics,
    admission: new Admission(options),
    sockets: new WebSocketServer({ noServer: true, maxPayload: options.maxPayload }),
    draining: false,
  };
  const health = {
    draining: () => core.draining,
    sessions: () => wss.sessionIds().length + (signal ? signal.clients.length : 0),
  };
  const components = core.components as ServerComponent[];
  components.push(wss, new OpsRoutes(health, options.metrics ? metrics : null));
  if (signal) components.push(signal);
  if (options.demo) components.push(new DemoPage(options.logger));
  for (const component of components) component.mount(core.routes);
  return core;
}
