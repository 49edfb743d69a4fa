import { UnsupportedEnvironmentError } from '../errors.js';

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
 * Imported by a name held in a variable, so that bundlers leave it alone: browser
 * bundles then carry neither `ws`'s browser stub nor the interop code around it.
 */
const WS_PACKAGE: string = 'ws';

/**
 * The injected constructor, else the platform's, else (in Node only) the `ws`
 * package, loaded lazily so that browser bundles never reference it.
 */
export async function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  let ctor = injected ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  let cause: unknown;
  if (!ctor && typeof process !== 'undefined' && process.versions?.node) {
    try {
      const mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ WS_PACKAGE)) as { WebSocket?: WebSocketConstructor; default?: WebSocketConstructor };
      ctor = mod.WebSocket ?? mod.default;
    } catch (error) {
      cause = error;
    }
  }
  if (!ctor) throw new UnsupportedEnvironmentError('No WebSocket found: pass the `WebSocket` option (in Node: npm i ws)', { cause });
  return ctor;
}
