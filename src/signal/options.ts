/** Options of {@link EncryptedWebSocketClient}, their defaults and their validation. */
import { InvalidArgumentError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { checkRawP256 } from '../crypto/ecdh.js';
import { isRecord, isStringArray } from '../protocol/guards.js';
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

// setTimeout fires at once for longer delays.
const MAX_DELAY = 2 ** 31 - 1;

/** Allowed range of each numeric option (a top-level or a `reconnect` member); all are integers but backoffMultiplier. */
const RANGES: Record<string, readonly [min: number, max: number]> = {
  heartbeatInterval: [1, MAX_DELAY],
  replayWindow: [1, 1e6],
  maxFrameSize: [64, 2 ** 30],
  handshakeTimeout: [0, MAX_DELAY],
  maxRetries: [0, 1e6],
  interval: [0, MAX_DELAY],
  backoffMultiplier: [1, 100],
  maxInterval: [0, MAX_DELAY],
};

/** Throws InvalidArgumentError naming the option (`''`: the options object) and what it must be. */
function check(ok: unknown, name: string, expected: string): void {
  if (!ok) throw new InvalidArgumentError(`EncryptedWebSocketClient option${name ? ` '${name}'` : 's'} must be ${expected}`);
}

/** Throws unless `token` can go into `authenticate`. */
export function checkToken(token: unknown): string {
  check(typeof token === 'string' && token, 'token', 'a non-empty string');
  return token as string;
}

/**
 * `given` with every member of `defaults` filled in, each checked against the
 * type of its default: booleans, numbers in {@link RANGES}, room lists, and
 * nested objects (checked the same way). Other members are copied unchecked.
 */
function withDefaults(given: unknown, defaults: object, prefix = ''): Record<string, unknown> {
  check(isRecord(given), prefix.slice(0, -1), 'an object');
  const out: Record<string, unknown> = { ...(given as object) };
  for (const key in defaults) {
    const fallback = (defaults as Record<string, unknown>)[key];
    const name = prefix + key;
    const value = (out[key] ??= fallback);
    if (typeof fallback === 'boolean') {
      check(typeof value === 'boolean', name, 'true or false');
    } else if (typeof fallback === 'number') {
      const [min, max] = RANGES[key]!;
      const integer = key !== 'backoffMultiplier';
      const ok = typeof value === 'number' && value >= min && value <= max && (!integer || Number.isInteger(value));
      check(ok, name, `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    } else if (Array.isArray(fallback)) {
      check(isStringArray(value), name, 'an array of non-empty strings');
      out[key] = [...(value as string[])];
    } else {
      out[key] = withDefaults(value, fallback as object, `${name}.`);
    }
  }
  return out;
}

/**
 * Fills in defaults and rejects bad values up front.
 * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
 */
export function resolveClientOptions(opts: IEncryptedWSClientOptions): ResolvedClientOptions {
  const o = withDefaults(opts, signalClientDefaults) as unknown as ResolvedClientOptions;
  check(typeof o.url === 'string' && o.url, 'url', 'a non-empty string');
  check(typeof o.ecdhInfo === 'string', 'ecdhInfo', 'a string');
  checkToken(o.token);
  const logger = (o.logger ??= console);
  check(['debug', 'info', 'warn', 'error'].every((m) => typeof (logger as unknown as Record<string, unknown>)[m] === 'function'), 'logger', 'a logger with debug, info, warn and error');
  check(o.WebSocket === undefined || typeof o.WebSocket === 'function', 'WebSocket', 'a WebSocket constructor');
  const key = o.serverVerifyKey;
  if (typeof key === 'string') {
    checkRawP256(base64ToBytes(key, 'serverVerifyKey'), 'serverVerifyKey');
  } else if (key !== undefined) {
    // Of the keys on a named curve (EC), only ECDSA public keys can have the 'verify' usage.
    const k = Object(key) as Partial<CryptoKey> & { algorithm?: { namedCurve?: string } };
    check(k.algorithm?.namedCurve === 'P-256' && k.usages?.includes('verify'), 'serverVerifyKey', "a base64 raw P-256 key or an ECDSA P-256 CryptoKey with the 'verify' usage");
  }
  return o;
}
