/** Options of SecureSession: the one options type, its defaults and its up-front checks. */
import { resolveClientOptions, type WSSClientOptions } from '../client/options.js';
import { assertKey } from '../crypto/keys.js';
import { InvalidArgumentError } from '../errors.js';
import { hasOwn, isRecord } from '../protocol/guards.js';
import { ADVERT_KEY } from './local-keys.js';

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
}

/** Defaults of {@link SecureSessionOptions} (the `WSSClient` defaults apply to the rest). */
export const secureSessionDefaults = Object.freeze({
  info: 'wss-sessions/e2e',
  encryption: true,
  reconnect: Object.freeze({ enabled: true, maxRetries: Infinity, interval: 1000, backoffMultiplier: 2, maxInterval: 30_000, jitter: 0.5 }),
  queueSize: 100,
});

/** Reconnect settings with every member filled in. */
export type ResolvedReconnect = Required<ReconnectOptions>;

/** Options after defaults and checks. */
export interface ResolvedSecureOptions {
  /** Passed to each connection's `WSSClient`, without the SecureSession-only members. */
  client: WSSClientOptions;
  info: string;
  encryption: boolean;
  reconnect: ResolvedReconnect;
  queueSize: number;
  identity: CryptoKeyPair | null;
  requirePeerIdentity: boolean;
  verifyPeerIdentity: SecureSessionOptions['verifyPeerIdentity'] | undefined;
}

const CLIENT_KEYS = ['url', 'handshakeUrl', 'connectOptions', 'requestTimeout', 'userToken', 'WebSocket', 'fetch', 'maxFrameSize', 'logger'] as const;
const OWN_KEYS = ['info', 'encryption', 'reconnect', 'queueSize', 'identity', 'requirePeerIdentity', 'verifyPeerIdentity'] as const;
const RECONNECT_KEYS = Object.keys(secureSessionDefaults.reconnect);
const MAX_INFO_LENGTH = 1024;

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function nonNegative(name: string, value: unknown, allowInfinity = false): number {
  const ok = typeof value === 'number' && value >= 0 && (Number.isFinite(value) || (allowInfinity && value === Infinity));
  if (!ok) fail(`option '${name}' must be a number >= 0${allowInfinity ? ' or Infinity' : ''}, got ${String(value)}`);
  return value as number;
}

function resolveReconnect(value: unknown): ResolvedReconnect {
  if (value === undefined) return { ...secureSessionDefaults.reconnect };
  if (!isRecord(value)) fail("option 'reconnect' must be an object such as { enabled: true, interval: 1000 }");
  for (const key of Object.keys(value)) {
    if (!RECONNECT_KEYS.includes(key)) fail(`unknown option 'reconnect.${key}'; known: ${RECONNECT_KEYS.join(', ')}`);
  }
  const r = { ...secureSessionDefaults.reconnect, ...Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) };
  if (typeof r.enabled !== 'boolean') fail(`option 'reconnect.enabled' must be true or false, got ${String(r.enabled)}`);
  const maxRetries = nonNegative('reconnect.maxRetries', r.maxRetries, true);
  if (maxRetries !== Infinity && !Number.isInteger(maxRetries)) fail(`option 'reconnect.maxRetries' must be an integer or Infinity, got ${maxRetries}`);
  const interval = nonNegative('reconnect.interval', r.interval);
  const maxInterval = nonNegative('reconnect.maxInterval', r.maxInterval);
  if (maxInterval < interval) fail(`option 'reconnect.maxInterval' (${maxInterval}) must not be below 'reconnect.interval' (${interval})`);
  if (maxInterval > 2 ** 31 - 1) fail(`option 'reconnect.maxInterval' must be at most ${2 ** 31 - 1} ms (the timer limit)`);
  const backoffMultiplier = nonNegative('reconnect.backoffMultiplier', r.backoffMultiplier);
  if (backoffMultiplier < 1) fail(`option 'reconnect.backoffMultiplier' must be >= 1, got ${backoffMultiplier}`);
  const jitter = nonNegative('reconnect.jitter', r.jitter);
  if (jitter > 1) fail(`option 'reconnect.jitter' must be between 0 and 1, got ${jitter}`);
  return { enabled: r.enabled, maxRetries, interval, backoffMultiplier, maxInterval, jitter };
}

function checkIdentity(identity: unknown): CryptoKeyPair {
  if (!isRecord(identity)) fail("option 'identity' must be an ECDSA P-256 CryptoKeyPair from generateSigningKeyPair()");
  try {
    assertKey(identity.privateKey, 'identity.privateKey', { type: 'private', algorithm: 'ECDSA', namedCurve: 'P-256', usage: 'sign' });
    assertKey(identity.publicKey, 'identity.publicKey', { type: 'public', algorithm: 'ECDSA', namedCurve: 'P-256' });
  } catch (cause) {
    throw new InvalidArgumentError(`option 'identity' is not a usable ECDSA P-256 key pair: ${(cause as Error).message}`, { cause });
  }
  if (!(identity.publicKey as CryptoKey).extractable) fail("option 'identity.publicKey' must be extractable (it is published to peers)");
  return identity as unknown as CryptoKeyPair;
}

function checkKnownKeys(options: Record<string, unknown>): void {
  const known: readonly string[] = [...CLIENT_KEYS, ...OWN_KEYS];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) fail(`unknown option '${key}'; known: ${known.join(', ')}`);
  }
}

function checkEncryptionCombos(options: SecureSessionOptions, encryption: boolean): void {
  if (encryption) return;
  for (const name of ['identity', 'requirePeerIdentity', 'verifyPeerIdentity'] as const) {
    if (options[name] !== undefined) fail(`option '${name}' needs 'encryption: true'; remove it or enable encryption`);
  }
}

/**
 * Applies {@link secureSessionDefaults} and rejects bad options and bad combinations, naming them.
 * @throws {InvalidArgumentError}
 */
export function resolveSecureOptions(options: SecureSessionOptions): ResolvedSecureOptions {
  if (!isRecord(options)) fail('SecureSession needs an options object with at least { url }');
  checkKnownKeys(options);
  const { info = secureSessionDefaults.info, encryption = secureSessionDefaults.encryption } = options;
  if (typeof info !== 'string' || info === '' || info.length > MAX_INFO_LENGTH) fail(`option 'info' must be a non-empty string of at most ${MAX_INFO_LENGTH} characters`);
  if (typeof encryption !== 'boolean') fail(`option 'encryption' must be true or false, got ${String(encryption)}`);
  checkEncryptionCombos(options, encryption);
  const reconnect = resolveReconnect(options.reconnect);
  if (options.queueSize !== undefined && !reconnect.enabled) fail("option 'queueSize' needs 'reconnect.enabled: true' (the queue only holds sends made while reconnecting)");
  const queueSize = nonNegative('queueSize', options.queueSize ?? secureSessionDefaults.queueSize);
  if (!Number.isInteger(queueSize)) fail(`option 'queueSize' must be an integer, got ${queueSize}`);
  const identity = options.identity === undefined ? null : checkIdentity(options.identity);
  if (options.requirePeerIdentity !== undefined && typeof options.requirePeerIdentity !== 'boolean') fail("option 'requirePeerIdentity' must be true or false");
  if (options.verifyPeerIdentity !== undefined && typeof options.verifyPeerIdentity !== 'function') fail("option 'verifyPeerIdentity' must be a function");
  if (isRecord(options.connectOptions) && hasOwn(options.connectOptions, ADVERT_KEY)) {
    fail(`option 'connectOptions.${ADVERT_KEY}' is reserved: SecureSession publishes its keys there`);
  }
  const client: WSSClientOptions = Object.fromEntries(CLIENT_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as unknown as WSSClientOptions;
  resolveClientOptions(client);
  return {
    client,
    info,
    encryption,
    reconnect,
    queueSize,
    identity,
    requirePeerIdentity: options.requirePeerIdentity ?? identity !== null,
    verifyPeerIdentity: options.verifyPeerIdentity,
  };
}

/**
 * The wait before reconnect attempt `attempt` (from 1): `interval × multiplier^(attempt−1)`,
 * capped at `maxInterval`, then multiplied by a random factor in [1 − jitter, 1].
 */
export function backoffDelay(attempt: number, r: ResolvedReconnect, random: () => number = Math.random): number {
  const base = Math.min(r.maxInterval, r.interval * r.backoffMultiplier ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - r.jitter * random()));
}
