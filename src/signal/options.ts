/** Options of {@link EncryptedWebSocketClient}, their defaults and their validation. */
import { InvalidArgumentError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { assertRawP256PublicKey } from '../crypto/ecdh.js';
import { isRecord } from '../protocol/guards.js';
import type { WebSocketConstructor } from '../transport/websocket.js';
import type { IWSLogger } from './types.js';

/** Reconnection settings. */
export interface IReconnectOptions {
  /** Reconnect after an unexpected close. Default: true. */
  enabled?: boolean;
  /** Reconnection attempts before giving up with `reconnect_failed`. Default: 5. */
  maxRetries?: number;
  /** Base delay before the first retry, in ms. Default: 3000. */
  interval?: number;
  /** Each further retry waits this many times longer. Default: 1.5. */
  backoffMultiplier?: number;
  /** Cap on the delay before jitter, in ms. Default: 30000. */
  maxInterval?: number;
}

/** Options of the Signal client. The first eight are the original client's, with the same defaults. */
export interface IEncryptedWSClientOptions {
  /** WebSocket server URL, e.g. `'wss://signal.example.com/stream'`. Required. */
  url: string;
  /** HKDF info string; must match the server's exactly. Required. */
  ecdhInfo: string;
  /** JWT Bearer token sent in `authenticate`. Required; replace it with `updateToken()`. */
  token: string;
  /** Reconnection settings; see {@link IReconnectOptions}. */
  reconnect?: IReconnectOptions;
  /** Milliseconds between `heartbeat` frames once authenticated. Default: 30000 (the server drops clients silent for 90 s). */
  heartbeatInterval?: number;
  /** Rooms joined after every successful authentication (so re-joined on reconnect). Default: []. */
  autoJoinRooms?: string[];
  /** Where the client logs. Default: console. */
  logger?: IWSLogger;
  /** WebSocket constructor to use (pass `WebSocket` from the `ws` package in Node). Default: the platform's, else `ws` in Node. */
  WebSocket?: WebSocketConstructor;
  /**
   * Refuse to run without encryption: a `connected` without a valid
   * `serverPublicKey` and `salt` closes the socket with an error, and a
   * plaintext application event is never delivered to handlers. Default: true.
   */
  requireEncryption?: boolean;
  /**
   * The server's ECDSA P-256 verify key (base64 of the raw 65-byte public key,
   * or a `CryptoKey`). When set, `connected` must carry a valid `signature`
   * over clientPublicKey ‖ serverPublicKey ‖ salt; otherwise the client closes
   * and does not reconnect on its own. Default: none (no server authentication).
   */
  serverVerifyKey?: string | CryptoKey;
  /**
   * How many recent IVs of this connection (received and sent) are remembered
   * to reject replayed and reflected `encrypted` frames. Default: 4096.
   */
  replayWindow?: number;
  /** Largest incoming frame in characters; larger frames are dropped with an error event. Default: 1048576. */
  maxFrameSize?: number;
  /** Milliseconds to wait for `connected` after `authenticate` before closing and retrying; 0 waits forever. Default: 15000. */
  handshakeTimeout?: number;
}

/** The defaults of every optional member of {@link IEncryptedWSClientOptions}. */
export const signalClientDefaults = Object.freeze({
  reconnect: Object.freeze({ enabled: true, maxRetries: 5, interval: 3000, backoffMultiplier: 1.5, maxInterval: 30_000 }),
  heartbeatInterval: 30_000,
  autoJoinRooms: Object.freeze([]) as readonly string[],
  requireEncryption: true,
  replayWindow: 4096,
  maxFrameSize: 1024 * 1024,
  handshakeTimeout: 15_000,
});

/** Options with every default filled in. */
export interface ResolvedClientOptions {
  url: string;
  ecdhInfo: string;
  token: string;
  reconnect: Required<IReconnectOptions>;
  heartbeatInterval: number;
  autoJoinRooms: readonly string[];
  logger: IWSLogger;
  WebSocket: WebSocketConstructor | undefined;
  requireEncryption: boolean;
  serverVerifyKey: string | CryptoKey | undefined;
  replayWindow: number;
  maxFrameSize: number;
  handshakeTimeout: number;
}

const MAX_DELAY = 2 ** 31 - 1;

function fail(name: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
  throw new InvalidArgumentError(`EncryptedWebSocketClient option '${name}' must be ${expected}; got ${shown}`);
}

function num(name: string, value: unknown, min: number, max: number, integer = true): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) fail(name, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, value);
  return value as number;
}

function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(name, 'true or false', value);
  return value;
}

function str(name: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) fail(name, 'a non-empty string', value);
  return value;
}

/** Throws unless `token` can go into `authenticate`. */
export function checkToken(token: unknown): string {
  return str('token', token);
}

function checkLogger(logger: unknown): IWSLogger {
  const ok = isRecord(logger) && ['debug', 'info', 'warn', 'error'].every((k) => typeof logger[k] === 'function');
  if (!ok) fail('logger', 'an object with debug, info, warn and error functions', logger);
  return logger as unknown as IWSLogger;
}

function checkVerifyKey(key: unknown): string | CryptoKey | undefined {
  if (key === undefined) return undefined;
  if (typeof key === 'string') {
    assertRawP256PublicKey(base64ToBytes(key, 'serverVerifyKey'), 'serverVerifyKey');
    return key;
  }
  if (isRecord(key) && key.type === 'public' && isRecord(key.algorithm)) return key as unknown as CryptoKey;
  return fail('serverVerifyKey', 'base64 of a raw 65-byte P-256 public key, or an ECDSA P-256 public CryptoKey', typeof key);
}

function resolveReconnect(value: unknown): Required<IReconnectOptions> {
  const d = signalClientDefaults.reconnect;
  if (value === undefined) return { ...d };
  if (!isRecord(value)) fail('reconnect', 'an object', value);
  const r = value as IReconnectOptions;
  return {
    enabled: bool('reconnect.enabled', r.enabled ?? d.enabled),
    maxRetries: num('reconnect.maxRetries', r.maxRetries ?? d.maxRetries, 0, 1_000_000),
    interval: num('reconnect.interval', r.interval ?? d.interval, 0, MAX_DELAY),
    backoffMultiplier: num('reconnect.backoffMultiplier', r.backoffMultiplier ?? d.backoffMultiplier, 1, 100, false),
    maxInterval: num('reconnect.maxInterval', r.maxInterval ?? d.maxInterval, 0, MAX_DELAY),
  };
}

/**
 * Fills in defaults and rejects bad values up front.
 * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
 */
export function resolveClientOptions(opts: IEncryptedWSClientOptions): ResolvedClientOptions {
  if (!isRecord(opts)) fail('options', 'an object', opts);
  const d = signalClientDefaults;
  const rooms = opts.autoJoinRooms ?? d.autoJoinRooms;
  if (!Array.isArray(rooms) || !rooms.every((r) => typeof r === 'string' && r !== '')) {
    fail('autoJoinRooms', 'an array of non-empty strings', rooms);
  }
  if (opts.WebSocket !== undefined && typeof opts.WebSocket !== 'function') fail('WebSocket', 'a WebSocket constructor', opts.WebSocket);
  return {
    url: str('url', opts.url),
    ecdhInfo: str('ecdhInfo', opts.ecdhInfo, true),
    token: checkToken(opts.token),
    reconnect: resolveReconnect(opts.reconnect),
    heartbeatInterval: num('heartbeatInterval', opts.heartbeatInterval ?? d.heartbeatInterval, 1, MAX_DELAY),
    autoJoinRooms: [...rooms],
    logger: checkLogger(opts.logger ?? console),
    WebSocket: opts.WebSocket,
    requireEncryption: bool('requireEncryption', opts.requireEncryption ?? d.requireEncryption),
    serverVerifyKey: checkVerifyKey(opts.serverVerifyKey),
    replayWindow: num('replayWindow', opts.replayWindow ?? d.replayWindow, 1, 1_000_000),
    maxFrameSize: num('maxFrameSize', opts.maxFrameSize ?? d.maxFrameSize, 64, 2 ** 30),
    handshakeTimeout: num('handshakeTimeout', opts.handshakeTimeout ?? d.handshakeTimeout, 0, MAX_DELAY),
  };
}
