/**
 * Fewer system calls for bursts of small frames on Node: sends made in one
 * synchronous run leave in one `writev` instead of one write each.
 *
 * On loopback and on busy servers a write costs several microseconds, more
 * than framing or encrypting a chat message: a client answering a batch of
 * 50 incoming frames with 50 sends spent most of its time in those writes.
 * Holding the socket corked until the current run of JavaScript ends delays
 * nothing (no timer; the run could not have been interrupted anyway), and a
 * write at most every {@link MAX_FRAMES} frames or {@link MAX_CHARS}
 * characters lets the peer start on the first frames of a long burst while
 * the rest are still being made.
 */
import type { Socket } from 'node:net';
import type { WebSocketConstructor, WebSocketLike } from '../transport/websocket-like.js';

/** Frames held for one write at most. */
export const MAX_FRAMES = 32;
/** Characters (about bytes) held for one write at most. */
export const MAX_CHARS = 16 * 1024;

/** What of `ws`'s WebSocket this needs beyond {@link WebSocketLike}: its EventEmitter side. */
interface EmitterWebSocket extends WebSocketLike {
  once(event: 'upgrade', listener: (response: { socket: Socket }) => void): unknown;
  send(data: string, ...rest: unknown[]): void;
}

type EmitterConstructor = new (...args: unknown[]) => EmitterWebSocket;

/** `ws`'s WebSocket or one like it: EventEmitter methods on the prototype (the browser's and mock-socket's have none). */
function isEmitterSocket(ctor: WebSocketConstructor): ctor is WebSocketConstructor & EmitterConstructor {
  const proto = (ctor as { prototype?: { once?: unknown; send?: unknown } }).prototype;
  return typeof proto?.once === 'function' && typeof proto.send === 'function';
}

/** Holds one socket's writes for the rest of the current run (see the module comment). */
class WriteHold {
  readonly #socket: Socket;
  #frames = 0;
  #chars = 0;
  readonly #release = (): void => {
    if (this.#frames === 0) return;
    this.#frames = this.#chars = 0;
    this.#socket.uncork();
  };

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Called before each frame of `chars` characters is written. */
  before(chars: number): void {
    if (this.#frames === 0) {
      this.#socket.cork();
      process.nextTick(this.#release);
    } else if (this.#frames >= MAX_FRAMES || this.#chars >= MAX_CHARS) {
      this.#socket.uncork();
      this.#socket.cork();
      this.#frames = this.#chars = 0;
    }
    this.#frames++;
    this.#chars += chars;
  }
}

const adapted = new WeakMap<WebSocketConstructor, WebSocketConstructor>();

/**
 * `ctor` with string sends coalesced as above when it is `ws`'s WebSocket (or
 * built like it: the socket comes with its `upgrade` event); any other
 * constructor unchanged. One subclass per constructor.
 */
export function coalescingWebSocket(ctor: WebSocketConstructor): WebSocketConstructor {
  if (!isEmitterSocket(ctor)) return ctor;
  let sub = adapted.get(ctor);
  if (!sub) {
    sub = class CoalescingWebSocket extends (ctor as EmitterConstructor) {
      #hold: WriteHold | null = null;
      constructor(...args: unknown[]) {
        super(...args);
        this.once('upgrade', (response) => {
          this.#hold = new WriteHold(response.socket);
        });
      }
      override send(data: string, ...rest: unknown[]): void {
        if (typeof data === 'string') this.#hold?.before(data.length);
        super.send(data, ...rest);
      }
    };
    adapted.set(ctor, sub);
  }
  return sub;
}
