/** Options of SecureSession: the one options type, its defaults and its up-front checks. */
import { resolveClientOptions, type WSSClientOptions } from '../client/options.js';
import { InvalidArgumentError } from '../errors.js';
import { hasOwn, isRecord } from '../protocol/guards.js';

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
  identity: CryptoKeyPair | undefined;
  requirePeerIdentity: boolean;
  verifyPeerIdentity: SecureSessionOptions['verifyPeerIdentity'];
}

/** A check and what it asks for, as the error message says it. */
type Rule = [(value: unknown) => boolean, string];

/** Longest timer delay (ms) the platforms honour; also bounds the multiplier and the queue. */
const LIMIT = 2 ** 31 - 1;
const CLIENT_KEYS = 'url handshakeUrl connectOptions requestTimeout userToken WebSocket fetch maxFrameSize logger'.split(' ');
const BOOLEAN: Rule = [(v) => typeof v === 'boolean', 'a boolean'];

function range(min: number, max: number, integer = false): Rule {
  return [(v) => typeof v === 'number' && v >= min && v <= max && (!integer || Number.isInteger(v) || v === Infinity), `${integer ? 'an integer' : 'a number'} from ${min} to ${max}`];
}

/** Whether `key` is an ECDSA P-256 CryptoKey of this type, with this usage when one is named. */
function isEcdsaKey(key: unknown, type: KeyType, usage?: KeyUsage): boolean {
  if (!isRecord(key) || !isRecord(key.algorithm) || !Array.isArray(key.usages)) return false;
  return key.type === type && key.algorithm.name === 'ECDSA' && key.algorithm.namedCurve === 'P-256' && (!usage || key.usages.includes(usage));
}

/** The SecureSession-only options with their rules; the `WSSClient` ones are checked by `resolveClientOptions`. */
const RULES: Record<string, Rule> = {
  info: [(v) => typeof v === 'string' && v.length > 0 && v.length <= 1024, 'a string of 1 to 1024 characters'],
  encryption: BOOLEAN,
  reconnect: [isRecord, 'an object'],
  queueSize: range(0, LIMIT, true),
  identity: [
    (v) => isRecord(v) && isEcdsaKey(v.privateKey, 'private', 'sign') && isEcdsaKey(v.publicKey, 'public') && (v.publicKey as CryptoKey).extractable,
    'an ECDSA P-256 key pair with an extractable public key',
  ],
  requirePeerIdentity: BOOLEAN,
  verifyPeerIdentity: [(v) => typeof v === 'function', 'a function'],
};

const RECONNECT_RULES: Record<string, Rule> = {
  enabled: BOOLEAN,
  maxRetries: range(0, Infinity, true),
  interval: range(0, LIMIT),
  maxInterval: range(0, LIMIT),
  backoffMultiplier: range(1, LIMIT),
  jitter: range(0, 1),
};

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

/** Checks every member of `options` against its rule; a name with no rule is an error unless listed in `others`. */
function checkAll(options: object, rules: Record<string, Rule>, prefix: string, others: readonly string[] = []): void {
  for (const [key, value] of Object.entries(options)) {
    const rule = hasOwn(rules, key) ? rules[key] : undefined;
    if (!rule && !others.includes(key)) fail(`unknown option '${prefix}${key}'`);
    if (rule && value !== undefined && !rule[0](value)) fail(`option '${prefix}${key}' must be ${rule[1]}`);
  }
}

/**
 * Applies {@link secureSessionDefaults} and rejects bad options and bad combinations, naming them.
 * @throws {InvalidArgumentError}
 */
export function resolveSecureOptions(options: SecureSessionOptions): ResolvedSecureOptions {
  if (!isRecord(options)) fail('SecureSession needs an options object');
  checkAll(options, RULES, '', CLIENT_KEYS);
  const d = secureSessionDefaults;
  const { info = d.info, encryption = d.encryption, reconnect = {}, queueSize, identity, requirePeerIdentity, verifyPeerIdentity, ...client } = options;
  checkAll(reconnect, RECONNECT_RULES, 'reconnect.');
  const r = { ...d.reconnect } as ResolvedReconnect;
  for (const [key, value] of Object.entries(reconnect)) if (value !== undefined) (r as unknown as Record<string, unknown>)[key] = value;
  if (r.maxInterval < r.interval) fail("option 'reconnect.maxInterval' must not be below 'reconnect.interval'");
  if (queueSize !== undefined && !r.enabled) fail("option 'queueSize' needs 'reconnect.enabled: true'");
  for (const name of ['identity', 'requirePeerIdentity', 'verifyPeerIdentity'] as const) {
    if (!encryption && options[name] !== undefined) fail(`option '${name}' needs 'encryption: true'`);
  }
  if (isRecord(client.connectOptions) && hasOwn(client.connectOptions, 'e2e')) fail("option 'connectOptions.e2e' is reserved");
  resolveClientOptions(client);
  return { client, info, encryption, reconnect: r, queueSize: queueSize ?? d.queueSize, identity, requirePeerIdentity: requirePeerIdentity ?? !!identity, verifyPeerIdentity };
}

/**
 * The wait before reconnect attempt `attempt` (from 1): `interval × multiplier^(attempt−1)`,
 * capped at `maxInterval`, then multiplied by a random factor in [1 − jitter, 1].
 */
export function backoffDelay(attempt: number, r: ResolvedReconnect, random: () => number = Math.random): number {
  const base = Math.min(r.maxInterval, r.interval * r.backoffMultiplier ** Math.max(0, attempt - 1));
  return Math.round(base * (1 - r.jitter * random()));
}
