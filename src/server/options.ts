/** Options of the reference server, their defaults and their validation. */
import { InvalidArgumentError } from '../errors.js';
import { isRecord } from '../protocol/guards.js';
import { silentLogger, type Logger } from '../util/logger.js';
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
  /** Handshakes (pending or connected) allowed per client IP address. Default: 10. */
  maxConnectionsPerIp?: number;
  /** Largest WebSocket message and HTTP request body in bytes; bigger socket frames close the socket (1009). Default: 1048576 (1 MiB). */
  maxPayload?: number;
  /** Most requests in one JSON-RPC batch; larger batches get error -32600. Default: 5. */
  maxBatch?: number;
  /** Send `Access-Control-Allow-Origin: *` on HTTP responses and answer `OPTIONS` preflight requests. Default: true. */
  cors?: boolean;
  /**
   * Milliseconds an HTTP handshake may wait for its `WSS_Connect` before it is
   * dropped (so abandoned handshakes do not use up the per-IP limit); `0`
   * keeps them until the server closes. Default: 60000.
   */
  handshakeTimeout?: number;
  /** Where the server logs. Default: a silent logger. */
  logger?: Logger;
  /** Fault-injection hooks for tests. Default: none. */
  hooks?: ServerHooks;
  /** Serve the Signal encrypted event protocol at '/stream' (see {@link SignalServerOptions}). Default: off. */
  signal?: SignalServerOptions;
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
  maxPayload: 1024 * 1024,
  maxBatch: 5,
  cors: true,
  handshakeTimeout: 60_000,
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
const OPTIONAL_OPTIONS: readonly Exclude<keyof ServerOptions, DefaultedOption>[] = ['signal'];

/** {@link ServerOptions} with every default filled in. */
export type ResolvedServerOptions = { [K in DefaultedOption]-?: NonNullable<ServerOptions[K]> } & Omit<
  ServerOptions,
  DefaultedOption
>;

const MIN_PAYLOAD = 1024;
const MAX_TIMEOUT = 2 ** 31 - 1;

function fail(name: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new InvalidArgumentError(`Server option '${name}' must be ${expected}; got ${shown}`);
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(name, `an integer from ${min} to ${max}`, value);
  }
}

function checkBool(name: string, value: unknown): void {
  if (typeof value !== 'boolean') fail(name, 'true or false', value);
}

function checkLogger(logger: unknown): void {
  const ok = isRecord(logger) && ['debug', 'info', 'warn', 'error'].every((k) => typeof logger[k] === 'function');
  if (!ok) fail('logger', 'an object with debug, info, warn and error functions', logger);
}

function checkHooks(hooks: unknown): void {
  if (!isRecord(hooks)) fail('hooks', 'an object', hooks);
  for (const key of Object.keys(hooks)) {
    if (key !== 'incoming' && key !== 'outgoing')
      fail(`hooks.${key}`, 'absent (only incoming and outgoing exist)', key);
    if (hooks[key] !== undefined && typeof hooks[key] !== 'function') fail(`hooks.${key}`, 'a function', hooks[key]);
  }
}

/**
 * Fills in defaults and rejects bad values up front.
 * @throws InvalidArgumentError naming the first bad option.
 */
export function resolveServerOptions(options: ServerOptions = {}): ResolvedServerOptions {
  if (!isRecord(options)) fail('options', 'an object', options);
  const known = new Set<string>([...Object.keys(serverDefaults), ...OPTIONAL_OPTIONS]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) fail(key, `one of ${[...known].join(', ')} (unknown option)`, key);
  }
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...serverDefaults, ...defined } as ResolvedServerOptions;
  checkInt('port', o.port, 0, 65535);
  if (typeof o.host !== 'string' || o.host.trim() === '') fail('host', 'a non-empty host name or address', o.host);
  checkBool('httpOnlyHandshake', o.httpOnlyHandshake);
  checkInt('maxConnectionsPerIp', o.maxConnectionsPerIp, 1, 1_000_000);
  checkInt('maxPayload', o.maxPayload, MIN_PAYLOAD, 2 ** 30);
  checkInt('maxBatch', o.maxBatch, 1, 1000);
  checkBool('cors', o.cors);
  checkInt('handshakeTimeout', o.handshakeTimeout, 0, MAX_TIMEOUT);
  checkBool('demo', o.demo);
  checkLogger(o.logger);
  checkHooks(o.hooks);
  return o;
}
