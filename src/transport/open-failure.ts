/**
 * Why a WebSocket never opened, as far as the runtime tells. Node's `ws` tells
 * both things below; browsers tell neither (their close event only says 1006),
 * so there the error can only say what to check.
 */
import type { WebSocketLike } from './websocket-like.js';

/** What a socket told about why it did not open. */
export interface OpenFailure {
  /** What its error event carried: with `ws`, Node's system error (`code` `'ECONNREFUSED'`, `'ENOTFOUND'`, ...). */
  cause?: unknown;
  /** The HTTP status the server answered the upgrade with, when it was not 101. */
  httpStatus?: number;
}

/** `ws` sockets are Node event emitters besides; browser sockets are not. */
interface NodeEmitterLike {
  on?(event: string, listener: (request: unknown, response: { statusCode?: number }) => void): unknown;
  removeListener?(event: string, listener: (request: unknown, response: { statusCode?: number }) => void): unknown;
}

/**
 * Records on `failure` what `socket` reports before it opens, through its
 * `onerror` handler and, on `ws` sockets, the `'unexpected-response'` event,
 * which gives the status of a refused upgrade as a number (the error `ws`
 * emits otherwise has it only inside its text). Returns what removes the listener.
 */
export function watchOpenFailure(socket: WebSocketLike, failure: OpenFailure): () => void {
  socket.onerror = (event) => {
    if (failure.httpStatus === undefined) failure.cause = (event as { error?: unknown } | null)?.error;
  };
  const emitter = socket as NodeEmitterLike;
  // With a listener, `ws` leaves the refused handshake to it: closing a connecting socket aborts it.
  const onResponse = (_request: unknown, response: { statusCode?: number }): void => {
    failure.httpStatus = response.statusCode;
    socket.close();
  };
  if (typeof emitter.on !== 'function') return () => {};
  emitter.on('unexpected-response', onResponse);
  return () => emitter.removeListener?.('unexpected-response', onResponse);
}
