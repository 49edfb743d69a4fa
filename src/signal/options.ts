/** Options of {@link EncryptedWebSocketClient}, their defaults and their validation. */
import { InvalidArgumentError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { kindOf } from '../crypto/bytes.js';
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

/** Allowed range of each numeric option, and whether it must be an integer (all but one are). */
type Range = readonly [min: number, max: number, integer?: false];
const NUMBERS: Record<'heartbeatInterval' | 'replayWindow' | 'maxFrameSize' | 'handshakeTimeout', Range> = {
  heartbeatInterval: [1, MAX_DELAY],
  replayWindow: [1, 1e6],
  maxFrameSize: [64, 2 ** 30],
  handshakeTimeout: [0, MAX_DELAY],
};
const RECONNECT_NUMBERS: Record<'maxRetries' | 'interval' | 'backoffMultiplier' | 'maxInterval', Range> = {
  maxRetries: [0, 1e6],
  interval: [0, MAX_DELAY],
  backoffMultiplier: [1, 100, false],
  maxInterval: [0, MAX_DELAY],
};

/** Throws InvalidArgumentError naming the option, what it must be, and what it got (shortened). */
function check(ok: boolean, name: string, expected: string, value: unknown): void {
  if (!ok) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
    throw new InvalidArgumentError(`EncryptedWebSocketClient option '${name}' must be ${expected}; got ${shown}`);
  }
}

function num(name: string, value: unknown, [min, max, integer]: Range): number {
  const ok = typeof value === 'number' && value >= min && value <= max && (integer === false || Number.isInteger(value));
  check(ok, name, `${integer === false ? 'a number' : 'an integer'} from ${min} to ${max}`, value);
  return value as number;
}

/** Each number of `ranges`, from `given` or else `defaults`, checked; `prefix` completes the option names. */
function numbers<K extends string>(given: Partial<Record<K, unknown>>, defaults: Record<K, number>, ranges: Record<K, Range>, prefix = ''): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const name of Object.keys(ranges) as K[]) out[name] = num(prefix + name, given[name] ?? defaults[name], ranges[name]);
  return out;
}

function bool(name: string, value: unknown): boolean {
  check(typeof value === 'boolean', name, 'true or false', value);
  return value as boolean;
}

function str(name: string, value: unknown, allowEmpty = false): string {
  check(typeof value === 'string' && (allowEmpty || value !== ''), name, allowEmpty ? 'a string' : 'a non-empty string', value);
  return value as string;
}

/** Whether `rooms` is an array of non-empty strings. */
export function isRoomList(rooms: unknown): rooms is string[] {
  return Array.isArray(rooms) && rooms.every((r) => typeof r === 'string' && r !== '');
}

/** Throws unless `token` can go into `authenticate`. */
export function checkToken(token: unknown): string {
  return str('token', token);
}

function checkVerifyKey(key: unknown): string | CryptoKey | undefined {
  if (typeof key === 'string') {
    assertRawP256PublicKey(base64ToBytes(key, 'serverVerifyKey'), 'serverVerifyKey');
  } else if (key !== undefined) {
    const k = Object(key) as Partial<CryptoKey> & { algorithm?: { name?: string; namedCurve?: string } };
    const ok = k.type === 'public' && k.algorithm?.name === 'ECDSA' && k.algorithm.namedCurve === 'P-256' && !!k.usages?.includes('verify');
    check(ok, 'serverVerifyKey', "base64 of a raw P-256 public key, or an ECDSA P-256 public CryptoKey with the 'verify' usage", kindOf(key));
  }
  return key as string | CryptoKey | undefined;
}

/**
 * Fills in defaults and rejects bad values up front.
 * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
 */
export function resolveClientOptions(opts: IEncryptedWSClientOptions): ResolvedClientOptions {
  check(isRecord(opts), 'options', 'an object', opts);
  const d = signalClientDefaults;
  const rooms = opts.autoJoinRooms ?? d.autoJoinRooms;
  check(isRoomList(rooms), 'autoJoinRooms', 'an array of non-empty strings', rooms);
  const logger = opts.logger ?? console;
  const methods = ['debug', 'info', 'warn', 'error'] as const;
  check(isRecord(logger) && methods.every((m) => typeof logger[m] === 'function'), 'logger', 'an object with debug, info, warn and error functions', logger);
  check(opts.WebSocket === undefined || typeof opts.WebSocket === 'function', 'WebSocket', 'a WebSocket constructor', opts.WebSocket);
  const given = (opts.reconnect ?? {}) as Record<string, unknown>;
  check(isRecord(given), 'reconnect', 'an object', given);
  const reconnect = {
    enabled: bool('reconnect.enabled', given.enabled ?? d.reconnect.enabled),
    ...numbers(given, d.reconnect, RECONNECT_NUMBERS, 'reconnect.'),
  };
  return {
    url: str('url', opts.url),
    ecdhInfo: str('ecdhInfo', opts.ecdhInfo, true),
    token: checkToken(opts.token),
    reconnect,
    ...numbers(opts, d, NUMBERS),
    autoJoinRooms: [...rooms],
    logger,
    WebSocket: opts.WebSocket,
    requireEncryption: bool('requireEncryption', opts.requireEncryption ?? d.requireEncryption),
    serverVerifyKey: checkVerifyKey(opts.serverVerifyKey),
  };
}
