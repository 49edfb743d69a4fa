/** Options of the Signal endpoint, their defaults and their validation. */
import { utf8Encode } from '../../crypto/bytes.js';
import { assertKey } from '../../crypto/keys.js';
import { importSigningKey } from '../../crypto/signing.js';
import { isRecord } from '../../protocol/guards.js';
import { OptionChecks } from '../option-checks.js';

/**
 * Options of the Signal endpoint (`createServer({ signal: { ... } })`),
 * served at `/stream` on the server's port. The limits it shares with the
 * WSS endpoint are server options: `maxPayload`, `maxBufferedBytes`,
 * `maxDepth`, `requestRate`, `requestBurst`, `maxSocketsPerIp`, `allowedOrigins`.
 */
export interface SignalServerOptions {
  /** HKDF info string; clients must use the same. Required. */
  ecdhInfo: string;
  /**
   * HS256 secret that signs the clients' JWTs: a string (its UTF-8 bytes) or
   * bytes, at least 32 bytes (RFC 7518 §3.2). Required.
   */
  jwtSecret: string | Uint8Array;
  /**
   * ECDSA P-256 private key that signs clientPublicKey ‖ serverPublicKey ‖ salt
   * in every `connected` (field `signature`, base64 raw r ‖ s), so that clients
   * given the matching `serverVerifyKey` can authenticate the server. A
   * `CryptoKey` with the `sign` usage, or a private JWK (`kty` EC, `crv`
   * P-256, with `d`). Default: none (no `signature` is sent).
   */
  signingKey?: CryptoKey | JsonWebKey;
  /** Milliseconds a client may stay silent (no frame at all) before it is dropped. Default: 90000. */
  idleTimeout?: number;
  /** Bytes of the random HKDF salt sent in each `connected` (16-32). Default: 32. */
  saltLength?: number;
  /** Recent IVs remembered per connection to reject replayed and reflected frames. Default: 4096. */
  replayWindow?: number;
  /** Most rooms one client may be in. Default: 256. */
  maxRoomsPerClient?: number;
  /** Frames of one client waiting to be handled before it is dropped as a flood (close 1008). Default: 256. */
  maxPendingFrames?: number;
  /**
   * For benchmarks and tests only: answer a plaintext `echo` from an
   * authenticated client with a plaintext `echo` carrying the same data,
   * instead of the `ENCRYPTION_REQUIRED` error. Default: false.
   */
  allowPlaintextEcho?: boolean;
}

/** The defaults of every optional {@link SignalServerOptions} member. */
export const signalServerDefaults = Object.freeze({
  idleTimeout: 90_000,
  saltLength: 32,
  replayWindow: 4096,
  maxRoomsPerClient: 256,
  maxPendingFrames: 256,
  allowPlaintextEcho: false,
});

/** Validated options, with the secret as bytes and the signing key imported. */
export interface ResolvedSignalOptions {
  ecdhInfo: string;
  jwtSecret: Uint8Array;
  signingKey: CryptoKey | undefined;
  idleTimeout: number;
  saltLength: number;
  replayWindow: number;
  maxRoomsPerClient: number;
  maxPendingFrames: number;
  allowPlaintextEcho: boolean;
}

const MIN_SECRET_BYTES = 32;
const KNOWN = new Set(['ecdhInfo', 'jwtSecret', 'signingKey', ...Object.keys(signalServerDefaults)]);

const check: OptionChecks = new OptionChecks('signal.', { maxChars: 60, objectsAsType: true });

function secretBytes(secret: unknown): Uint8Array {
  const bytes = typeof secret === 'string' ? utf8Encode(secret) : secret instanceof Uint8Array ? secret : undefined;
  if (!bytes) check.fail('jwtSecret', 'a string or a Uint8Array', secret);
  if (bytes.length < MIN_SECRET_BYTES)
    check.fail('jwtSecret', `at least ${MIN_SECRET_BYTES} bytes for HS256 (RFC 7518 §3.2)`, `${bytes.length} bytes`);
  return bytes;
}

async function loadSigningKey(key: unknown): Promise<CryptoKey | undefined> {
  if (key === undefined) return undefined;
  if (isRecord(key) && typeof key.kty === 'string') return importSigningKey(key as JsonWebKey);
  assertKey(key, "Server option 'signal.signingKey'", {
    type: 'private',
    algorithm: 'ECDSA',
    namedCurve: 'P-256',
    usage: 'sign',
  });
  return key;
}

/**
 * Checks every option and imports the signing key.
 * @throws InvalidArgumentError naming the first bad option; KeyFormatError for an unusable signing key.
 */
export async function resolveSignalOptions(options: SignalServerOptions): Promise<ResolvedSignalOptions> {
  if (!isRecord(options)) check.fail('', 'an object', options);
  check.onlyKnown(options, KNOWN);
  const d = signalServerDefaults;
  const o = options as SignalServerOptions;
  if (typeof o.ecdhInfo !== 'string') check.fail('ecdhInfo', 'a string', o.ecdhInfo);
  const allowPlaintextEcho = check.bool('allowPlaintextEcho', o.allowPlaintextEcho ?? d.allowPlaintextEcho);
  return {
    ecdhInfo: o.ecdhInfo,
    jwtSecret: secretBytes(o.jwtSecret),
    signingKey: await loadSigningKey(o.signingKey),
    idleTimeout: check.int('idleTimeout', o.idleTimeout ?? d.idleTimeout, 1, 2 ** 31 - 1),
    saltLength: check.int('saltLength', o.saltLength ?? d.saltLength, 16, 32),
    replayWindow: check.int('replayWindow', o.replayWindow ?? d.replayWindow, 1, 1_000_000),
    maxRoomsPerClient: check.int('maxRoomsPerClient', o.maxRoomsPerClient ?? d.maxRoomsPerClient, 1, 1_000_000),
    maxPendingFrames: check.int('maxPendingFrames', o.maxPendingFrames ?? d.maxPendingFrames, 1, 1_000_000),
    allowPlaintextEcho,
  };
}
