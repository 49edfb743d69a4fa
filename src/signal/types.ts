/** Public types of the Signal client, shared by its modules. */

/**
 * Where the client is in its lifecycle. The client moves
 * `disconnected → connecting → authenticating → authenticated`, and
 * `→ reconnecting → connecting → …` after an unexpected close. `'connected'`
 * is part of the type for compatibility and is never entered: the socket
 * being open is not yet useful, so the client goes straight from
 * `connecting` to `authenticating`.
 */
export type TConnectionState =
  | 'disconnected'
  | 'connecting'
  | 'connected'
  | 'authenticating'
  | 'authenticated'
  | 'reconnecting';

/** Logger used by the client; `console` fits. */
export interface IWSLogger {
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
}

/** Receives the `data` of one event. */
export type TEventHandler<T = unknown> = (data: T) => void;

/** Receives every new connection state. */
export type TStateChangeHandler = (state: TConnectionState) => void;

/**
 * The `connected` event's data as the server sent it, once validated: the
 * three ids are strings (of at most 1024 characters), and the key material
 * the client used passed its checks. Absent key material may be `undefined`
 * or `null`.
 */
export interface ISignalConnectedData {
  /** Connection id the server gave this socket. */
  id: string;
  /** The authenticated user (the token's `sub`). */
  userId: string;
  /** Server time, as the server sent it. */
  time: string;
  /** Base64 raw P-256 public key of the server, when it offers encryption. */
  serverPublicKey?: string | null;
  /** Base64 HKDF salt, when the server offers encryption. */
  salt?: string | null;
  /** Base64 ECDSA P-256 signature (r ‖ s) over clientPublicKey ‖ serverPublicKey ‖ salt, when the server signs. */
  signature?: string | null;
}

/** Control events: always plaintext on the wire, never encrypted (PROTOCOL.md §2). */
export const CONTROL_EVENTS: ReadonlySet<string> = new Set([
  'authenticate',
  'connected',
  'error',
  'heartbeat',
  'join',
  'leave',
]);

/**
 * Names an encrypted inner event may not carry: the control events, the
 * envelope itself and the client's local `reconnect_failed` event, so that
 * nothing inside an envelope can impersonate them.
 */
export const RESERVED_INNER_EVENTS: ReadonlySet<string> = new Set([...CONTROL_EVENTS, 'encrypted', 'reconnect_failed']);

/** Options of `connect()`. */
export interface ISignalConnectOptions {
  /**
   * Cancels the connection attempt: `connect()` rejects with an `AbortError`
   * (as does every other `connect()` waiting on the same attempt), the socket
   * is closed and no retry stays scheduled; the state is `'disconnected'`.
   * Aborting after `connect()` resolved changes nothing.
   */
  signal?: AbortSignal;
}

/** Options of `send()`. */
export interface ISignalSendOptions {
  /**
   * Cancels the send while the frame has not gone out (it is being
   * encrypted, or waits behind earlier sends): `send()` rejects with an
   * `AbortError` and the frame is never sent. Aborting after `send()`
   * resolved changes nothing.
   */
  signal?: AbortSignal;
}
