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
const IDENTITY_KEYS = ['identity', 'requirePeerIdentity', 'verifyPeerIdentity'] as const;
const KNOWN_KEYS: readonly string[] = [...CLIENT_KEYS, 'info', 'encryption', 'reconnect', 'queueSize', ...IDENTITY_KEYS];
/** Longest timer delay (ms) the platforms honour; also bounds the multiplier and the queue. */
const LIMIT = 2 ** 31 - 1;
/** Numeric reconnect members: [name, min, max, integer]. `max: Infinity` admits Infinity itself. */
const RECONNECT_NUMBERS = [
  ['maxRetries', 0, Infinity, true],
  ['interval', 0, LIMIT, false],
  ['maxInterval', 0, LIMIT, false],
  ['backoffMultiplier', 1, LIMIT, false],
  ['jitter', 0, 1, false],
] as const;

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function checkNumber(name: string, value: unknown, min: number, max: number, integer: boolean): void {
  if (typeof value !== 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value) && value !== Infinity)) {
    fail(`option '${name}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`);
  }
}

function checkType(name: string, value: unknown, type: 'boolean' | 'function' | 'string'): void {
  if (value !== undefined && typeof value !== type) fail(`option '${name}' must be a ${type}, got ${typeof value}`);
}

function checkKnown(value: Record<string, unknown>, known: readonly string[], prefix = ''): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) fail(`unknown option '${prefix}${key}'; known: ${known.join(', ')}`);
  }
}

function resolveReconnect(value: unknown): ResolvedReconnect {
  if (value === undefined) return { ...secureSessionDefaults.reconnect };
  if (!isRecord(value)) fail("option 'reconnect' must be an object such as { enabled: true, interval: 1000 }");
  const defaults = secureSessionDefaults.reconnect;
  checkKnown(value, Object.keys(defaults), 'reconnect.');
  const r: Record<string, unknown> = { ...defaults };
  for (const key of Object.keys(value)) if (value[key] !== undefined) r[key] = value[key];
  checkType('reconnect.enabled', r.enabled, 'boolean');
  for (const [key, min, max, integer] of RECONNECT_NUMBERS) checkNumber(`reconnect.${key}`, r[key], min, max, integer);
  if ((r.maxInterval as number) < (r.interval as number)) fail(`option 'reconnect.maxInterval' (${r.maxInterval}) must not be below 'reconnect.interval' (${r.interval})`);
  return r as ResolvedReconnect;
}

function checkIdentity(identity: unknown): CryptoKeyPair {
  if (!isRecord(identity)) fail("option 'identity' must be an ECDSA P-256 CryptoKeyPair from generateSigningKeyPair()");
  try {
    assertKey(identity.privateKey, 'identity.privateKey', { type: 'private', algorithm: 'ECDSA', namedCurve: 'P-256', usage: 'sign' });
    assertKey(identity.publicKey, 'identity.publicKey', { type: 'public', algorithm: 'ECDSA', namedCurve: 'P-256' });
  } catch (cause) {
    throw new InvalidArgumentError(`option 'identity' is not a usable ECDSA P-256 key pair: ${(cause as Error).message}`, { cause });
  }
  if (!identity.publicKey.extractable) fail("option 'identity.publicKey' must be extractable (it is published to peers)");
  return identity as unknown as CryptoKeyPair;
}

/**
 * Applies {@link secureSessionDefaults} and rejects bad options and bad combinations, naming them.
 * @throws {InvalidArgumentError}
 */
export function resolveSecureOptions(options: SecureSessionOptions): ResolvedSecureOptions {
  if (!isRecord(options)) fail('SecureSession needs an options object with at least { url }');
  checkKnown(options, KNOWN_KEYS);
  const { info = secureSessionDefaults.info, encryption = secureSessionDefaults.encryption, requirePeerIdentity, verifyPeerIdentity } = options;
  if (typeof info !== 'string' || info === '' || info.length > 1024) fail("option 'info' must be a non-empty string of at most 1024 characters");
  checkType('encryption', encryption, 'boolean');
  if (!encryption) {
    for (const name of IDENTITY_KEYS) if (options[name] !== undefined) fail(`option '${name}' needs 'encryption: true'; remove it or enable encryption`);
  }
  const reconnect = resolveReconnect(options.reconnect);
  if (options.queueSize !== undefined && !reconnect.enabled) fail("option 'queueSize' needs 'reconnect.enabled: true' (the queue only holds sends made while reconnecting)");
  const queueSize = options.queueSize ?? secureSessionDefaults.queueSize;
  checkNumber('queueSize', queueSize, 0, LIMIT, true);
  const identity = options.identity === undefined ? null : checkIdentity(options.identity);
  checkType('requirePeerIdentity', requirePeerIdentity, 'boolean');
  checkType('verifyPeerIdentity', verifyPeerIdentity, 'function');
  if (isRecord(options.connectOptions) && hasOwn(options.connectOptions, ADVERT_KEY)) {
    fail(`option 'connectOptions.${ADVERT_KEY}' is reserved: SecureSession publishes its keys there`);
  }
  const client = Object.fromEntries(CLIENT_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as unknown as WSSClientOptions;
  resolveClientOptions(client);
  return { client, info, encryption, reconnect, queueSize, identity, requirePeerIdentity: requirePeerIdentity ?? identity !== null, verifyPeerIdentity };
}

/**
 * The wait before reconnect attempt `attempt` (from 1): `interval × multiplier^(attempt−1)`,
 * capped at `maxInterval`, then multiplied by a random factor in [1 − jitter, 1].
 */
export function backoffDelay(attempt: number, r: ResolvedReconnect, random: () => number = Math.random): number {
  const base = Math.min(r.maxInterval, r.interval * r.backoffMultiplier ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - r.jitter * random()));
}
