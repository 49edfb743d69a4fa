/**
 * The one error family of `wss-sessions`. Every error the library throws or
 * rejects with is a {@link WssError}; branch on `err.code` (stable strings)
 * or `instanceof`, never on `err.message`.
 *
 * @example
 * try { await client.send(pid, 'hi'); }
 * catch (err) { if (err instanceof RpcError && err.rpcCode === -32001) reconnect(); }
 */

/** Stable string codes, one per error class. */
export type WssErrorCode =
  | 'ERR_RPC'
  | 'ERR_TIMEOUT'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_PROTOCOL'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_NOT_CONNECTED'
  | 'ERR_INVALID_STATE'
  | 'ERR_UNSUPPORTED_ENVIRONMENT'
  | 'ERR_DECRYPT'
  | 'ERR_KEY_FORMAT'
  | 'ERR_REPLAY'
  | 'ERR_AUTHENTICATION'
  | 'ERR_QUEUE_FULL'
  | 'ERR_CLUSTER_UNAVAILABLE';

/** Options shared by every error constructor. */
export interface WssErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Base class of every error raised by `wss-sessions`. */
export abstract class WssError extends Error {
  /** Stable machine-readable code; never changes between releases. */
  abstract readonly code: WssErrorCode;

  /** The class name, set explicitly so that it survives minification. */
  abstract override readonly name: string;

  constructor(message: string, options?: WssErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The server answered a request with a JSON-RPC error object. */
export class RpcError extends WssError {
  readonly code = 'ERR_RPC';
  override readonly name = 'RpcError';
  /** The JSON-RPC error code the server sent (for example `-32001`). */
  declare readonly rpcCode: number;
  /** The JSON-RPC error `data` member, if the server sent one. */
  declare readonly data: unknown;
  /** The method of the request that failed. */
  declare readonly method: string;
  /** The server's error message, unchanged. */
  declare readonly serverMessage: string;

  constructor(method: string, rpcCode: number, serverMessage: string, data?: unknown) {
    super(`${method} failed with server error ${rpcCode}: ${serverMessage}`);
    this.method = method;
    this.rpcCode = rpcCode;
    this.serverMessage = serverMessage;
    this.data = data;
  }
}

/** A request got no answer within its timeout. */
export class TimeoutError extends WssError {
  readonly code = 'ERR_TIMEOUT';
  override readonly name = 'TimeoutError';
  // `declare`: assigned in the constructor, so no separate field definitions are emitted.
  /** What timed out (a method name or an operation). */
  declare readonly operation: string;
  /** The timeout that elapsed, in milliseconds. */
  declare readonly timeoutMs: number;

  constructor(operation: string, timeoutMs: number) {
    super(`${operation} got no answer within ${timeoutMs} ms; raise the timeout option or check the server`);
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** The connection closed (or was never open) while an operation needed it. */
export class ConnectionClosedError extends WssError {
  readonly code = 'ERR_CONNECTION_CLOSED';
  override readonly name = 'ConnectionClosedError';
  /** What was cut off (a method name or an operation). */
  declare readonly operation: string;
  /** The WebSocket close code, when known. */
  declare readonly closeCode?: number;
  /** The WebSocket close reason, when known. */
  declare readonly closeReason?: string;

  constructor(operation: string, closeCode?: number, closeReason?: string, options?: WssErrorOptions) {
    super(
      `${operation} failed: the connection closed${closeCode === undefined ? '' : ` (code ${closeCode}${closeReason ? `, "${closeReason}"` : ''})`}; connect again and retry`,
      options,
    );
    this.operation = operation;
    this.closeCode = closeCode;
    this.closeReason = closeReason;
  }
}

/** Something arrived from the network that breaks the wire protocol. */
export class ProtocolError extends WssError {
  readonly code = 'ERR_PROTOCOL';
  override readonly name = 'ProtocolError';
  /** The start of the offending frame (at most 200 characters), for logs. */
  declare readonly frame: string | undefined;

  constructor(message: string, options?: WssErrorOptions & { frame?: string }) {
    super(message, options);
    this.frame = options?.frame?.slice(0, 200);
  }
}

/** An operation was cancelled through its `AbortSignal`. */
export class AbortError extends WssError {
  readonly code = 'ERR_ABORTED';
  override readonly name = 'AbortError';
  constructor(operation: string, options?: WssErrorOptions) {
    super(`${operation} was aborted by its AbortSignal`, options);
  }
}

/** The caller passed a bad argument or option; the message names it. */
export class InvalidArgumentError extends WssError {
  readonly code = 'ERR_INVALID_ARGUMENT';
  override readonly name = 'InvalidArgumentError';
}

/** The operation needs a connected session and there is none. */
export class NotConnectedError extends WssError {
  readonly code = 'ERR_NOT_CONNECTED';
  override readonly name = 'NotConnectedError';
  constructor(operation: string, state: string) {
    super(`${operation} needs a connected session, but the state is '${state}'; await connect() first`);
  }
}

/** The call does not fit the current state (for example `connect()` while already connected). */
export class InvalidStateError extends WssError {
  readonly code = 'ERR_INVALID_STATE';
  override readonly name = 'InvalidStateError';
}

/** The runtime lacks something the library needs (WebSocket, fetch, WebCrypto). */
export class UnsupportedEnvironmentError extends WssError {
  readonly code = 'ERR_UNSUPPORTED_ENVIRONMENT';
  override readonly name = 'UnsupportedEnvironmentError';
}

/**
 * Decryption or authentication of a ciphertext failed. The message is always
 * the same, whatever went wrong, so that it tells an attacker nothing.
 */
export class DecryptError extends WssError {
  readonly code = 'ERR_DECRYPT';
  override readonly name = 'DecryptError';
  constructor(options?: WssErrorOptions) {
    super('decryption failed', options);
  }
}

/** A key (or IV, salt, base64 text) is not in the required format. */
export class KeyFormatError extends WssError {
  readonly code = 'ERR_KEY_FORMAT';
  override readonly name = 'KeyFormatError';
}

/** A message was seen before (replayed, reflected or reordered) and was dropped. */
export class ReplayError extends WssError {
  readonly code = 'ERR_REPLAY';
  override readonly name = 'ReplayError';
}

/** A peer or server failed authentication (bad signature, missing proof, bad token). */
export class AuthenticationError extends WssError {
  readonly code = 'ERR_AUTHENTICATION';
  override readonly name = 'AuthenticationError';
}

/** A bounded queue is full; wait for the connection to come back or raise the limit. */
export class QueueFullError extends WssError {
  readonly code = 'ERR_QUEUE_FULL';
  override readonly name = 'QueueFullError';
}

/**
 * A server node cannot reach the rest of its cluster (its link to Redis is
 * down): whatever needed another node was not done. The server answers such a
 * request with the JSON-RPC error -32005.
 */
export class ClusterUnavailableError extends WssError {
  readonly code = 'ERR_CLUSTER_UNAVAILABLE';
  override readonly name = 'ClusterUnavailableError';
}

/** Wraps any thrown value as an `Error`, so rejections are always `Error` objects. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
