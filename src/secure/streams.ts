/**
 * The two ends of one delivery stream (one sender session to one recipient
 * session): sequence numbers, cumulative receipts, the window, go-back-N
 * re-sending and epochs. Pure state, no timers and no I/O: spec "Delivery", D.5 and D.6.
 */
import { advance } from '../util/front.js';
import type { Receipt } from './frames.js';

/** What a stream carries: the item's JSON, its share of the size bound, and its place in submission order. */
export interface Sendable {
  readonly item: string;
  readonly size: number;
  readonly order: number;
}

interface Slot<M> {
  seq: number;
  msg: M;
  /** Given up while an earlier message of the stream was still open: settled once it reaches the head. */
  expired: boolean;
}

/** What to send next: the sequence number of the first message and the messages. */
export interface Run<M> {
  q: number;
  msgs: M[];
  /** None of them was sent before. */
  fresh: boolean;
}

/** Largest epoch plus one: epochs are random 32-bit numbers. */
const EPOCHS = 2 ** 32;

/**
 * The sender's end: the unconfirmed messages in sequence order (always a
 * contiguous run from {@link settled}), what the receiver confirmed and what
 * was sent on the current keys.
 */
export class OutStream<M extends Sendable> {
  /** Chosen when the stream is created; a receiver that sees a new epoch starts again from `f`. */
  readonly epoch: number;
  /** Highest sequence number confirmed by a receipt. */
  acked = 0;
  /** Highest sequence number sent on the current keys. */
  sent = 0;
  #next = 1;
  /** Highest sequence number ever sent, on any keys. */
  #highest = 0;
  /** Given-up messages still waiting behind open ones (rare: see {@link expire}). */
  #expired = 0;
  /** The unconfirmed messages, from index {@link #head} on (see util/front.ts). */
  #slots: Array<Slot<M> | undefined> = [];
  #head = 0;

  constructor(random: () => number = Math.random) {
    this.epoch = Math.floor(random() * EPOCHS);
  }

  /** Unconfirmed messages. */
  get size(): number {
    return this.#slots.length - this.#head;
  }

  /** Every sequence number below this is settled (confirmed, or given up): the entry's `f`. */
  get settled(): number {
    return this.#slots[this.#head]?.seq ?? this.#next;
  }

  /** Whether a message sent on the current keys still waits for its receipt. */
  get inFlight(): boolean {
    return this.size > 0 && this.sent >= this.settled;
  }

  /**
   * Adds a message in submission order among those never sent (on any keys), which
   * are numbered again behind it: one that waited for its recipient's session to be
   * known goes before what was submitted after it. Usually that is the end.
   * @returns its sequence number.
   */
  push(msg: M): number {
    const slots = this.#slots;
    let at = slots.length;
    while (
      at > this.#head &&
      (slots[at - 1] as Slot<M>).seq > this.#highest &&
      (slots[at - 1] as Slot<M>).msg.order > msg.order
    )
      at--;
    const seq = at < slots.length ? (slots[at] as Slot<M>).seq : this.#next;
    slots.splice(at, 0, { seq, msg, expired: false });
    for (let i = at + 1; i < slots.length; i++) (slots[i] as Slot<M>).seq++;
    this.#next++;
    return seq;
  }

  /**
   * A receipt for `[epoch, k]`. A receipt for another epoch, or for less than
   * already confirmed, changes nothing; one beyond what was ever numbered counts
   * up to the last number.
   * @returns the messages it confirmed, in order.
   */
  confirm([epoch, k]: Receipt): M[] {
    const upTo = Math.min(k, this.#next - 1);
    if (epoch !== this.epoch || upTo <= this.acked) return [];
    this.acked = upTo;
    if (this.sent < upTo) this.sent = upTo;
    const done: M[] = [];
    while (this.size && this.settled <= upTo) {
      const slot = this.#shift();
      // Given up already, but the receipt came after all: it settled then, as unconfirmed.
      if (slot.expired) this.#expired--;
      else done.push(slot.msg);
    }
    return done;
  }

  /**
   * Gives `msg` up. Only the head of the stream can go (the receiver can skip a
   * prefix only, with `f`): a message behind others is marked and goes when they have.
   * @returns whether it was in this stream.
   */
  expire(msg: M): boolean {
    const slot = this.#slots.find((s, i) => i >= this.#head && s?.msg === msg);
    if (slot && !slot.expired) {
      slot.expired = true;
      this.#expired++;
    }
    return !!slot;
  }

  /** Removes the given-up messages at the head. @returns them, in order. */
  release(): M[] {
    const gone: M[] = [];
    while (this.#slots[this.#head]?.expired) {
      gone.push(this.#shift().msg);
      this.#expired--;
    }
    if (this.sent < this.settled - 1) this.sent = this.settled - 1;
    return gone;
  }

  /** Keys changed (or a receipt says a gap): everything unconfirmed goes again, from the first. */
  rewind(): void {
    this.sent = this.settled - 1;
  }

  /** Whether {@link take} would give something now. */
  ready(window: number): boolean {
    return this.sent < this.#last(window);
  }

  /**
   * The next messages to send: after {@link sent}, at most `window` beyond
   * {@link settled} − 1, never a given-up one, at most `maxItems` of them and
   * `maxChars` of item JSON (but at least one). Counts them as sent.
   * `fresh`: none of them was sent before (only fresh runs are timed).
   */
  take(window: number, maxItems: number, maxChars: number): Run<M> | undefined {
    const msgs = this.peek(window, maxItems, maxChars);
    if (!msgs.length) return undefined;
    const q = this.sent + 1;
    this.sent += msgs.length;
    const fresh = q > this.#highest;
    if (this.sent > this.#highest) this.#highest = this.sent;
    return { q, msgs, fresh };
  }

  /** What {@link take} would give, without counting it as sent. */
  peek(window: number, maxItems: number, maxChars = Number.POSITIVE_INFINITY): M[] {
    const first = this.settled;
    const last = this.#last(window);
    const msgs: M[] = [];
    let chars = 0;
    for (let seq = this.sent + 1; seq <= last && msgs.length < maxItems; seq++) {
      const { msg } = this.#slots[this.#head + seq - first] as Slot<M>;
      chars += msg.item.length;
      if (msgs.length && chars > maxChars) break;
      msgs.push(msg);
    }
    return msgs;
  }

  /** The last sequence number that may be sent now: within the window, before any given-up message. */
  #last(window: number): number {
    const first = this.settled;
    let last = Math.min(first - 1 + window, this.#next - 1);
    if (this.#expired)
      for (let seq = this.sent + 1; seq <= last; seq++)
        if ((this.#slots[this.#head + seq - first] as Slot<M>).expired) last = seq - 1;
    return last;
  }

  /** Takes the first slot off. */
  #shift(): Slot<M> {
    const slot = this.#slots[this.#head] as Slot<M>;
    [this.#slots, this.#head] = advance(this.#slots, this.#head);
    return slot;
  }

  /** Removes every message (the session ended). */
  clear(): void {
    this.#slots = [];
    this.#head = 0;
    this.#expired = 0;
    this.sent = this.settled - 1;
  }
}

/** What to do with an envelope's sequenced items. */
export interface Accepted {
  /** Index of the first item to deliver; items before it were delivered before. */
  start: number;
  /** Whether a gap was found: nothing is delivered, and a negative receipt is owed (once per gap). */
  gap: boolean;
  /** Sequence numbers the sender gave up and this end skipped. */
  skipped: number;
}

/**
 * The receiver's end: the sender's epoch and the highest sequence number
 * delivered. Only the next number is ever delivered (go-back-N), so it keeps no messages.
 */
export class InStream {
  epoch: number | null = null;
  delivered = 0;
  /** A receipt should go back (something new was delivered, or a duplicate says the last one was lost). */
  owed = false;
  /** Deliveries since the last receipt. */
  unreported = 0;
  /** `delivered` when the last negative receipt went out: one per gap. */
  #nacked = -1;

  /**
   * Takes an entry's `e`, `f` and `q` and the number of items, and updates the
   * state as if the items from `start` on were delivered (the caller delivers them).
   */
  accept(e: number, f: number, q: number | undefined, count: number): Accepted {
    let skipped = 0;
    if (this.epoch !== e) {
      this.epoch = e;
      this.delivered = f - 1;
      this.#nacked = -1;
    } else if (f - 1 > this.delivered) {
      skipped = f - 1 - this.delivered;
      this.delivered = f - 1;
    }
    if (q === undefined || !count) return { start: 0, gap: false, skipped };
    if (q > this.delivered + 1) {
      const first = this.#nacked !== this.delivered;
      this.#nacked = this.delivered;
      return { start: count, gap: first, skipped };
    }
    const start = Math.min(count, this.delivered + 1 - q);
    this.owed = true;
    this.unreported += count - start;
    this.delivered = Math.max(this.delivered, q + count - 1);
    return { start, gap: false, skipped };
  }

  /** The receipt to send now; clears what was owed. */
  receipt(): Receipt {
    this.owed = false;
    this.unreported = 0;
    return [this.epoch ?? 0, this.delivered];
  }
}
