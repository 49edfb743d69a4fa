/**
 * The part of the WebSocket API the library relies on, as types only. Its own
 * module, so that the platform hook (src/util/platform.ts) can name a WebSocket
 * constructor without importing the transport that uses the hook.
 */

/**
 * Method-style signature so that DOM, `ws` and `mock-socket` handler types,
 * which each name their own event classes, all fit.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API the library uses: the browser's, `ws`'s and mock-socket's all fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, `ws`'s `WebSocket`, or a test double. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
