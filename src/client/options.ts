import { InvalidArgumentError } from '../errors.js';
import type { ConnectOptions } from '../protocol/wss.js';
import type { FetchFunction } from '../transport/http.js';
import type { WebSocketConstructor } from '../transport/websocket.js';
import { silentLogger, type Logger } from '../util/logger.js';

/** Options of {@link WSSClient}. */
export interface WSSClientOptions {
  /** WebSocket address of the WSS server, e.g. `ws://127.0.0.1:8090`. Required. */
  url: string;
  /** HTTP address for `WSS_Handshake` as a POST. Default: none (handshake over the socket). */
  handshakeUrl?: string;
  /** `WSS_Connect` options, relayed to peers as given. Default: `{ wss: true, webrtc: false, ortc: false }`, merged under yours. */
  connectOptions?: ConnectOptions;
  /** Per-request timeout in ms. Default: 10000. */
  requestTimeout?: number;
  /** User token for the handshake. Default: 128 random bits as hex from `crypto.getRandomValues`, new for every `connect()`. */
  userToken?: string;
  /** WebSocket constructor. Default: `globalThis.WebSocket`, else the `ws` package in Node. */
  WebSocket?: WebSocketConstructor;
  /** `fetch` for the HTTP handshake. Default: `globalThis.fetch`. */
  fetch?: FetchFunction;
  /** Largest incoming frame accepted, in characters; larger frames are dropped with a `ProtocolError`. Default: 16 MiB. */
  maxFrameSize?: number;
  /** Logger. Default: silent. */
  logger?: Logger;
}

/** Defaults of {@link WSSClientOptions}. */
export const wssClientDefaults = Object.freeze({
  requestTimeout: 10_000,
  maxFrameSize: 16 * 1024 * 1024,
  connectOptions: Object.freeze({ wss: true, webrtc: false, ortc: false }),
  logger: silentLogger,
});

/** Options after defaults and checks. */
export interface ResolvedClientOptions {
  url: string;
  handshakeUrl: string | undefined;
  connectOptions: ConnectOptions;
  requestTimeout: number;
  userToken: string | undefined;
  WebSocket: WebSocketConstructor | undefined;
  fetch: FetchFunction | undefined;
  maxFrameSize: number;
  logger: Logger;
}

function checkUrl(name: string, value: unknown, schemes: readonly string[]): string {
  if (typeof value !== 'string' || value.trim() === '') throw new InvalidArgumentError(`option '${name}' must be a non-empty URL string`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch (cause) {
    throw new InvalidArgumentError(`option '${name}' is not a valid URL: '${value}'`, { cause });
  }
  if (!schemes.includes(parsed.protocol)) {
    throw new InvalidArgumentError(`option '${name}' must start with ${schemes.map((s) => `${s}//`).join(' or ')}, got '${value}'`);
  }
  return value;
}

function checkPositive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`option '${name}' must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** Applies {@link wssClientDefaults} and rejects bad options, naming them. */
export function resolveClientOptions(options: WSSClientOptions): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('WSSClient needs an options object with at least { url }');
  const connectOptions = options.connectOptions ?? {};
  if (typeof connectOptions !== 'object' || connectOptions === null || Array.isArray(connectOptions)) {
    throw new InvalidArgumentError("option 'connectOptions' must be a plain object");
  }
  if (options.userToken !== undefined && (typeof options.userToken !== 'string' || options.userToken === '')) {
    throw new InvalidArgumentError("option 'userToken' must be a non-empty string");
  }
  if (options.WebSocket !== undefined && typeof options.WebSocket !== 'function') throw new InvalidArgumentError("option 'WebSocket' must be a constructor");
  if (options.fetch !== undefined && typeof options.fetch !== 'function') throw new InvalidArgumentError("option 'fetch' must be a function");
  return {
    url: checkUrl('url', options.url, ['ws:', 'wss:']),
    handshakeUrl: options.handshakeUrl === undefined ? undefined : checkUrl('handshakeUrl', options.handshakeUrl, ['http:', 'https:']),
    connectOptions: { ...wssClientDefaults.connectOptions, ...connectOptions },
    requestTimeout: checkPositive('requestTimeout', options.requestTimeout ?? wssClientDefaults.requestTimeout),
    userToken: options.userToken,
    WebSocket: options.WebSocket,
    fetch: options.fetch,
    maxFrameSize: checkPositive('maxFrameSize', options.maxFrameSize ?? wssClientDefaults.maxFrameSize),
    logger: options.logger ?? wssClientDefaults.logger,
  };
}
