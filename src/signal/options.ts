/** Options of {@link EncryptedWebSocketClient}, their defaults and their validation. */
import { InvalidArgumentError } from '../errors.js';
import { checkRawP256 } from '../crypto/ecdh.js';
import { isRecord, isStringArray } from '../protocol/guards.js';
import { decodeBase64 } from '../crypto/base64.js';
import type { WebSocketConstructor } from '../transport/websocket.js';
import type { IWSLogger } from './types.js';

/**
 * Reconnection settings. Every number must lie between its minimum (0 unless
 * said otherwise) and 2147483647 (setTimeout's limit).
 */
export interface IReconnectOptions {
  /** Reconnect after an unexpected close. Default: true. */
  enabled?: boolean;
  /** Reconnection attempts before giving up with `reconnect_failed`. Default: 5. */
  maxRetries?: number;
  /** Base delay before the first retry, in ms. Default: 3000. */
  interval?: number;
  /** Each further retry waits this many times longer; at least 1. Default: 1.5. */
  backoffMultiplier?: number;
  /** Cap on the delay before jitter, in ms. Default: 30000. */
  maxInterval?: number;
}

/**
 * Options of the Signal client. The first eight are the original client's,
 * with the same defaults. The constructor rejects a bad value with an
 * InvalidArgumentError naming the option: booleans must be booleans, room
 * lists arrays of non-empty strings, and numbers lie between their minimum (0
 * unless said otherwise) and 2147483647.
 */
export interface IEncryptedWSClientOptions {
  /** WebSocket server URL, e.g. `'wss://signal.example.com/stream'`. Required. */
  url: string;
  /** HKDF info string; must match the server's exactly. Required. */
  ecdhInfo: string;
  /** JWT Bearer token sent in `authenticate`. Required; replace it with `updateToken()`. */
  token: string;
  /** Reconnection settings; see {@link IReconnectOptions}. */
  reconnect?: IReconnectOptions;
  /** Milliseconds between `heartbeat` frames once authenticated; at least 1. Default: 30000 (the server drops clients silent for 90 s). */
  heartbeatInterval?: number;
  /** Rooms joined after every successful authentication (so re-joined on reconnect). Default: []. */
  autoJoinRooms?: string[];
  /** Where the client logs: an object with debug, info, warn and error methods. Default: console. */
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
   * or an ECDSA P-256 public `CryptoKey` with the `verify` usage). When set,
   * `connected` must carry a valid `signature` over clientPublicKey ‖
   * serverPublicKey ‖ salt; otherwise the client closes and does not
   * reconnect on its own. Default: none (no server authentication).
   */
  serverVerifyKey?: string | CryptoKey;
  /**
   * How many recent IVs of this connection (received and sent) are remembered
   * to reject replayed and reflected `encrypted` frames; at least 1. Default: 4096.
   */
  replayWindow?: number;
  /** Largest incoming frame in characters, at least 64; larger frames are dropped with an error event. Default: 1048576. */
  maxFrameSize?: number;
  /** Milliseconds to wait for `connected` after `authenticate` before closing and retrying; 0 waits forever. Default: 15000. */
  handshakeTimeout?: number;
  /**
   * Most incoming frames waiting their turn (being decrypted, or decrypted and
   * waiting for an earlier frame) on one connection; at least 1. (On Node a
   * frame of up to 1 MiB is decrypted synchronously as it arrives, so frames
   * wait only behind the key agreement or a larger frame.) A frame past
   * this cap is refused: the client closes the connection (1008; a plain close
   * where the platform refuses that code), delivers the frames it had
   * accepted, emits a `QueueFullError` on `error` and reconnects as after any
   * drop. Default: 4096.
   */
  maxBacklogFrames?: number;
  /**
   * Most characters of incoming frames waiting their turn on one connection
   * (bytes, for the ASCII of `encrypted` frames); at least `maxFrameSize`.
   * Past it, the same as past `maxBacklogFrames`. Default: 8388608 (8 MiB).
   */
  maxBacklogBytes?: number;
  /**
   * Most `send()` calls of application events in progress on one connection
   * (being encrypted, or waiting for an earlier send to go out); at least 1.
   * Past it, `send()` rejects at once with a `QueueFullError` and sends
   * nothing; the connection is not affected. Default: 4096.
   */
  maxPendingSends?: number;
}

/** The defaults of every optional member of {@link IEncryptedWSClientOptions}. */
export const signalClientDefaults = Object.freeze({
  reconnect: Object.freeze({
    enabled: true,
    maxRetries: 5,
    interval: 3000,
    backoffMultiplier: 1.5,
    maxInterval: 30_000,
  }),
  heartbeatInterval: 30_000,
  autoJoinRooms: Object.freeze([]) as readonly string[],
  requireEncryption: true,
  replayWindow: 4096,
  maxFrameSize: 2 ** 20,
  handshakeTimeout: 15_000,
  maxBacklogFrames: 4096,
  maxBacklogBytes: 8 * 2 ** 20,
  maxPendingSends: 4096,
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
  maxBacklogFrames: number;
  maxBacklogBytes: number;
  maxPendingSends: number;
}

/** The numeric options whose minimum is not 0 (a top-level or a `reconnect` member). */
const MIN: Record<string, number> = {
  heartbeatInterval: 1,
  replayWindow: 1,
  maxFrameSize: 64,
  backoffMultiplier: 1,
  maxBacklogFrames: 1,
  maxPendingSends: 1,
};

/** What a room list must be (`autoJoinRooms`, `joinRooms`, `leaveRooms`). */
export const ROOMS = 'an array of non-empty strings';

/** What `url` must be, as the errors say: when it is not a non-empty string up front, and when the WebSocket constructor refuses it. */
export const WS_URL = 'a ws:// or wss:// URL';

/** The InvalidArgumentError for option `name` (`''`: the options object): it must be `must`. */
export function optionError(name: string, must: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`EncryptedWebSocketClient option${name ? ` '${name}'` : 's'} must be ${must}`, {
    cause,
  });
}

/** Throws {@link optionError} unless `ok`. */
function check(ok: unknown, name: string, must: string): asserts ok {
  if (!ok) throw optionError(name, must);
}

/** Throws unless `token` can go into `authenticate`. */
export function checkToken(token: unknown): string {
  check(typeof token === 'string' && token, 'token', 'a non-empty string');
  return token;
}

/**
 * `given` with every member of `defaults` filled in, each checked against the
 * type of its default: booleans, numbers from their {@link MIN} (else 0) to
 * 2^31 − 1 (setTimeout fires at once for longer delays), room lists, and
 * nested objects (checked the same way). Other members are copied unchecked.
 */
function withDefaults(given: unknown, defaults: object, prefix = ''): Record<string, unknown> {
  check(isRecord(given), prefix.slice(0, -1), 'an object');
  const out: Record<string, unknown> = { ...given };
  for (const [key, fallback] of Object.entries(defaults)) {
    const name = prefix + key;
    out[key] ??= fallback;
    const value = out[key];
    const min = MIN[key] ?? 0;
    if (Array.isArray(fallback)) {
      check(isStringArray(value), name, ROOMS);
      out[key] = [...value];
    } else if (typeof fallback === 'object') {
      out[key] = withDefaults(value, fallback, `${name}.`);
    } else {
      // Booleans compare as 0 and 1, so one range check serves both types (and refuses NaN).
      check(
        typeof value === typeof fallback && (value as number) >= min && (value as number) < 2 ** 31,
        name,
        typeof fallback === 'number' ? `a number in [${min}, 2^31)` : 'true or false',
      );
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
  check(typeof o.url === 'string' && o.url, 'url', WS_URL);
  check(typeof o.ecdhInfo === 'string', 'ecdhInfo', 'a string');
  // One frame of the largest size must fit, or such a frame would always close the connection.
  check(o.maxBacklogBytes >= o.maxFrameSize, 'maxBacklogBytes', `at least maxFrameSize (${o.maxFrameSize})`);
  checkToken(o.token);
  o.logger ??= console;
  const logger = o.logger as unknown as Record<string, unknown>;
  const methods = ['debug', 'info', 'warn', 'error'];
  check(
    methods.every((m) => typeof logger[m] === 'function'),
    'logger',
    `an object with methods ${methods}`,
  );
  check(typeof (o.WebSocket ?? Object) === 'function', 'WebSocket', 'a WebSocket constructor');
  const key = o.serverVerifyKey as (Partial<CryptoKey> & { algorithm?: { namedCurve?: string } }) | string | undefined;
  const what = 'serverVerifyKey';
  if (typeof key === 'string') checkRawP256(decodeBase64(key), `${what} (base64)`);
  // Of the keys on a named curve (EC), only ECDSA public keys can have the 'verify' usage.
  else
    check(
      key === undefined || (key?.algorithm?.namedCurve === 'P-256' && key.usages?.includes('verify')),
      what,
      'a base64 P-256 key or an ECDSA P-256 verify CryptoKey',
    );
  return o;
}
