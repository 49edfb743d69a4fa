/** Options of the reference server, their defaults and their validation. */
import { isRecord } from '../protocol/guards.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { type ClusterOptions, resolveClusterOptions } from './cluster/options.js';
import { trustedProxies } from './forwarded.js';
import { OptionChecks } from './option-checks.js';
import type { SignalServerOptions } from './signal/options.js';

/** Who a frame goes to or comes from: the session's current private ID, or `null` before `WSS_Connect`. */
export interface FrameParty {
  readonly privateId: string | null;
}

/**
 * Hooks that make the server misbehave on purpose. They exist for tests and
 * fault injection (lost, duplicated, altered or reordered frames); never set
 * them in production.
 */
export interface ServerHooks {
  /**
   * Called for every frame the server is about to send on a WSS socket
   * (responses and pushes). Return the frame (changed or not), several frames
   * (each is sent, in order), or `null` to drop it.
   */
  outgoing?(frame: string, target: FrameParty): string | string[] | null;
  /**
   * Called for every text frame a WSS socket sends, before it is parsed.
   * Return the frame (changed or not) or `null` to drop it.
   */
  incoming?(frame: string, source: FrameParty): string | null;
}

/** Options of {@link createServer}. */
export interface ServerOptions {
  /** TCP port for both WebSocket and HTTP; `0` picks a free port. Default: 8090. */
  port?: number;
  /** Interface to listen on. Default: '127.0.0.1'. */
  host?: string;
  /** Refuse `WSS_Handshake` over the socket (error -32002); handshakes then go over HTTP POST only. Default: false. */
  httpOnlyHandshake?: boolean;
  /** Handshakes (pending or connected) allowed per client IP address (`WSS_Handshake` answers -32001 past it). Default: 10. */
  maxConnectionsPerIp?: number;
  /**
   * Open WebSockets allowed per client IP address, on every path; past it the
   * upgrade is refused with HTTP 429. Behind a proxy every client has the
   * proxy's address: raise it there. Default: 64.
   */
  maxSocketsPerIp?: number;
  /** Largest WebSocket message and HTTP request body in bytes; bigger socket frames close the socket (1009). Default: 1048576 (1 MiB). */
  maxPayload?: number;
  /**
   * Most bytes that may wait to be written to one socket (queued frames plus
   * the socket's own buffer), on every path. A connection that would pass it
   * is not reading: it is closed with 1013 and its session ends for its peers
   * like any disconnect (a Signal client leaves its rooms). Must be at least
   * `maxPayload`. Default: 8388608 (8 MiB).
   */
  maxBufferedBytes?: number;
  /** Most requests in one JSON-RPC batch; larger batches get error -32600. Default: 5. */
  maxBatch?: number;
  /**
   * Deepest nesting of objects and arrays allowed in a request's params
   * (deeper: error -32602) and in a Signal event's data (deeper: an `error`
   * event `TOO_DEEP`). From 2 to 1000. Default: 32.
   */
  maxDepth?: number;
  /**
   * Requests per second one socket may keep up (each WebSocket message, a
   * request, a batch or a Signal frame, takes one token of a bucket refilled
   * at this rate). Over it: error -32005 (Signal: an `error` event
   * `RATE_LIMITED`); after 50 refusals in a row the socket is closed with
   * 1008. Default: 1000.
   */
  requestRate?: number;
  /** Size of that bucket: requests a socket may send at once before `requestRate` applies. Default: 20000. */
  requestBurst?: number;
  /** Send `Access-Control-Allow-Origin: *` on HTTP responses and answer `OPTIONS` preflight requests. Default: true. */
  cors?: boolean;
  /**
   * Origins allowed to open WebSockets (exact `Origin` header values such as
   * `'https://chat.example'`), or `'*'` for any. Upgrades from other origins
   * are refused with HTTP 403; requests without an `Origin` header (not from
   * a browser) are allowed. Default: '*'.
   */
  allowedOrigins?: '*' | readonly string[];
  /**
   * Milliseconds a handshake (over HTTP or the socket) may wait for its
   * `WSS_Connect` before it is dropped, so abandoned handshakes do not use up
   * the per-IP limit; `0` keeps them until their socket closes (HTTP ones
   * until the server closes). Default: 60000.
   */
  handshakeTimeout?: number;
  /** Milliseconds a socket may stay open without a session before it is closed with 1008; `0` never. Default: 30000. */
  connectTimeout?: number;
  /** Milliseconds `close()` waits for clients to answer the closing handshake before it cuts them. Default: 5000. */
  drainMs?: number;
  /** Serve Prometheus metrics at GET '/metrics' (GET '/healthz' is always served). Default: true. */
  metrics?: boolean;
  /** Where the server logs. Default: a silent logger. */
  logger?: Logger;
  /** Fault-injection hooks for tests. Default: none. */
  hooks?: ServerHooks;
  /** Serve the Signal encrypted event protocol at '/stream' (see {@link SignalServerOptions}). Default: off. */
  signal?: SignalServerOptions;
  /**
   * Run as one node of a cluster that shares WSS sessions and Signal rooms
   * through Redis (see {@link ClusterOptions} and docs/cluster.md). The Redis
   * client is loaded only when this is set. Default: off (a single server).
   */
  cluster?: ClusterOptions;
  /**
   * Addresses of reverse proxies (such as HAProxy's) whose `X-Forwarded-For`
   * is believed: behind them the client's address, to which the WSS protocol
   * ties handshakes and the per-IP limits, is the last address in that header
   * that is not one of these. Default: [] (every client is its TCP peer).
   */
  trustProxy?: readonly string[];
  /**
   * Serve the chat demo page at GET '/' (POST '/' stays the handshake), with
   * the SecureSession browser bundle at '/lib/secure.js'. Default: true.
   */
  demo?: boolean;
}

/** The defaults of every {@link ServerOptions} member. */
export const serverDefaults = Object.freeze({
  port: 8090,
  host: '127.0.0.1',
  httpOnlyHandshake: false,
  maxConnectionsPerIp: 10,
  maxSocketsPerIp: 64,
  maxPayload: 1024 * 1024,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxBatch: 5,
  maxDepth: 32,
  requestRate: 1000,
  requestBurst: 20_000,
  cors: true,
  allowedOrigins: '*' as '*' | readonly string[],
  handshakeTimeout: 60_000,
  connectTimeout: 30_000,
  drainMs: 5000,
  trustProxy: Object.freeze([]) as readonly string[],
  metrics: true,
  demo: true,
  logger: silentLogger,
  hooks: Object.freeze({}) as ServerHooks,
});

/** Options that have a default in {@link serverDefaults}. */
type DefaultedOption = keyof typeof serverDefaults;

/**
 * Options without a default (an endpoint that is off unless configured, for
 * example). Such an option is added to {@link ServerOptions} and named here;
 * the component it switches on validates its value.
 */
const OPTIONAL_OPTIONS: readonly Exclude<keyof ServerOptions, DefaultedOption>[] = ['signal', 'cluster'];

/** {@link ServerOptions} with every default filled in. */
export type ResolvedServerOptions = { [K in DefaultedOption]-?: NonNullable<ServerOptions[K]> } & Omit<
  ServerOptions,
  DefaultedOption
>;

const MIN_PAYLOAD = 1024;
const MAX_TIMEOUT = 2 ** 31 - 1;

const check: OptionChecks = new OptionChecks('');

function checkOrigins(value: unknown): void {
  if (value === '*') return;
  const ok = Array.isArray(value) && value.every((origin) => typeof origin === 'string' && origin !== '');
  if (!ok) check.fail('allowedOrigins', "'*' or an array of origins such as 'https://chat.example'", value);
}

function checkLogger(logger: unknown): void {
  const ok = isRecord(logger) && ['debug', 'info', 'warn', 'error'].every((k) => typeof logger[k] === 'function');
  if (!ok) check.fail('logger', 'an object with debug, info, warn and error functions', logger);
}

function checkHooks(hooks: unknown): void {
  if (!isRecord(hooks)) check.fail('hooks', 'an object', hooks);
  for (const key of Object.keys(hooks)) {
    if (key !== 'incoming' && key !== 'outgoing')
      check.fail(`hooks.${key}`, 'absent (only incoming and outgoing exist)', key);
    if (hooks[key] !== undefined && typeof hooks[key] !== 'function')
      check.fail(`hooks.${key}`, 'a function', hooks[key]);
  }
}

/**
 * Fills in defaults and rejects bad values up front.
 * @throws InvalidArgumentError naming the first bad option.
 */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  if (!isRecord(options)) check.fail('options', 'an object', options);
  check.onlyKnown(options, new Set<string>([...Object.keys(serverDefaults), ...OPTIONAL_OPTIONS]));
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...serverDefaults, ...defined } as ResolvedServerOptions;
  check.int('port', o.port, 0, 65535);
  if (typeof o.host !== 'string' || o.host.trim() === '')
    check.fail('host', 'a non-empty host name or address', o.host);
  check.bool('httpOnlyHandshake', o.httpOnlyHandshake);
  check.int('maxConnectionsPerIp', o.maxConnectionsPerIp, 1, 1_000_000);
  check.int('maxSocketsPerIp', o.maxSocketsPerIp, 1, 1_000_000);
  check.int('maxPayload', o.maxPayload, MIN_PAYLOAD, 2 ** 30);
  check.int('maxBufferedBytes', o.maxBufferedBytes, MIN_PAYLOAD, 2 ** 32);
  if (o.maxBufferedBytes < o.maxPayload) {
    check.fail(
      'maxBufferedBytes',
      `at least maxPayload (${o.maxPayload}), or no answer that size could be sent`,
      o.maxBufferedBytes,
    );
  }
  check.int('maxBatch', o.maxBatch, 1, 1000);
  // Deeper than about 4,000 levels, serialising what was accepted overflows the stack.
  check.int('maxDepth', o.maxDepth, 2, 1000);
  check.int('requestRate', o.requestRate, 1, 1_000_000_000);
  check.int('requestBurst', o.requestBurst, 1, 1_000_000_000);
  check.bool('cors', o.cors);
  checkOrigins(o.allowedOrigins);
  check.int('handshakeTimeout', o.handshakeTimeout, 0, MAX_TIMEOUT);
  check.int('connectTimeout', o.connectTimeout, 0, MAX_TIMEOUT);
  check.int('drainMs', o.drainMs, 0, MAX_TIMEOUT);
  trustedProxies(o.trustProxy);
  if (o.cluster !== undefined) resolveClusterOptions(o.cluster);
  check.bool('metrics', o.metrics);
  check.bool('demo', o.demo);
  checkLogger(o.logger);
  checkHooks(o.hooks);
  return o;
}
