import { InvalidArgumentError } from '../errors.js';
import { isNonEmptyString, isRecord } from '../protocol/guards.js';
import type { ConnectOptions } from '../protocol/wss.js';
import type { FetchFunction } from '../transport/http.js';
import type { WebSocketConstructor } from '../transport/websocket-like.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { describe } from './args.js';

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
  /** 16 MiB. */
  maxFrameSize: 2 ** 24,
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

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isPositive = (value: unknown): boolean => typeof value === 'number' && value > 0 && value < Infinity;
/** A URL whose scheme is `scheme` or its secure form (`ws`/`wss`, `http`/`https`). */
const urlRule = (scheme: string): [(value: unknown) => boolean, string] => [
  (value) => {
    try {
      return typeof value === 'string' && RegExp(`^${scheme}s?:$`).test(new URL(value).protocol);
    } catch {
      return false;
    }
  },
  `a ${scheme}:// or ${scheme}s:// URL`,
];

/** Each checked option: its test and what it must be. `url` is required; the others may be left out. */
const RULES: Array<[keyof WSSClientOptions, ...ReturnType<typeof urlRule>]> = [
  ['url', ...urlRule('ws')],
  ['handshakeUrl', ...urlRule('http')],
  ['connectOptions', isRecord, 'a plain object'],
  ['requestTimeout', isPositive, 'a positive number'],
  ['maxFrameSize', isPositive, 'a positive number'],
  ['userToken', isNonEmptyString, 'a non-empty string'],
  ['WebSocket', isFunction, 'a constructor'],
  ['fetch', isFunction, 'a function'],
];

/** Applies {@link wssClientDefaults} and rejects bad options, naming them. */
export function resolveClientOptions(options: WSSClientOptions): ResolvedClientOptions {
  if (!isRecord(options)) throw new InvalidArgumentError('WSSClient needs an options object { url, ... }');
  const resolved: Record<string, unknown> = { ...options };
  for (const [name, test, problem] of RULES) {
    const value = options[name] ?? wssClientDefaults[name as keyof typeof wssClientDefaults];
    resolved[name] = value;
    if ((value !== undefined || name === 'url') && !test(value))
      throw new InvalidArgumentError(`option '${name}' must be ${problem}, got ${describe(value)}`);
  }
  resolved.connectOptions = { ...wssClientDefaults.connectOptions, ...options.connectOptions };
  resolved.logger = options.logger ?? silentLogger;
  return resolved as unknown as ResolvedClientOptions;
}
