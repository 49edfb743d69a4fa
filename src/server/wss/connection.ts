/** Per-socket state of the WSS endpoint. */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Frame } from '../transport/frame.js';
import { type FlushScheduler, Outbox, type OutboxOwner, type Overflow } from '../transport/outbox.js';
import { TokenBucket } from '../transport/rate.js';
import type { TrafficStats } from '../transport/stats.js';
import type { Mailbox } from './broker.js';

/** The session a socket carries once `WSS_Connect` succeeded. */
export interface LocalSession {
  privateId: string;
  readonly userToken: string;
  readonly serverToken: string;
}

/** What every connection of one endpoint shares (one object, so a socket costs no closures for it). */
export interface ConnectionContext {
  readonly scheduler: FlushScheduler;
  readonly stats: TrafficStats;
  /** `maxBufferedBytes`. */
  readonly maxBufferedBytes: number;
  readonly requestRate: number;
  readonly requestBurst: number;
  /** How a connection's frames reach its outbox (the endpoint applies the test hooks there). */
  send(conn: WssConnection, frame: Frame): void;
  /** The connection's outbox gave up (see {@link Outbox}). */
  overflowed(conn: WssConnection, overflow: Overflow): void;
}

/** One WebSocket on the WSS path and what it has done so far. */
export class WssConnection implements Mailbox, OutboxOwner {
  readonly outbox: Outbox;
  /** The per-connection request rate limit. */
  readonly bucket: TokenBucket;
  /** The session this socket carries, once connected. */
  session: LocalSession | null = null;
  /** User tokens of handshakes made over this socket and not yet connected; dropped when it closes. */
  pendingHandshakes: Set<string> | null = null;
  /** Set once the socket closed or was given up; nothing is bound to it after that. */
  closed = false;
  /** Frames that arrived while an earlier one is still being answered (handled in order). */
  inbox: Buffer[] | null = null;
  /** Pushes held back until the answer being prepared has been queued (see {@link WssConnection.hold}). */
  #held: Frame[] | null = null;
  #heldBytes = 0;

  constructor(
    readonly ws: WebSocket,
    socket: Duplex,
    readonly context: ConnectionContext,
    /** Family + IP of the client (see `ipKeyOf`). */
    readonly ipKey: string,
    /** `address:port` for log lines. */
    readonly label: string,
  ) {
    this.outbox = new Outbox(socket, context.scheduler, context.maxBufferedBytes, context.stats, this);
    this.bucket = new TokenBucket(context.requestRate, context.requestBurst);
  }

  overflowed(overflow: Overflow): void {
    this.context.overflowed(this, overflow);
  }

  /** The current private ID, or `null` before `WSS_Connect`. */
  get privateId(): string | null {
    return this.session?.privateId ?? null;
  }

  deliver(frame: Frame): void {
    if (this.#held) {
      this.#heldBytes += frame.size;
      // Held frames count against the same bound as the outbox: past it, they go on (and overflow there).
      if (this.#heldBytes <= this.outbox.limit) {
        this.#held.push(frame);
        return;
      }
      this.release();
    }
    this.context.send(this, frame);
  }

  /**
   * Holds pushes back until {@link WssConnection.release}: a `WSS_Connect`
   * answer must be the first frame a new session gets, whatever a broker
   * delivers to it meanwhile (the legacy client reads the next frame as the answer).
   */
  hold(): void {
    this.#held ??= [];
  }

  /** Sends the held pushes, in order. */
  release(): void {
    const held = this.#held;
    this.#held = null;
    this.#heldBytes = 0;
    if (held) for (const frame of held) this.context.send(this, frame);
  }
}
