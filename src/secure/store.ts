/**
 * The sender's store of reliable messages not yet settled for every
 * recipient: bounded in messages and bytes, each message kept once however
 * many streams carry it, and given up at its deadline. Spec "Delivery", D.7.
 */
import { InvalidArgumentError, QueueFullError } from '../errors.js';
import type { ItemKind } from './frames.js';
import type { Sendable } from './streams.js';

/** How a message ended for its recipients, by private ID (as last known). */
export interface Settled {
  confirmed: string[];
  unconfirmed: string[];
}

/** One reliable message until every recipient confirmed it or it was given up. */
export interface Outgoing<R = unknown> extends Sendable {
  readonly kind: ItemKind;
  /** The request id of a request or answer; 0 for a message. */
  readonly id: number;
  readonly data: unknown;
  /** When it is given up (ms, `Date.now()` clock). */
  readonly deadline: number;
  /** Recipients not yet settled. */
  readonly open: Set<R>;
  readonly settled: Settled;
  /** Whether the relay accepted a transmission of it. */
  accepted: boolean;
  /** Why it was given up for some recipient, once it was. */
  failure?: Error | undefined;
  /** Told once, at the first accepted transmission. */
  onAccepted?: (() => void) | undefined;
  /** Told once, when no recipient is open any more. */
  onSettled?: ((settled: Settled) => void) | undefined;
}

/** Bounds of the store. */
export interface StoreLimits {
  messages: number;
  bytes: number;
  /** Milliseconds a message is kept. */
  timeout: number;
}

/** The unconfirmed messages of one session, across its connections. */
export class Store<R> {
  readonly #limits: StoreLimits;
  /** Called for each message whose deadline passed, oldest first. */
  readonly #expire: (msg: Outgoing<R>) => void;
  /** In submission order, which is deadline order: every message is kept for the same time. */
  readonly #messages = new Set<Outgoing<R>>();
  #bytes = 0;
  /** Submissions so far: each message's `order`. */
  #count = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(limits: StoreLimits, expire: (msg: Outgoing<R>) => void) {
    this.#limits = limits;
    this.#expire = expire;
  }

  /**
   * A new message for `recipients`, kept until each is settled.
   * @throws {QueueFullError} past the bounds; {InvalidArgumentError} for a message larger than the byte bound alone.
   */
  add(kind: ItemKind, id: number, data: unknown, item: string, recipients: Iterable<R>): Outgoing<R> {
    const { messages, bytes, timeout } = this.#limits;
    const size = item.length;
    if (size > bytes)
      throw new InvalidArgumentError(
        `a message of ${size} characters of JSON cannot be kept for delivery (maxUnackedBytes ${bytes}): send less or raise maxUnackedBytes`,
      );
    if (this.#messages.size >= messages || this.#bytes + size > bytes)
      throw new QueueFullError(
        `${this.#messages.size} messages (${this.#bytes} characters) wait for receipts (maxUnackedMessages ${messages}, ` +
          `maxUnackedBytes ${bytes}): await some with { await: 'delivered' }, or raise the limits`,
      );
    const msg: Outgoing<R> = {
      kind,
      id,
      data,
      item,
      size,
      order: ++this.#count,
      deadline: Date.now() + timeout,
      open: new Set(recipients),
      settled: { confirmed: [], unconfirmed: [] },
      accepted: false,
    };
    this.#messages.add(msg);
    this.#bytes += size;
    this.#arm();
    return msg;
  }

  /** The relay accepted a transmission of `msg`. */
  accepted(msg: Outgoing<R>): void {
    if (msg.accepted) return;
    msg.accepted = true;
    msg.onAccepted?.();
  }

  /** `recipient` (now known as `name`) confirmed `msg`, or it was given up for it (`ok` false). */
  settle(msg: Outgoing<R>, recipient: R, name: string, ok: boolean): void {
    if (!msg.open.delete(recipient)) return;
    (ok ? msg.settled.confirmed : msg.settled.unconfirmed).push(name);
    if (msg.open.size || !this.#messages.delete(msg)) return;
    this.#bytes -= msg.size;
    msg.onSettled?.(msg.settled);
  }

  /** Every message, oldest first (to end them all). */
  values(): Outgoing<R>[] {
    return [...this.#messages];
  }

  /** Stops the deadline timer (the session ended; its messages were settled). */
  stop(): void {
    this.#timer = void clearTimeout(this.#timer);
  }

  /** Keeps one timer, for the oldest message's deadline. */
  #arm(): void {
    if (this.#timer) return;
    const first = this.#messages.values().next().value;
    if (!first) return;
    this.#timer = setTimeout(() => this.#due(), Math.max(0, first.deadline - Date.now()));
  }

  #due(): void {
    this.#timer = undefined;
    const now = Date.now();
    for (const msg of this.#messages) {
      if (msg.deadline > now) break;
      this.#expire(msg);
      // Expiring settles every recipient; should one be left, the timer must still move on.
      if (this.#messages.delete(msg)) this.#bytes -= msg.size;
    }
    this.#arm();
  }
}
