/**
 * End-to-end delivery (`delivery: 'reliable'`): messages kept until the
 * recipient's session confirms them, numbered per stream, re-sent under the
 * current keys after either side re-keyed, delivered exactly once and in
 * order, with cumulative batched receipts. Wires the store, the streams and
 * the peer sessions to the connection. Spec "Delivery".
 */
import { utf8Encode } from '../crypto/bytes.js';
import { AuthenticationError, DeliveryTimeoutError, type WssError } from '../errors.js';
import type { PushMessage } from '../protocol/wss.js';
import type { Logger } from '../util/logger.js';
import type { Emit } from './link.js';
import type { ResolvedDelivery } from './options.js';
import { type Entry, encodeEntry, encodePayload, type Item, type ItemKind, itemJson } from './frames.js';
import { BATCH_CHARS, BATCH_MESSAGES } from './outbox.js';
import type { PeerEntry } from './peers.js';
import type { Extended, Refusal } from './receive.js';
import {
  type Contact,
  FIRST_RTO,
  newContact,
  type PeerSession,
  PeerSessions,
  stopContact,
  stopSession,
  type Target,
} from './sessions.js';
import { type Outgoing, Store } from './store.js';
import type { Run } from './streams.js';

/** How long a receipt may wait for an envelope to ride on, and how many deliveries make it go at once. */
const RECEIPT_DELAY = 10;
const RECEIPT_EVERY = 256;
const MIN_RTO = 200;
const MAX_RTO = 30_000;

/** What delivery needs of its session. */
export interface DeliveryHost {
  readonly logger: Logger;
  readonly emit: Emit;
  /** Makes the writer ask {@link Delivery.next} for frames. */
  kick(): void;
  /** A sequenced item was delivered (a message, or a request or answer to handle). */
  item(peer: PeerEntry, session: PeerSession | undefined, item: Item, raw: PushMessage): void;
  /** A message was given up for a recipient. */
  lost(msg: Outgoing<Target>, to: string, error: WssError): void;
  /** A message was put on a session's stream (a request then knows whose answer to expect). */
  assigned(msg: Outgoing<Target>, session: PeerSession): void;
}

/** One extended envelope ready to seal: each recipient with its entry, the payload, and what to do once written. */
export interface Frame {
  recipients: Array<{ peer: PeerEntry; extra: Uint8Array<ArrayBuffer> }>;
  plaintext: Uint8Array<ArrayBuffer>;
  /** Private IDs (read now) of the recipients that are still contacts of the connection: the others get nothing. */
  live(): string[];
  /** The relay accepted it. */
  written(): void;
  /** It could not be written (the socket closed, the server refused): what it carried is sent again on the timer. */
  failed(error: Error): void;
}

/** This connection's proof of the session (spec D.4). */
export interface Proof {
  s: string;
  g: string;
}

/** Reliable delivery of one session: it outlives connections, as its streams do. */
export class Delivery {
  readonly #host: DeliveryHost;
  readonly #window: number;
  readonly #store: Store<Target>;
  readonly #sessions: PeerSessions;
  /** Reliable peer keys of the current connection, by their table entry. */
  readonly #contacts = new Map<PeerEntry, Contact>();
  /** Contacts that may have something to send, in the order they got it. */
  readonly #ready = new Set<Contact>();
  /** Messages for private IDs whose session is not known yet, in submission order. */
  readonly #waiting = new Map<string, Outgoing<Target>[]>();
  /**
   * Sessions that were connected when this session's connection last dropped and
   * have not been seen since, with when that was: broadcasts still go to them
   * (they are expected back) for `deliveryTimeout`.
   */
  readonly #roster = new Map<PeerSession, number>();
  readonly #timeout: number;

  constructor(options: ResolvedDelivery, host: DeliveryHost) {
    this.#host = host;
    this.#window = options.receiptWindow;
    this.#timeout = options.deliveryTimeout;
    this.#store = new Store(
      { messages: options.maxUnackedMessages, bytes: options.maxUnackedBytes, timeout: options.deliveryTimeout },
      (msg) => this.#expire(msg),
    );
    this.#sessions = new PeerSessions(options.maxPeerSessions);
  }

  /** A peer key became usable and it advertised reliable delivery: greet it. */
  keyed(peer: PeerEntry): Contact {
    let c = this.#contacts.get(peer);
    if (c) return c;
    c = newContact(peer);
    this.#contacts.set(peer, c);
    this.#mark(c);
    return c;
  }

  /** A peer key is gone (it left, or its private ID got another key). */
  gone(peer: PeerEntry): void {
    const c = this.#contacts.get(peer);
    if (!c) return;
    this.#contacts.delete(peer);
    this.#ready.delete(c);
    stopContact(c);
    const session = c.session;
    if (session?.contact !== c) return;
    this.#sessions.rename(session, c.peer.id);
    session.contact = undefined;
    stopSession(session);
    session.out.rewind();
  }

  /** A peer's private ID changed: its session is known by the new one, and messages waiting for it follow. */
  renamed(oldPrivateId: string, newPrivateId: string): void {
    for (const c of this.#contacts.values())
      if (c.peer.id === newPrivateId && c.session?.contact === c) this.#sessions.rename(c.session, newPrivateId);
    const waiting = this.#waiting.get(oldPrivateId);
    if (!waiting) return;
    this.#waiting.delete(oldPrivateId);
    for (const msg of waiting) if (msg.open.delete(oldPrivateId)) msg.open.add(newPrivateId);
    this.#waiting.set(newPrivateId, [...(this.#waiting.get(newPrivateId) ?? []), ...waiting]);
  }

  /**
   * The connection ended: every contact goes, its session expected back; messages
   * waiting for a private ID go to the session last known under it.
   */
  ended(): void {
    const now = Date.now();
    for (const c of this.#contacts.values()) {
      if (c.session?.contact === c) this.#roster.set(c.session, now);
      this.gone(c.peer);
    }
    for (const [name, msgs] of this.#waiting) {
      const session = this.#sessions.named(name);
      if (!session) continue;
      this.#waiting.delete(name);
      for (const msg of msgs) this.#assign(session, msg, name);
    }
  }

  /**
   * Where a message for `privateId` goes: its session, or the private ID itself while
   * its session is not known yet; `undefined` when it is not a reliable peer.
   * `listed`: the peer under that private ID now, if any.
   */
  route(privateId: string, listed: PeerEntry | undefined): Target | undefined {
    if (this.#waiting.get(privateId)?.length) return privateId;
    if (listed) {
      const c = this.#contacts.get(listed);
      return c && (c.session ?? privateId);
    }
    return this.#sessions.named(privateId);
  }

  /**
   * Broadcast recipients besides the listed peers: the sessions expected back (connected
   * when this session's connection dropped, not seen since, for up to `deliveryTimeout`), but `exclude`.
   */
  roster(exclude: ReadonlySet<string>): PeerSession[] {
    const since = Date.now() - this.#timeout;
    const expected: PeerSession[] = [];
    for (const [session, at] of this.#roster) {
      if (at < since) this.#roster.delete(session);
      else if (!exclude.has(session.name)) expected.push(session);
    }
    return expected;
  }

  /**
   * Keeps a message for `targets` and starts sending it.
   * @throws {QueueFullError} past the store's bounds; {InvalidArgumentError} for one too large.
   */
  submit(kind: ItemKind, id: number, data: unknown, json: string, targets: Target[]): Outgoing<Target> {
    const msg = this.#store.add(kind, id, data, itemJson(kind, id, json), targets);
    for (const target of msg.open) {
      if (typeof target !== 'string') this.#assign(target, msg);
      else {
        const list = this.#waiting.get(target);
        if (list) list.push(msg);
        else this.#waiting.set(target, [msg]);
      }
    }
    this.#host.kick();
    return msg;
  }

  /**
   * One extended envelope from `peer`, its payload and entry checked and its
   * session proof (if any) verified. Runs in arrival order.
   * @returns why it was dropped after all (for `decrypt_error`), or nothing.
   */
  receive(peer: PeerEntry, { payload, entry, proven }: Extended, raw: PushMessage): Refusal | undefined {
    let c = this.#contacts.get(peer);
    if (payload.s) {
      if (!proven)
        return ['authentication', new AuthenticationError(`peer ${peer.id}: its session proof does not verify`)];
      // A peer that proves a session runs reliable delivery, whatever its advert said.
      c ??= this.keyed(peer);
      const refused = this.#bind(c, payload.s);
      if (refused) return ['untrusted-peer', refused];
    }
    const session = c?.session;
    if (c && entry.a) {
      c.knowsUs = true;
      if (session) this.#confirmed(session, entry.a, !!entry.n);
    }
    if (c && entry.h) c.urgent = true;
    if (entry.e === undefined) {
      for (const item of payload.i) this.#host.item(peer, undefined, item, raw);
    } else if (!session) {
      this.#host.logger.debug(
        `wss-sessions: sequenced items from ${peer.id} before its session is known: dropped, it sends them again`,
      );
    } else this.#accept(c as Contact, session, entry, payload.i, raw);
    if (c) this.#schedule(c);
    return undefined;
  }

  /** The next envelope to write on the connection with `proof`, if any contact has something to send. */
  next(proof: Proof): Frame | undefined {
    for (const c of this.#ready) {
      this.#ready.delete(c);
      const frame = this.#frame(c, proof);
      if (frame) return frame;
    }
    return undefined;
  }

  /** The session ended: every message is given up with `error`; nothing is kept but the streams' numbering. */
  stop(error: Error): void {
    this.ended();
    this.#roster.clear();
    this.#waiting.clear();
    for (const msg of this.#store.values()) this.#giveUp(msg, error as WssError, true);
    this.#store.stop();
  }

  /** Binds a contact to the session it proved; a newly bound one gets everything unconfirmed again, and what waited for it. */
  #bind(c: Contact, s: string): Error | undefined {
    const { keys, options } = c.peer;
    const identity = keys.verified ? ((options.e2e as { idk?: string } | undefined)?.idk ?? null) : null;
    const bound = this.#sessions.bind(c, s, identity);
    if (bound instanceof Error) return bound;
    if (!bound) return undefined;
    const session = c.session as PeerSession;
    this.#roster.delete(session);
    stopSession(session);
    session.out.rewind();
    const waiting = this.#waiting.get(c.peer.id);
    if (waiting) {
      this.#waiting.delete(c.peer.id);
      for (const msg of waiting) this.#assign(session, msg, c.peer.id);
    }
    this.#mark(c);
    return undefined;
  }

  /**
   * Puts `msg` on `session`'s stream (replacing the private ID it waited under, `name`),
   * once: a message that reached the session by another way (a broadcast to a session
   * expected back, and to a listed peer that turns out to be it) is not sent twice.
   */
  #assign(session: PeerSession, msg: Outgoing<Target>, name?: string): void {
    if (name !== undefined) {
      msg.open.delete(name);
      if (msg.open.has(session)) return;
      msg.open.add(session);
    }
    session.out.push(msg);
    this.#host.assigned(msg, session);
    if (session.contact) this.#mark(session.contact);
  }

  /** A receipt: confirmed messages settle; the window moves; a negative receipt sends again at once. */
  #confirmed(session: PeerSession, receipt: [number, number], nack: boolean): void {
    const { out } = session;
    const confirmed = out.confirm(receipt);
    if (confirmed.length) {
      this.#sessions.touch(session);
      this.#measure(session);
      for (const msg of confirmed) this.#store.settle(msg, session, session.name, true);
      // Given up already (they settled then): only their places go.
      out.release();
    }
    if (nack && out.inFlight) {
      out.rewind();
      session.timing = undefined;
    }
    if (confirmed.length || nack) this.#mark(session.contact as Contact);
  }

  /** Round trip from the timed transmission to the receipt covering it; the timeout from it (a re-sent one is never timed). */
  #measure(session: PeerSession): void {
    const { timing, out } = session;
    stopSession(session);
    if (timing && out.acked >= timing.seq) {
      const sample = Date.now() - timing.at;
      session.srtt = session.srtt ? session.srtt * 0.875 + sample * 0.125 : sample;
    } else session.timing = timing;
    session.rto = session.srtt ? Math.min(MAX_RTO, Math.max(MIN_RTO, 2 * session.srtt + 50)) : FIRST_RTO;
    this.#arm(session);
  }

  /** Sequenced items: the next ones are delivered, duplicates skipped, a gap asks for a re-send. */
  #accept(c: Contact, session: PeerSession, entry: Entry, items: Item[], raw: PushMessage): void {
    const { start, gap, skipped } = session.in.accept(entry.e as number, entry.f as number, entry.q, items.length);
    const { logger } = this.#host;
    if (skipped) logger.debug(`wss-sessions: ${skipped} messages from ${c.peer.id} were given up by their sender`);
    if (gap) {
      c.nack = c.urgent = true;
      logger.debug(`wss-sessions: a gap in the messages from ${c.peer.id}: asking for them again`);
    } else if (start) logger.debug(`wss-sessions: ${start} messages from ${c.peer.id} delivered before: skipped`);
    this.#sessions.touch(session);
    for (let i = start; i < items.length; i++) this.#host.item(c.peer, session, items[i] as Item, raw);
  }

  /** When the receipt owed to `c` goes: at once, or after RECEIPT_DELAY unless an envelope takes it first. */
  #schedule(c: Contact): void {
    const owed = c.session?.in.owed;
    if (owed && (c.session as PeerSession).in.unreported >= RECEIPT_EVERY) c.receipt = true;
    if (c.urgent || c.receipt) this.#mark(c);
    else if (owed && !c.receiptTimer)
      c.receiptTimer = setTimeout(() => {
        c.receiptTimer = undefined;
        c.receipt = true;
        this.#mark(c);
      }, RECEIPT_DELAY);
  }

  #mark(c: Contact): void {
    if (!this.#contacts.has(c.peer)) return;
    this.#ready.add(c);
    this.#host.kick();
  }

  /** The envelope for `c` (and the contacts that have the same messages next), if it has anything to send. */
  #frame(c: Contact, proof: Proof): Frame | undefined {
    const session = c.session;
    const run = session?.out.take(this.#window, BATCH_MESSAGES, BATCH_CHARS);
    const receipt = !!session?.in.owed && (c.receipt || c.urgent);
    if (!run && !receipt && !c.urgent && !(c.hello && !c.knowsUs)) return undefined;
    const group: Array<[Contact, Run<Outgoing<Target>> | undefined]> = [[c, run]];
    if (run) for (const other of this.#sharing(c, run)) group.push(other);
    const recipients = group.map(([d, r]) => ({ peer: d.peer, extra: utf8Encode(encodeEntry(this.#entry(d, r))) }));
    const greet = group.some(([d]) => !d.knowsUs);
    const msgs = run?.msgs ?? [];
    const plaintext = utf8Encode(
      encodePayload(
        msgs.map((m) => m.item),
        greet ? proof : undefined,
      ),
    );
    const contacts = group.map(([d]) => d);
    for (const d of contacts) if (d.session?.out.ready(this.#window)) this.#mark(d);
    return {
      recipients,
      plaintext,
      live: () => contacts.filter((d) => this.#contacts.get(d.peer) === d).map((d) => d.peer.id),
      written: () => {
        for (const msg of msgs) this.#store.accepted(msg);
      },
      failed: (error) => this.#host.logger.debug('wss-sessions: a delivery envelope was not written', error),
    };
  }

  /** Other contacts whose next messages are exactly `run`'s: they share its envelope, each with its own entry. */
  #sharing(c: Contact, run: Run<Outgoing<Target>>): Array<[Contact, Run<Outgoing<Target>>]> {
    const shared: Array<[Contact, Run<Outgoing<Target>>]> = [];
    for (const d of this.#ready) {
      const out = d.session?.contact === d ? d.session.out : undefined;
      if (d === c || !out || !sameNext(out.peek(this.#window, run.msgs.length), run.msgs)) continue;
      const theirs = out.take(this.#window, run.msgs.length, Number.POSITIVE_INFINITY) as Run<Outgoing<Target>>;
      this.#ready.delete(d);
      shared.push([d, theirs]);
    }
    return shared;
  }

  /** `d`'s entry for an envelope carrying `run` (for it): numbering, its receipt, a negative receipt, a hello. */
  #entry(d: Contact, run: Run<Outgoing<Target>> | undefined): Entry {
    const session = d.session;
    const entry: Entry = {};
    if (session && run) {
      const { out } = session;
      Object.assign(entry, { e: out.epoch, q: run.q, f: out.settled });
      if (run.fresh) session.timing ??= { seq: run.q + run.msgs.length - 1, at: Date.now() };
      this.#arm(session);
    }
    if (session) entry.a = session.in.receipt();
    if (d.nack) entry.n = 1;
    if (!d.knowsUs) {
      entry.h = 1;
      this.#retryHello(d);
    }
    clearTimeout(d.receiptTimer);
    d.receiptTimer = undefined;
    d.receipt = d.urgent = d.nack = d.hello = false;
    return entry;
  }

  /** Starts the retransmission timer of a session with messages in flight. */
  #arm(session: PeerSession): void {
    if (session.timer || !session.out.inFlight || !session.contact) return;
    session.timer = setTimeout(() => {
      session.timer = session.timing = undefined;
      if (!session.out.inFlight || !session.contact) return;
      this.#host.logger.debug(
        `wss-sessions: no receipt from ${session.name} for ${session.rto} ms: sending from ${session.out.settled} again`,
      );
      session.out.rewind();
      session.rto = Math.min(MAX_RTO, session.rto * 2);
      this.#mark(session.contact);
    }, session.rto);
  }

  #retryHello(d: Contact): void {
    if (d.helloTimer) return;
    d.helloTimer = setTimeout(() => {
      d.helloTimer = undefined;
      if (d.knowsUs) return;
      d.hello = true;
      d.helloDelay = Math.min(MAX_RTO, d.helloDelay * 2);
      this.#mark(d);
    }, d.helloDelay);
  }

  /** A message's deadline passed: given up for every recipient still open. */
  #expire(msg: Outgoing<Target>): void {
    this.#giveUp(msg, new DeliveryTimeoutError(this.#timeout, [...msg.open].map(nameOf)), false);
  }

  #giveUp(msg: Outgoing<Target>, error: WssError, clear: boolean): void {
    msg.failure ??= error;
    for (const target of [...msg.open]) {
      const name = nameOf(target);
      if (typeof target === 'string') {
        const list = this.#waiting.get(target);
        list?.splice(list.indexOf(msg), 1);
        if (list && !list.length) this.#waiting.delete(target);
      } else if (clear) target.out.clear();
      else {
        target.out.expire(msg);
        target.out.release();
      }
      this.#store.settle(msg, target, name, false);
      this.#host.lost(msg, name, error);
    }
  }
}

const nameOf = (target: Target): string => (typeof target === 'string' ? target : target.name);

/** Whether `next` holds exactly the messages of `msgs`, in order. */
function sameNext<M>(next: M[], msgs: M[]): boolean {
  return next.length === msgs.length && next.every((m, i) => m === msgs[i]);
}
