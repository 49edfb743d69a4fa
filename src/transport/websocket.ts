import { ConnectionClosedError, ProtocolError, UnsupportedEnvironmentError, AbortError } from '../errors.js';
import type { CloseInfo, Transport, TransportHandlers } from './transport.js';
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

const OPEN = 1;
const ignore = (): void => {};

/**
 * The injected constructor, else the platform's, else the one the platform
 * entry point can load (Node: the `ws` package, see src/node/setup.ts).
 */
export async function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  const ctor = injected ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? (await platform.loadWebSocket?.());
  if (!ctor) throw new UnsupportedEnvironmentError('No WebSocket found in this runtime: pass a WebSocket constructor as the `WebSocket` option');
  return ctor;
}

/** A {@link Transport} over one WebSocket connection. */
export class WebSocketTransport implements Transport {
  #socket: WebSocketLike | null = null;
  #closed = false;

  constructor(
    private readonly url: string,
    private readonly Ctor: WebSocketConstructor,
    private readonly handlers: TransportHandlers,
    private readonly maxFrameChars: number,
  ) {}

  open(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError(`opening ${this.url}`, { cause: signal.reason }));
      let socket: WebSocketLike;
      try {
        socket = new this.Ctor(this.url);
      } catch (cause) {
        return reject(new ConnectionClosedError(`opening ${this.url}`, undefined, undefined, { cause }));
      }
      this.#socket = socket;
      const onAbort = (): void => {
        this.#detach();
        socket.close(1000, 'aborted');
        reject(new AbortError(`opening ${this.url}`, { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => signal?.removeEventListener('abort', onAbort);
      socket.onopen = () => {
        settle();
        socket.onclose = (event) => this.#onClose({ code: event.code, reason: event.reason });
        resolve();
      };
      socket.onclose = (event) => {
        settle();
        this.#detach();
        reject(new ConnectionClosedError(`opening ${this.url}`, event.code, event.reason));
      };
      // Errors are always followed by a close event, which carries the details.
      socket.onerror = ignore;
      socket.onmessage = (event) => this.#onMessage(event.data);
    });
  }

  send(frame: string): void {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) throw new ConnectionClosedError('sending a frame');
    socket.send(frame);
  }

  close(code = 1000, reason = ''): void {
    const socket = this.#socket;
    if (!socket || this.#closed) return;
    try {
      socket.close(code, reason);
    } catch {
      // A close() the socket refuses (bad state) still ends this transport.
      this.#onClose({ code: 1006, reason: 'close failed' });
    }
  }

  #onMessage(data: unknown): void {
    if (typeof data !== 'string') {
      this.handlers.protocolError(new ProtocolError('received a binary frame; WebSocket Sessions servers send JSON text frames'));
    } else if (data.length > this.maxFrameChars) {
      this.handlers.protocolError(
        new ProtocolError(`received a ${data.length}-character frame, over the maxFrameSize limit of ${this.maxFrameChars}; it was dropped`, { frame: data }),
      );
    } else {
      this.handlers.message(data);
    }
  }

  #onClose(info: CloseInfo): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    this.handlers.close(info);
  }

  #detach(): void {
    const socket = this.#socket;
    if (!socket) return;
    socket.onopen = socket.onmessage = socket.onclose = null;
    // Keep an error handler: Node's `ws` throws on an 'error' event nobody listens to.
    socket.onerror = ignore;
    this.#closed = true;
  }
}
