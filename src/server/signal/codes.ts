/** What the Signal endpoint puts in its `error` events and close frames. */

/**
 * `code` of the `{code, message}` data of every `error` event the endpoint
 * sends. Stable strings: clients may branch on them.
 */
export const SIGNAL_ERRORS = Object.freeze({
  /** The frame is not JSON `{event, data}`, or its data has the wrong shape. */
  badFrame: 'BAD_FRAME',
  /** A frame other than `authenticate` came before authentication (the socket is closed). */
  notAuthenticated: 'NOT_AUTHENTICATED',
  /** The token was refused (the socket is closed). */
  authFailed: 'AUTH_FAILED',
  /** The token has expired (the socket is closed). */
  tokenExpired: 'TOKEN_EXPIRED',
  /** A second `authenticate` on an authenticated socket. */
  alreadyAuthenticated: 'ALREADY_AUTHENTICATED',
  /** `clientPublicKey` is not a valid P-256 public key (the socket is closed). */
  badKey: 'BAD_KEY',
  /** A plaintext application event; application events must be encrypted. */
  encryptionRequired: 'ENCRYPTION_REQUIRED',
  /** An `encrypted` frame failed authentication (wrong key or tampered). */
  decryptFailed: 'DECRYPT_FAILED',
  /** An `encrypted` frame with an IV already seen on this connection. */
  replay: 'REPLAY',
  /** No built-in route or registered handler for the event. */
  unknownEvent: 'UNKNOWN_EVENT',
  /** `publish` to a room the sender is not in. */
  notInRoom: 'NOT_IN_ROOM',
  /** `join` would exceed `maxRoomsPerClient`. */
  tooManyRooms: 'TOO_MANY_ROOMS',
  /** An application handler threw. */
  handlerFailed: 'HANDLER_FAILED',
  /** The client was silent for `idleTimeout` (the socket is closed). */
  idleTimeout: 'IDLE_TIMEOUT',
  /** A cluster node's link to the other nodes is down: a `publish` reached this node's members only. */
  clusterUnavailable: 'CLUSTER_UNAVAILABLE',
  /** The client sent frames faster than they could be handled (the socket is closed). */
  overloaded: 'OVERLOADED',
  /**
   * The frame went over the per-connection rate (`requestRate` frames a
   * second, bursts of `requestBurst`) and was dropped; after 50 in a row the
   * socket is closed (1008).
   */
  rateLimited: 'RATE_LIMITED',
  /** The event's data nests objects and arrays deeper than `maxDepth`; the frame was dropped. */
  tooDeep: 'TOO_DEEP',
});

/** One of the {@link SIGNAL_ERRORS} codes. */
export type SignalErrorCode = (typeof SIGNAL_ERRORS)[keyof typeof SIGNAL_ERRORS];

/** Close codes the endpoint uses. */
export const SIGNAL_CLOSE = Object.freeze({
  /** Authentication failed, the protocol was broken before it, or a flood (`OVERLOADED`, `RATE_LIMITED`). */
  policy: 1008,
  /** The token expired while connected; reconnect with a fresh token. */
  tokenExpired: 4001,
  /** Silent for longer than `idleTimeout`. */
  idle: 4000,
  /**
   * The client did not read what the server sent: more than `maxBufferedBytes`
   * would have waited for it. No `error` event comes first (it could not be
   * read either); the reason is `outbound buffer full (maxBufferedBytes)`.
   */
  backpressure: 1013,
});
