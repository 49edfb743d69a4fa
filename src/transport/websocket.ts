import { ConnectionClosedError, UnsupportedEnvironmentError, type ProtocolError } from '../errors.js';
import { textFrame } from '../protocol/validate.js';
import { throwIfAborted, watchAbort } from '../util/abort.js';
import { adaptWebSocket, loadWebSocket } from '../util/platform.js';
import { watchOpenFailure, type OpenFailure } from './open-failure.js';
import type { Transport, TransportEvents } from './transport.js';
import type { WebSocketConstructor, WebSocketLike } from './websocket-like.js';

// Also named here, where the Signal client and the Node setup import them from.
export type { WebSocketConstructor, WebSocketLike };

/**
 * The injected constructor, else the platform's, else the one the platform
 * entry point can load (Node: the `ws` package, see src/node/setup.ts), as
 * the platform adapts it.
 */
export async function resolveWebSocket(injected?: WebSocketConstructor): Promise<WebSocketConstructor> {
  const ctor =
    injected ??
    (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
    (loadWebSocket ? await loadWebSocket() : undefined);
  if (!ctor) throw new UnsupportedEnvironmentError('No WebSocket found: pass the `WebSocket` option');
  return adaptWebSocket?.(ctor) ?? ctor;
}

/** What a WebSocket transport needs: the client's resolved options carry it. */
export interface WebSocketSettings {
  url: string;
  /** Largest incoming frame accepted, in characters. */
  maxFrameSize: number;
}

const ignore = (): void => {};

/**
 * A {@link Transport} over one WebSocket. Once closed it detaches from its socket,
 * so nothing of it is left and the socket's later events reach no one.
 */
export class WebSocketTransport implements Transport {
  readonly #Ctor: WebSocketConstructor;
  readonly #settings: WebSocketSettings;
  readonly #on: TransportEvents;
  #socket: WebSocketLike | undefined;

  constructor(Ctor: WebSocketConstructor, settings: WebSocketSettings, events: TransportEvents) {
    this.#Ctor = Ctor;
    this.#settings = settings;
    this.#on = events;
  }

  open(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const { url } = this.#settings;
      const operation = `opening ${url}`;
      throwIfAborted(signal, operation);
      let socket: WebSocketLike;
      try {
        socket = this.#socket = new this.#Ctor(url);
      } catch (cause) {
        throw new ConnectionClosedError(operation, undefined, undefined, { cause, opening: true });
      }
      let opened = false;
      const unwatchAbort = watchAbort(signal, operation, (error) => {
        reject(error);
        this.close(1000, 'aborted', true);
      });
      // Errors are always followed by a close event; until the socket opens, what they carry says why it did not.
      const failure: OpenFailure = {};
      const unwatch = watchOpenFailure(socket, failure);
      socket.onopen = () => {
        opened = true;
        unwatch();
        unwatchAbort();
        resolve();
      };
      socket.onclose = ({ code, reason }) => {
        unwatch();
        unwatchAbort();
        socket.onopen = socket.onmessage = socket.onclose = null;
        // Keep an error handler: Node's `ws` throws on an 'error' event nobody listens to.
        socket.onerror = ignore;
        if (opened) this.#on.close({ code, reason });
        else reject(new ConnectionClosedError(operation, code, reason, { ...failure, opening: true }));
      };
      socket.onmessage = ({ data }) => this.#receive(data);
    });
  }

  /** Passes a text frame on; a binary or oversized one is dropped and reported. */
  #receive(data: unknown): void {
    let frame: string;
    try {
      frame = textFrame(data, this.#settings.maxFrameSize);
    } catch (error) {
      this.#on.error(error as ProtocolError);
      return;
    }
    this.#on.message(frame);
  }

  send(frame: string): void {
    const socket = this.#socket;
    // Browsers drop a frame sent while closing without a word.
    if (socket?.readyState !== 1) throw new ConnectionClosedError('send');
    socket.send(frame);
  }

  close(code: number, reason: string, now?: boolean): void {
    const socket = this.#socket;
    // The handler open() installed, read back from the socket: it settles everything and
    // detaches itself, so the socket's own close event later finds nothing to call.
    if (now) socket?.onclose?.({ code, reason });
    try {
      socket?.close(code, reason);
    } catch {
      // Browsers refuse codes other than 1000 and 3000-4999, and reasons over 123 bytes: close without them.
      try {
        socket?.close();
      } catch {
        // A socket that refuses even that still ends the transport.
        socket?.onclose?.({ code: 1006, reason: 'close failed' });
      }
    }
  }
}
