/** One socket on the Signal endpoint: its session key, rooms, timers and ordered output. */
import type { WebSocket } from 'ws';
import { type IEncryptedPayload, sealNow } from '../../crypto/signal-crypto.js';
import { encodeEnvelope, encodeFrame } from '../../signal/frames.js';
import { OrderedQueue } from '../../signal/ordered-queue.js';
import { ReplayGuard } from '../../signal/replay-guard.js';
import type { SignalErrorCode } from './codes.js';

/** The authenticated identity of a connection. */
export interface SignalSession {
  readonly id: string;
  readonly userId: string;
  readonly aesKey: CryptoKey;
}

const SENT = Promise.resolve(true);
const NOT_SENT = Promise.resolve(false);

// setTimeout refuses longer delays (they fire at once).
const MAX_TIMER = 2 ** 31 - 1;

/** A Signal socket; every timer it starts is cleared by {@link SignalConnection.release}. */
export class SignalConnection {
  readonly rooms = new Set<string>();
  /** Received frames: each one's decryption starts on arrival; their turns run one at a time, in arrival order. */
  readonly inbox: OrderedQueue;
  /** Encrypted frames being sent: sealed concurrently, written in call order. */
  readonly #outbox: OrderedQueue;
  readonly replay: ReplayGuard;
  session: SignalSession | null = null;
  closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | null;
  #expiryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly ws: WebSocket,
    /** `address:port` for log lines. */
    readonly label: string,
    replayWindow: number,
    idleTimeout: number,
    onIdle: () => void,
    /** Where a turn that failed inside the server is reported. */
    onBug: (err: unknown) => void,
  ) {
    this.inbox = new OrderedQueue(onBug);
    this.#outbox = new OrderedQueue(onBug);
    this.replay = new ReplayGuard(replayWindow);
    this.#idleTimer = setTimeout(onIdle, idleTimeout);
  }

  /** The client was heard from: restart the idle countdown. */
  touch(): void {
    this.#idleTimer?.refresh();
  }

  /** Calls `onExpire` when the token expires (at `expiresAt`, ms since the epoch). */
  expireAt(expiresAt: number, onExpire: () => void): void {
    this.#expiryTimer = setTimeout(onExpire, Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER));
  }

  /** Sends a plaintext frame if the socket is open. */
  sendPlain(event: string, data?: unknown): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeFrame(event, data));
  }

  /** Sends an `error` event `{code, message}`. */
  sendError(code: SignalErrorCode, message: string): void {
    this.sendPlain('error', { code, message });
  }

  /**
   * Encrypts `{event, data}` under this connection's key and sends it, in
   * order with the connection's other encrypted frames. Resolves `false` when
   * the connection is not authenticated or closed before it could be sent.
   */
  sendEncrypted(event: string, data: unknown): Promise<boolean> {
    const sent = this.sendEncryptedNow(event, data);
    return sent === true ? SENT : sent === false ? NOT_SENT : sent;
  }

  /**
   * {@link sendEncrypted}, with the outcome at once where there is no wait:
   * where the platform encrypts synchronously (Node) and no earlier frame is
   * waiting, the frame leaves now.
   */
  sendEncryptedNow(event: string, data: unknown): boolean | Promise<boolean> {
    const aesKey = this.session?.aesKey;
    if (!aesKey || this.closed) return false;
    const text = encodeFrame(event, data);
    let sealed: IEncryptedPayload | Promise<IEncryptedPayload>;
    try {
      // Encryption starts now, in parallel with earlier frames; frames still leave in call order.
      sealed = sealNow(text, aesKey);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#outbox.length === 0 && !(sealed instanceof Promise)) return this.#write(sealed);
    return new Promise((resolve, reject) => {
      this.#outbox.add(sealed, (payload: IEncryptedPayload) => resolve(this.#write(payload)), reject);
    });
  }

  #write(payload: IEncryptedPayload): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    this.replay.add(payload.iv);
    this.ws.send(encodeEnvelope(payload));
    return true;
  }

  /** Sends an error event, then closes the socket with `code`. */
  refuse(code: SignalErrorCode, message: string, closeCode: number): void {
    this.sendError(code, message);
    if (!this.closed) this.ws.close(closeCode, code);
  }

  /** Drops every timer and the key; called once the socket has closed. */
  release(): void {
    this.closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#idleTimer = this.#expiryTimer = null;
    this.session = null;
    this.inbox.clear();
    this.replay.clear();
  }
}
