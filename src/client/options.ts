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

/** Throws the one kind of options error, naming the option. */
function bad(name: string, problem: string, value?: unknown): never {
  throw new InvalidArgumentError(`option '${name}' must be ${problem}${value === undefined ? '' : `, got ${String(value)}`}`);
}

function checkUrl(name: string, value: unknown, schemes: readonly string[]): string {
  let scheme: string | undefined;
  try {
    scheme = new URL(value as string).protocol;
  } catch {
    // Not a URL at all: reported below with the schemes it needs.
  }
  if (typeof value !== 'string' || !scheme || !schemes.includes(scheme)) bad(name, `a URL starting with ${schemes.join('// or ')}//`, `'${String(value)}'`);
  return value;
}

function checkPositive(name: string, value: unknown): number {
  if (!(typeof value === 'number' && value > 0 && value < Infinity)) bad(name, 'a positive number', value);
  return value;
}

/** Applies {@link wssClientDefaults} and rejects bad options, naming them. */
export function resolveClientOptions(options: WSSClientOptions): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('WSSClient needs an options object with at least { url }');
  const { connectOptions = {}, userToken, WebSocket, fetch, handshakeUrl } = options;
  if (typeof connectOptions !== 'object' || connectOptions === null || Array.isArray(connectOptions)) bad('connectOptions', 'a plain object');
  if (userToken !== undefined && (typeof userToken !== 'string' || userToken === '')) bad('userToken', 'a non-empty string');
  if (WebSocket !== undefined && typeof WebSocket !== 'function') bad('WebSocket', 'a constructor');
  if (fetch !== undefined && typeof fetch !== 'function') bad('fetch', 'a function');
  return {
    url: checkUrl('url', options.url, ['ws:', 'wss:']),
    handshakeUrl: handshakeUrl === undefined ? undefined : checkUrl('handshakeUrl', handshakeUrl, ['http:', 'https:']),
    connectOptions: { ...wssClientDefaults.connectOptions, ...connectOptions },
    requestTimeout: checkPositive('requestTimeout', options.requestTimeout ?? wssClientDefaults.requestTimeout),
    userToken,
    WebSocket,
    fetch,
    maxFrameSize: checkPositive('maxFrameSize', options.maxFrameSize ?? wssClientDefaults.maxFrameSize),
    logger: options.logger ?? wssClientDefaults.logger,
  };
}
