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
  | 'ERR_CLUSTER_UNAVAILABLE'
  | 'ERR_DELIVERY_TIMEOUT'
  | 'ERR_PEER';

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

/** A {@link WssError} class with its class name and its code. */
type WssErrorClass<N extends string, C extends WssErrorCode> = new (
  message: string,
  options?: WssErrorOptions,
) => WssError & { readonly code: C; readonly name: N };

/** The base of one error class: its `name` (written out, as minifiers rename classes) and its stable `code`. */
function errorClass<N extends string, C extends WssErrorCode>(className: N, errorCode: C): WssErrorClass<N, C> {
  return class extends WssError {
    readonly code = errorCode;
    override readonly name = className;
  };
}

/** The server answered a request with a JSON-RPC error object. */
export class RpcError extends /* @__PURE__ */ errorClass('RpcError', 'ERR_RPC') {
  constructor(
    /** The method of the request that failed. */
    readonly method: string,
    /** The JSON-RPC error code the server sent (for example `-32001`). */
    readonly rpcCode: number,
    /** The server's error message, unchanged. */
    readonly serverMessage: string,
    /** The JSON-RPC error `data` member, if the server sent one. */
    readonly data?: unknown,
  ) {
    super(`${method} failed with server error ${rpcCode}: ${serverMessage}`);
  }
}

/** A request got no answer within its timeout. */
export class TimeoutError extends /* @__PURE__ */ errorClass('TimeoutError', 'ERR_TIMEOUT') {
  constructor(
    /** What timed out (a method name or an operation). */
    readonly operation: string,
    /** The timeout that elapsed, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(`${operation} got no answer within ${timeoutMs} ms; raise the timeout option or check the server`);
  }
}

/** What a {@link ConnectionClosedError} can be told besides the close code and reason. */
interface ConnectionClosedOptions extends WssErrorOptions {
  /** The HTTP status the server refused the WebSocket upgrade with. */
  httpStatus?: number;
  /** True when the connection never opened: the message then says to check the URL, not to retry. */
  opening?: boolean;
}

/**
 * The connection closed (or was never open) while an operation needed it. When
 * it never opened, the message says why where the runtime tells: the connection
 * was refused (then `cause.code` is `'ECONNREFUSED'`), the host was not found,
 * or the server refused the WebSocket upgrade (`httpStatus`). Browsers tell
 * none of this: there the close code is 1006 and the message says what to check.
 */
export class ConnectionClosedError extends /* @__PURE__ */ errorClass(
  'ConnectionClosedError',
  'ERR_CONNECTION_CLOSED',
) {
  /** The HTTP status the server answered the WebSocket upgrade with, when it refused it (Node with `ws`; browsers do not tell). */
  readonly httpStatus?: number;

  constructor(
    /** What was cut off (a method name or an operation). */
    readonly operation: string,
    /** The WebSocket close code, when known. */
    readonly closeCode?: number,
    /** The WebSocket close reason, when known. */
    readonly closeReason?: string,
    options?: ConnectionClosedOptions,
  ) {
    super(`${operation} failed: ${closedText(closeCode, closeReason, options)}`, options);
    this.httpStatus = options?.httpStatus;
  }
}

/** The system error code (Node's `'ECONNREFUSED'`, ...) of `cause`, or of the error it wraps (as `fetch` does). */
function systemCode(cause: unknown): unknown {
  const error = cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  return typeof error?.code === 'string' ? error.code : error?.cause?.code;
}

/** What happened to the connection and what to do about it. */
function closedText(closeCode?: number, closeReason?: string, options: ConnectionClosedOptions = {}): string {
  const { httpStatus, opening, cause } = options;
  if (httpStatus !== undefined) {
    return `the server answered the WebSocket upgrade with HTTP ${httpStatus}; check the path in the URL and that a WebSocket Sessions server listens there`;
  }
  const code = systemCode(cause);
  if (code === 'ECONNREFUSED') return 'the connection was refused; check the URL and that the server is running';
  if (code === 'ENOTFOUND') return 'the host name was not found; check the URL';
  const detail = closeCode === undefined ? '' : ` (code ${closeCode}${closeReason ? `, "${closeReason}"` : ''})`;
  if (!opening) return `the connection closed${detail}; connect again and retry`;
  const why = typeof code === 'string' ? ` (${code})` : detail;
  return `the connection closed before it opened${why}; check the URL and that the server is running`;
}

/** Something arrived from the network that breaks the wire protocol. */
export class ProtocolError extends /* @__PURE__ */ errorClass('ProtocolError', 'ERR_PROTOCOL') {
  /** The start of the offending frame (at most 200 characters), for logs. */
  readonly frame: string | undefined;

  constructor(message: string, options?: WssErrorOptions & { frame?: string }) {
    super(message, options);
    this.frame = options?.frame?.slice(0, 200);
  }
}

/** An operation was cancelled through its `AbortSignal`. */
export class AbortError extends /* @__PURE__ */ errorClass('AbortError', 'ERR_ABORTED') {
  constructor(operation: string, options?: WssErrorOptions) {
    super(`${operation} was aborted by its AbortSignal`, options);
  }
}

/** The caller passed a bad argument or option; the message names it. */
export class InvalidArgumentError extends /* @__PURE__ */ errorClass('InvalidArgumentError', 'ERR_INVALID_ARGUMENT') {}

/** The operation needs a connected session and there is none. */
export class NotConnectedError extends /* @__PURE__ */ errorClass('NotConnectedError', 'ERR_NOT_CONNECTED') {
  constructor(operation: string, state: string) {
    super(`${operation} needs a connected session, but the state is '${state}'; await connect() first`);
  }
}

/** The call does not fit the current state (for example `connect()` while already connected). */
export class InvalidStateError extends /* @__PURE__ */ errorClass('InvalidStateError', 'ERR_INVALID_STATE') {}

/** The runtime lacks something the library needs (WebSocket, fetch, WebCrypto). */
export class UnsupportedEnvironmentError extends /* @__PURE__ */ errorClass(
  'UnsupportedEnvironmentError',
  'ERR_UNSUPPORTED_ENVIRONMENT',
) {}

/**
 * Decryption or authentication of a ciphertext failed. The message is always
 * the same, whatever went wrong, so that it tells an attacker nothing.
 */
export class DecryptError extends /* @__PURE__ */ errorClass('DecryptError', 'ERR_DECRYPT') {
  constructor(options?: WssErrorOptions) {
    super('decryption failed', options);
  }
}

/** A key (or IV, salt, base64 text) is not in the required format. */
export class KeyFormatError extends /* @__PURE__ */ errorClass('KeyFormatError', 'ERR_KEY_FORMAT') {}

/** A message was seen before (replayed, reflected or reordered) and was dropped. */
export class ReplayError extends /* @__PURE__ */ errorClass('ReplayError', 'ERR_REPLAY') {}

/** A peer or server failed authentication (bad signature, missing proof, bad token). */
export class AuthenticationError extends /* @__PURE__ */ errorClass('AuthenticationError', 'ERR_AUTHENTICATION') {}

/** A bounded queue is full; wait for the connection to come back or raise the limit. */
export class QueueFullError extends /* @__PURE__ */ errorClass('QueueFullError', 'ERR_QUEUE_FULL') {}

/**
 * A server node cannot reach the rest of its cluster (its link to Redis is
 * down): whatever needed another node was not done. The server answers such a
 * request with the JSON-RPC error -32006.
 */
export class ClusterUnavailableError extends /* @__PURE__ */ errorClass(
  'ClusterUnavailableError',
  'ERR_CLUSTER_UNAVAILABLE',
) {}

/**
 * A reliable message got no receipt from some recipients within `deliveryTimeout`
 * and was given up for them (an `undelivered` event reports each).
 */
export class DeliveryTimeoutError extends /* @__PURE__ */ errorClass('DeliveryTimeoutError', 'ERR_DELIVERY_TIMEOUT') {
  constructor(
    /** The timeout that passed, in milliseconds. */
    readonly deliveryTimeout: number,
    /** Private IDs (as last known) of the recipients that did not confirm it. */
    readonly recipients: string[],
  ) {
    super(
      `no receipt from ${recipients.join(', ')} within ${deliveryTimeout} ms (deliveryTimeout): the message was given up; ` +
        'the peer may be gone for good, or raise deliveryTimeout',
    );
  }
}

/** A peer answered a request with an error. Only its message crosses, never its stack. */
export class PeerError extends /* @__PURE__ */ errorClass('PeerError', 'ERR_PEER') {
  constructor(
    /** Private ID of the peer that answered. */
    readonly peer: string,
    /** The message the peer's handler failed with. */
    readonly peerMessage: string,
  ) {
    super(`peer ${peer} answered the request with an error: ${peerMessage}`);
  }
}

/** Wraps any thrown value as an `Error`, so rejections are always `Error` objects. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
