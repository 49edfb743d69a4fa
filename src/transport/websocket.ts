import { UnsupportedEnvironmentError } from '../errors.js';
import { platform } from '../util/platform.js';

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

/**
 * The injected constructor, else the platform's, else the one the platform
 * entry point can load (Node: the `ws` package, see src/node/setup.ts).
 */
export async function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  const ctor = injected ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? (await platform.loadWebSocket?.());
  if (!ctor) throw new UnsupportedEnvironmentError('No WebSocket found: pass the `WebSocket` option');
  return ctor;
}
