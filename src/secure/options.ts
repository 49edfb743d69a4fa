/** Options of SecureSession: the one options type, its defaults and its up-front checks. */
import { resolveClientOptions, wssClientDefaults, type WSSClientOptions } from '../client/options.js';
import { InvalidArgumentError } from '../errors.js';
import { hasOwn, isRecord } from '../protocol/guards.js';
import { backoffBase } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';

/** Reconnect behaviour after the socket drops without `disconnect()`. */
export interface ReconnectOptions {
  /** Reconnect at all. Default: true. */
  enabled?: boolean;
  /** Attempts per outage before giving up with `reconnect_failed`; `Infinity` never gives up. Default: Infinity. */
  maxRetries?: number;
  /** Delay before the first attempt, in ms. Default: 1000. */
  interval?: number;
  /** Each further attempt waits this many times longer. Default: 2. */
  backoffMultiplier?: number;
  /** Longest delay between attempts, in ms. Default: 30000. */
  maxInterval?: number;
  /** Random share taken off each delay: the delay is multiplied by a factor in [1 − jitter, 1]. Default: 0.5. */
  jitter?: number;
  /**
   * A first `connect()` that fails is retried on the same schedule (`reconnecting` fires before
   * each retry, the state stays `'connecting'`); `connect()` rejects with the last error after
   * `maxRetries` retries. Needs `enabled` and `maxRetries` of at least 1. Default: false.
   */
  retryFirstConnect?: boolean;
}

/** What {@link SecureSessionOptions.verifyPeerIdentity} is asked about. */
export interface PeerIdentityInfo {
  /** The peer's private ID when its key was checked. */
  privateId: string;
  /** Raw 65-byte ECDSA P-256 identity public key the peer published (its signature already checked). */
  identityKey: Uint8Array;
  /** Safety number of that key, as `identityFingerprint()` gives it. */
  identityFingerprint: string;
}

/** Options of `SecureSession`: every `WSSClient` option plus the ones below. */
export interface SecureSessionOptions extends WSSClientOptions {
  /**
   * Application label bound into every key, safety number and identity
   * signature; peers must use the same label to talk. At most 1024 characters.
   * Default: 'wss-sessions/e2e'.
   */
  info?: string;
  /**
   * End-to-end encryption. `false` keeps the same session, queue and reconnect
   * behaviour with plaintext messages (and cannot be combined with the identity options).
   * Default: true.
   */
  encryption?: boolean;
  /** Reconnect settings; missing members take their defaults. Default: see {@link ReconnectOptions}. */
  reconnect?: ReconnectOptions;
  /**
   * Sends made while reconnecting wait in a queue of this many messages;
   * beyond it they reject with `QueueFullError`. Needs `reconnect.enabled`.
   * Default: 100.
   */
  queueSize?: number;
  /**
   * Most frames (messages, peer announcements, updates) waiting for their keys to be checked
   * or their decryption, to be delivered in arrival order. One more closes the connection
   * (code 1008 where the platform lets a client send it) with a `QueueFullError` on `error`,
   * drops what was waiting, and reconnects as after any drop. Default: 4096.
   */
  maxBacklogFrames?: number;
  /**
   * Most bytes those frames may hold (the size of their data as received: strings by their
   * length). Past it: as past `maxBacklogFrames`. At least `maxFrameSize`.
   * Default: 16 MiB, or `maxFrameSize` when that is larger.
   */
  maxBacklogBytes?: number;
  /**
   * Peer keys that delivered messages and then left this connection's peer list, remembered
   * with their counters for the rest of the connection, so that a relay announcing one again
   * cannot replay its messages. One more renews this session's own keys: the connection is
   * closed (code 1008) with a `ProtocolError` on `error` and reconnects, after which nothing
   * sent to the old keys can be read. Default: 4096.
   */
  maxRetiredPeerKeys?: number;
  /**
   * Long-term ECDSA P-256 key pair (`generateSigningKeyPair()`); its signature
   * over each connection's ephemeral key lets peers detect a replaced key.
   * Needs `encryption`. Default: none.
   */
  identity?: CryptoKeyPair;
  /**
   * Peers without a valid identity signature are never used for encryption.
   * Needs `encryption`. Default: true when `identity` is set, else false.
   */
  requirePeerIdentity?: boolean;
  /**
   * Pins identities: called for each validly signed peer identity; `false`
   * makes that peer unusable (`peerkey` with `verified: false`). Needs `encryption`.
   * Default: every validly signed identity is accepted.
   */
  verifyPeerIdentity?: (peer: PeerIdentityInfo) => boolean | Promise<boolean>;
  /**
   * `'reliable'`: every message to a peer that runs reliable delivery too carries a
   * sequence number inside the encryption, is kept until that peer's session confirms
   * it (an encrypted receipt), re-sent under the new keys after either side reconnected,
   * and delivered exactly once and in order, across reconnects and relay restarts.
   * Messages to other peers go at most once. `'at-most-once'`: each message is sealed
   * once and never re-sent; a relay that loses it loses it. Needs `encryption`.
   * Default: 'at-most-once'.
   */
  delivery?: 'at-most-once' | 'reliable';
  /**
   * Milliseconds a reliable message is kept for a recipient that has not confirmed it;
   * then it is given up (`undelivered`, `DeliveryTimeoutError`). Needs `delivery: 'reliable'`.
   * Default: 60000.
   */
  deliveryTimeout?: number;
  /**
   * Most reliable messages kept unconfirmed (each counts once, whatever its number of
   * recipients); one more makes `send()`, `broadcast()` or `request()` reject with
   * `QueueFullError`. Needs `delivery: 'reliable'`. Default: 4096.
   */
  maxUnackedMessages?: number;
  /**
   * Most characters of JSON those messages may hold; past it: as past `maxUnackedMessages`.
   * Needs `delivery: 'reliable'`. Default: 16 MiB.
   */
  maxUnackedBytes?: number;
  /**
   * Most messages sent to one peer session and not yet confirmed by its receipt; later
   * ones wait unsent until receipts come back. Needs `delivery: 'reliable'`. Default: 1024.
   */
  receiptWindow?: number;
  /**
   * Peer sessions remembered for delivery (their sequence numbers, both ways). One more
   * forgets the least recently active one that is not connected and has nothing
   * unconfirmed; with none such, the new session is refused until one frees.
   * Needs `delivery: 'reliable'`. Default: 4096.
   */
  maxPeerSessions?: number;
  /**
   * Most requests waiting for answers, and most peers' requests being handled at once.
   * One more `request()` rejects with `QueueFullError`; one more incoming request is
   * answered with an error at once. Needs `encryption`. Default: 1024.
   */
  maxPendingRequests?: number;
}

/** Defaults of {@link SecureSessionOptions} (the `WSSClient` defaults apply to the rest). */
export const secureSessionDefaults = Object.freeze({
  info: 'wss-sessions/e2e',
  encryption: true,
  reconnect: Object.freeze({
    enabled: true,
    maxRetries: Infinity,
    interval: 1000,
    backoffMultiplier: 2,
    maxInterval: 30_000,
    jitter: 0.5,
    retryFirstConnect: false,
  }),
  queueSize: 100,
  maxBacklogFrames: 4096,
  /** 16 MiB (or `maxFrameSize` when that is larger). */
  maxBacklogBytes: 2 ** 24,
  maxRetiredPeerKeys: 4096,
  delivery: 'at-most-once',
  deliveryTimeout: 60_000,
  maxUnackedMessages: 4096,
  /** 16 MiB. */
  maxUnackedBytes: 2 ** 24,
  receiptWindow: 1024,
  maxPeerSessions: 4096,
  maxPendingRequests: 1024,
});

/** The reliable delivery settings, resolved. */
export interface ResolvedDelivery {
  deliveryTimeout: number;
  maxUnackedMessages: number;
  maxUnackedBytes: number;
  receiptWindow: number;
  maxPeerSessions: number;
}

/** Reconnect settings with every member filled in. */
export type ResolvedReconnect = Required<ReconnectOptions>;

/** Options after defaults and checks. */
export interface ResolvedSecureOptions {
  /** Passed to each connection's `WSSClient`, without the SecureSession-only members. */
  client: WSSClientOptions;
  /** The client's logger, with its default. */
  logger: Logger;
  info: string;
  encryption: boolean;
  reconnect: ResolvedReconnect;
  queueSize: number;
  maxBacklogFrames: number;
  maxBacklogBytes: number;
  maxRetiredPeerKeys: number;
  identity: CryptoKeyPair | undefined;
  requirePeerIdentity: boolean;
  verifyPeerIdentity: SecureSessionOptions['verifyPeerIdentity'];
  /** With `delivery: 'reliable'`; `null` for at most once. */
  delivery: ResolvedDelivery | null;
  maxPendingRequests: number;
}

/** Longest timer delay (ms) the platforms honour; also bounds the multiplier and the queue. */
const LIMIT = 2 ** 31 - 1;
/** Options without a default here: the identity ones, and the `WSSClient` ones without a default there (all checked by `resolveClientOptions`). */
const OTHER_KEYS = 'identity requirePeerIdentity verifyPeerIdentity url handshakeUrl userToken WebSocket fetch'.split(
  ' ',
);

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

/** Throws unless `ok`, naming the option and what it must be. */
function must(name: string, ok: unknown, what: string): void {
  if (!ok) fail(`option '${name}' must be ${what}`);
}

const typed = (name: string, value: unknown, type: string): void =>
  must(name, value === undefined || typeof value === type, `a ${type}`);

/** A number in [min, max]; with `integer` a whole one (`Infinity` counts, as `Infinity % 1` is NaN). NaN fails the range. */
const range = (name: string, value: unknown, min: number, max: number, integer?: boolean): void =>
  must(
    name,
    typeof value === 'number' && value >= min && value <= max && !(integer && value % 1),
    `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
  );

/** Whether `key` is an ECDSA P-256 CryptoKey of this type. */
const isEcdsaKey = (key: Partial<CryptoKey> | undefined, type: KeyType): boolean =>
  key?.type === type &&
  (key.algorithm as EcKeyAlgorithm | undefined)?.name === 'ECDSA' &&
  (key.algorithm as EcKeyAlgorithm).namedCurve === 'P-256';

/** Fills in and checks the reconnect settings. */
function resolveReconnect(reconnect: unknown): ResolvedReconnect {
  must('reconnect', isRecord(reconnect), 'an object');
  const r: Record<string, unknown> = { ...secureSessionDefaults.reconnect };
  for (const [key, value] of Object.entries(reconnect as object)) {
    if (!hasOwn(r, key)) fail(`unknown option 'reconnect.${key}'`);
    if (value !== undefined) r[key] = value;
  }
  typed('reconnect.enabled', r.enabled, 'boolean');
  typed('reconnect.retryFirstConnect', r.retryFirstConnect, 'boolean');
  for (const [key, min, max, integer] of [
    ['maxRetries', 0, Infinity, true],
    ['interval', 0, LIMIT],
    ['maxInterval', r.interval as number, LIMIT],
    ['backoffMultiplier', 1, LIMIT],
    ['jitter', 0, 1],
  ] as const) {
    range(`reconnect.${key}`, r[key], min, max, integer);
  }
  if (r.retryFirstConnect && !r.enabled) fail("option 'reconnect.retryFirstConnect' needs 'reconnect.enabled: true'");
  if (r.retryFirstConnect && r.maxRetries === 0)
    fail("option 'reconnect.retryFirstConnect' needs 'reconnect.maxRetries' of at least 1");
  return r as ResolvedReconnect;
}

const DELIVERY_KEYS = [
  'deliveryTimeout',
  'maxUnackedMessages',
  'maxUnackedBytes',
  'receiptWindow',
  'maxPeerSessions',
] as const;

/** Fills in and checks the delivery and request options, against each other and against `encryption`. */
function resolveDelivery(
  options: SecureSessionOptions,
  encryption: boolean,
): Pick<ResolvedSecureOptions, 'delivery' | 'maxPendingRequests'> {
  const { delivery = secureSessionDefaults.delivery, maxPendingRequests = secureSessionDefaults.maxPendingRequests } =
    options;
  must('delivery', delivery === 'reliable' || delivery === 'at-most-once', "'at-most-once' or 'reliable'");
  if (delivery === 'reliable' && !encryption) fail("option 'delivery: reliable' needs 'encryption: true'");
  range('maxPendingRequests', maxPendingRequests, 1, LIMIT, true);
  if (options.maxPendingRequests !== undefined && !encryption)
    fail("option 'maxPendingRequests' needs 'encryption: true'");
  const resolved = {} as ResolvedDelivery;
  for (const key of DELIVERY_KEYS) {
    const value = options[key];
    if (value !== undefined && delivery !== 'reliable') fail(`option '${key}' needs 'delivery: reliable'`);
    resolved[key] = value ?? secureSessionDefaults[key];
    range(key, resolved[key], 1, key === 'maxUnackedBytes' ? Number.MAX_SAFE_INTEGER : LIMIT, true);
  }
  return { delivery: delivery === 'reliable' ? resolved : null, maxPendingRequests };
}

/** The client's options: what is left of a SecureSession's once its delivery and request options are taken out. */
function clientPart(rest: WSSClientOptions): WSSClientOptions {
  const client = { ...rest };
  for (const key of ['delivery', 'maxPendingRequests', ...DELIVERY_KEYS])
    delete (client as Record<string, unknown>)[key];
  return client;
}

/** Checks the identity options against each other and against `encryption`. */
function checkIdentity(options: SecureSessionOptions, encryption: boolean, requirePeerIdentity: unknown): void {
  const { identity, verifyPeerIdentity } = options;
  typed('requirePeerIdentity', requirePeerIdentity, 'boolean');
  typed('verifyPeerIdentity', verifyPeerIdentity, 'function');
  must(
    'identity',
    !identity ||
      (isEcdsaKey(identity.privateKey, 'private') &&
        identity.privateKey.usages?.includes('sign') &&
        isEcdsaKey(identity.publicKey, 'public') &&
        identity.publicKey.extractable),
    'an ECDSA P-256 key pair with an extractable public key',
  );
  for (const name of ['identity', 'requirePeerIdentity', 'verifyPeerIdentity'] as const)
    if (options[name] !== undefined && !encryption) fail(`option '${name}' needs 'encryption: true'`);
}

/**
 * Applies {@link secureSessionDefaults} and rejects unknown or bad options and
 * bad combinations, naming them. The defaults pass the same checks.
 * @throws {InvalidArgumentError}
 */
export function resolveSecureOptions(options: SecureSessionOptions): ResolvedSecureOptions {
  if (!isRecord(options)) fail('SecureSession needs an options object');
  const d = secureSessionDefaults;
  for (const key of Object.keys(options))
    if (!hasOwn(d, key) && !hasOwn(wssClientDefaults, key) && !OTHER_KEYS.includes(key))
      fail(`unknown option '${key}'`);
  const {
    info = d.info,
    encryption = d.encryption,
    reconnect = {},
    queueSize = d.queueSize,
    maxBacklogFrames = d.maxBacklogFrames,
    maxBacklogBytes,
    maxRetiredPeerKeys = d.maxRetiredPeerKeys,
    identity,
    requirePeerIdentity = !!identity,
    verifyPeerIdentity,
    ...rest
  } = options;
  const client = clientPart(rest);
  const r = resolveReconnect(reconnect);
  const { logger, maxFrameSize } = resolveClientOptions(client);
  must('info', typeof info === 'string' && info.length > 0 && info.length <= 1024, 'a string of 1 to 1024 characters');
  typed('encryption', encryption, 'boolean');
  checkIdentity(options, encryption, requirePeerIdentity);
  range('queueSize', queueSize, 0, LIMIT, true);
  if (options.queueSize !== undefined && !r.enabled) fail("option 'queueSize' needs 'reconnect.enabled: true'");
  range('maxBacklogFrames', maxBacklogFrames, 1, LIMIT, true);
  range('maxRetiredPeerKeys', maxRetiredPeerKeys, 0, LIMIT, true);
  const backlogBytes = maxBacklogBytes ?? Math.max(d.maxBacklogBytes, maxFrameSize);
  range('maxBacklogBytes', backlogBytes, 1, Number.MAX_SAFE_INTEGER, true);
  if (backlogBytes < maxFrameSize)
    fail(`option 'maxBacklogBytes' (${backlogBytes}) must be at least 'maxFrameSize' (${maxFrameSize})`);
  if (isRecord(client.connectOptions) && hasOwn(client.connectOptions, 'e2e'))
    fail("option 'connectOptions.e2e' is reserved");
  return {
    client,
    logger,
    info,
    encryption,
    reconnect: r,
    queueSize,
    maxBacklogFrames,
    maxBacklogBytes: backlogBytes,
    maxRetiredPeerKeys,
    identity,
    requirePeerIdentity,
    verifyPeerIdentity,
    ...resolveDelivery(options, encryption),
  };
}

/**
 * The wait before reconnect attempt `attempt` (from 1): `interval × multiplier^(attempt−1)`,
 * capped at `maxInterval`, then multiplied by a random factor in [1 − jitter, 1].
 */
export function backoffDelay(attempt: number, r: ResolvedReconnect, random: () => number = Math.random): number {
  return Math.round(backoffBase(attempt, r) * (1 - r.jitter * random()));
}
