/** One socket on the Signal endpoint: its session key, rooms, timers, rate limit and bounded, ordered output. */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { type IEncryptedPayload, sealNow } from '../../crypto/signal-crypto.js';
import { encodeEnvelope, encodeFrame } from '../../signal/frames.js';
import { OrderedQueue } from '../../util/ordered-queue.js';
import { ReplayGuard } from '../../signal/replay-guard.js';
import { Frame } from '../transport/frame.js';
import { type FlushScheduler, Outbox, type OutboxOwner, type Overflow } from '../transport/outbox.js';
import { TokenBucket } from '../transport/rate.js';
import { closeAfterQueued } from '../transport/socket.js';
import type { TrafficStats } from '../transport/stats.js';
import type { SignalErrorCode } from './codes.js';

/** The authenticated identity of a connection. */
export interface SignalSession {
  readonly id: string;
  readonly userId: string;
  readonly aesKey: CryptoKey;
}

/** What every connection of the endpoint shares (one object, so a socket costs no closures for it). */
export interface SignalConnectionContext {
  readonly scheduler: FlushScheduler;
  readonly stats: TrafficStats;
  readonly maxBufferedBytes: number;
  readonly requestRate: number;
  readonly requestBurst: number;
  readonly replayWindow: number;
  readonly idleTimeout: number;
  /** The client was silent for `idleTimeout`. */
  idle(conn: SignalConnection): void;
  /** A turn of `conn` failed inside the server. */
  bug(conn: SignalConnection, err: unknown): void;
  /** The connection's outbox gave up (see {@link Outbox}). */
  overflowed(conn: SignalConnection, overflow: Overflow): void;
}

const SENT = Promise.resolve(true);
const NOT_SENT = Promise.resolve(false);

// setTimeout refuses longer delays (they fire at once).
const MAX_TIMER = 2 ** 31 - 1;

/** A Signal socket; every timer it starts is cleared by {@link SignalConnection.release}. */
export class SignalConnection implements OutboxOwner {
  readonly rooms = new Set<string>();
  /** Received frames: each one's decryption starts on arrival; their turns run one at a time, in arrival order. */
  readonly inbox: OrderedQueue;
  /** Frames bound for the socket: one write per turn, at most `maxBufferedBytes` waiting. */
  readonly outbox: Outbox;
  /** The per-connection frame rate limit. */
  readonly bucket: TokenBucket;
  /** Encrypted frames being sealed: sealed concurrently, queued in call order. */
  readonly #sealing: OrderedQueue;
  readonly replay: ReplayGuard;
  session: SignalSession | null = null;
  closed = false;
  #idleTimer: ReturnType<typeof setTimeout> | null;
  #expiryTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly ws: WebSocket,
    socket: Duplex,
    readonly context: SignalConnectionContext,
    /** `address:port` for log lines. */
    readonly label: string,
  ) {
    const onBug = (err: unknown): void => context.bug(this, err);
    this.inbox = new OrderedQueue(onBug);
    this.#sealing = new OrderedQueue(onBug);
    this.outbox = new Outbox(socket, context.scheduler, context.maxBufferedBytes, context.stats, this);
    this.bucket = new TokenBucket(context.requestRate, context.requestBurst);
    this.replay = new ReplayGuard(context.replayWindow);
    this.#idleTimer = setTimeout(() => context.idle(this), context.idleTimeout);
  }

  overflowed(overflow: Overflow): void {
    this.context.overflowed(this, overflow);
  }

  /** The client was heard from: restart the idle countdown. */
  touch(): void {
    this.#idleTimer?.refresh();
  }

  /** Calls `onExpire` when the token expires (at `expiresAt`, ms since the epoch). */
  expireAt(expiresAt: number, onExpire: () => void): void {
    this.#expiryTimer = setTimeout(onExpire, Math.min(Math.max(0, expiresAt - Date.now()), MAX_TIMER));
  }

  /**
   * Queues a framed frame if the socket is open; `false` when it is not, or
   * when the frame overflowed the outbox (the connection is being given up).
   * `urgent` for answers to the client's own frames: never held back under a storm.
   * A frame that is the same for several clients is framed once and queued for each.
   */
  sendFrame(frame: Frame, urgent = false): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    return this.outbox.push(frame, urgent);
  }

  /** Sends a plaintext frame (always an answer: `connected`, `error`, a plaintext `echo`) if the socket is open. */
  sendPlain(event: string, data?: unknown): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.sendFrame(Frame.text(encodeFrame(event, data)), true);
  }

  /** Sends an `error` event `{code, message}`. */
  sendError(code: SignalErrorCode, message: string): void {
    this.sendPlain('error', { code, message });
  }

  /**
   * Encrypts `{event, data}` under this connection's key and sends it, in
   * order with the connection's other encrypted frames. Resolves `false` when
   * the connection is not authenticated or closed before it could be sent.
   * `urgent` as for {@link sendFrame}.
   */
  sendEncrypted(event: string, data: unknown, urgent = false): Promise<boolean> {
    const sent = this.sendEncryptedNow(encodeFrame(event, data), urgent);
    return sent === true ? SENT : sent === false ? NOT_SENT : sent;
  }

  /**
   * {@link sendEncrypted} of an inner frame already encoded (`encodeFrame`),
   * so that a room's frame is serialised once for every member; with the
   * outcome at once where there is no wait: where the platform encrypts
   * synchronously (Node) and no earlier frame is waiting, the frame is queued now.
   */
  sendEncryptedNow(text: string, urgent = false): boolean | Promise<boolean> {
    const aesKey = this.session?.aesKey;
    if (!aesKey || this.closed) return false;
    let sealed: IEncryptedPayload | Promise<IEncryptedPayload>;
    try {
      // Encryption starts now, in parallel with earlier frames; frames still leave in call order.
      sealed = sealNow(text, aesKey);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#sealing.length === 0 && !(sealed instanceof Promise)) return this.#write(sealed, urgent);
    return new Promise((resolve, reject) => {
      this.#sealing.add(sealed, (payload: IEncryptedPayload) => resolve(this.#write(payload, urgent)), reject);
    });
  }

  #write(payload: IEncryptedPayload, urgent: boolean): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    this.replay.add(payload.iv);
    // Each member has its own key: an encrypted frame is sealed and framed per recipient.
    return this.outbox.push(Frame.text(encodeEnvelope(payload)), urgent);
  }

  /** Writes what is queued, then closes the socket with `code` (the close frame last on the wire). */
  close(code: number, reason: string): void {
    closeAfterQueued(this.ws, this.outbox, code, reason);
  }

  /** Sends an error event, then closes the socket with `code`. */
  refuse(code: SignalErrorCode, message: string, closeCode: number): void {
    this.sendError(code, message);
    if (!this.closed) this.close(closeCode, code);
  }

  /** Drops every timer, the key and what waits to be sent; called once the session ends or the socket closed. */
  release(): void {
    this.closed = true;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#expiryTimer) clearTimeout(this.#expiryTimer);
    this.#idleTimer = this.#expiryTimer = null;
    this.session = null;
    this.inbox.clear();
    this.outbox.close();
    this.replay.clear();
  }
}
