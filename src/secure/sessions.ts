/**
 * Who is who for delivery: the peer sessions this session has streams with
 * (both directions, across any number of their connections and ours), and the
 * current connection's contacts (peer keys) bound to them by a verified
 * session proof. Spec "Delivery", D.4 and D.7.
 */
import { AuthenticationError, ProtocolError, QueueFullError } from '../errors.js';
import type { PeerEntry } from './peers.js';
import type { Outgoing } from './store.js';
import { InStream, OutStream } from './streams.js';

/** First retransmission timeout, before any round trip was measured (ms). */
export const FIRST_RTO = 1000;

/** A peer session: its streams, and the contact (peer key) it is reachable through now. */
export class PeerSession {
  /** The session ID: base64 of its ECDSA P-256 public key. */
  readonly s: string;
  /** The identity key it was first proved under (`null`: none); it never proves itself under another. */
  readonly identity: string | null;
  /** Its private ID, as last known. Sessions are indexed by it: {@link PeerSessions.rename} changes it. */
  readonly name: string;
  contact: Contact | undefined;
  readonly out = new OutStream<Outgoing<Target>>();
  readonly in = new InStream();
  /**
   * `Date.now()` of its last activity, for forgetting the least recently active and for
   * finding the latest under a private ID: {@link PeerSessions.touch} changes it.
   */
  readonly active: number = Date.now();
  /** Retransmission timeout, smoothed round trip, the transmission being timed, the timer. */
  rto = FIRST_RTO;
  srtt = 0;
  timing: { seq: number; at: number } | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(s: string, identity: string | null, name: string) {
    this.s = s;
    this.identity = identity;
    this.name = name;
  }
}

/** Where a reliable message goes: a peer session, or a private ID whose session is not known yet. */
export type Target = PeerSession | string;

/** A reliable peer key of the current connection. */
export interface Contact {
  /** Its peer-table entry (its `id` follows renames). */
  readonly peer: PeerEntry;
  /** The session it proved, once it did. */
  session: PeerSession | undefined;
  /** It sent a receipt, so it verified this session's proof: no proof or hello needed any more. */
  knowsUs: boolean;
  /** A receipt must go at once: it asked (hello), or a gap was seen (`nack`). */
  urgent: boolean;
  nack: boolean;
  /** A hello is due (the first, or the retry timer fired). */
  hello: boolean;
  /** A receipt is due (its delay passed). */
  receipt: boolean;
  helloDelay: number;
  helloTimer: ReturnType<typeof setTimeout> | undefined;
  receiptTimer: ReturnType<typeof setTimeout> | undefined;
}

/** First hello retry delay (ms); it doubles up to the longest retransmission timeout. */
const FIRST_HELLO_RETRY = 500;

/** A contact for a peer key just announced: it is greeted (a hello) before anything else. */
export function newContact(peer: PeerEntry): Contact {
  return {
    peer,
    session: undefined,
    knowsUs: false,
    urgent: false,
    nack: false,
    hello: true,
    receipt: false,
    helloDelay: FIRST_HELLO_RETRY,
    helloTimer: undefined,
    receiptTimer: undefined,
  };
}

/** Stops a contact's timers. */
export function stopContact(c: Contact): void {
  clearTimeout(c.helloTimer);
  clearTimeout(c.receiptTimer);
  c.helloTimer = c.receiptTimer = undefined;
}

/** Stops a session's retransmission timer and timing. */
export function stopSession(session: PeerSession): void {
  clearTimeout(session.timer);
  session.timer = session.timing = undefined;
}

/** What {@link PeerSessions} alone writes of a session, as it indexes sessions by it. */
type Indexed = { name: string; active: number };

/** The sessions last known under one private ID, and the most recently active of them. */
interface Named {
  latest: PeerSession;
  readonly all: Set<PeerSession>;
}

/** Every peer session this session has streams with, bounded by `maxPeerSessions`. */
export class PeerSessions {
  readonly #max: number;
  readonly #all = new Map<string, PeerSession>();
  /** The remembered sessions by private ID: {@link named} runs for messages, so it looks up rather than scans. */
  readonly #byName = new Map<string, Named>();

  /** `max`: peer sessions remembered (`maxPeerSessions`). */
  constructor(max: number) {
    this.#max = max;
  }

  /** The most recently active session last known under `privateId`. */
  named(privateId: string): PeerSession | undefined {
    return this.#byName.get(privateId)?.latest;
  }

  /** `session` is known under `privateId` from now on. */
  rename(session: PeerSession, privateId: string): void {
    if (session.name === privateId) return;
    const remembered = this.#all.get(session.s) === session;
    if (remembered) this.#unlist(session);
    (session as Indexed).name = privateId;
    if (remembered) this.#list(session);
  }

  /** `session` was active now: it is the latest under its private ID. */
  touch(session: PeerSession): void {
    (session as Indexed).active = Date.now();
    const named = this.#all.get(session.s) === session ? this.#byName.get(session.name) : undefined;
    if (named && session.active >= named.latest.active) named.latest = session;
  }

  /**
   * Binds `contact` to the session `s` it proved (the proof is checked),
   * creating the session's state when it is new. A later key of the same
   * session takes it over from the earlier one.
   * @returns `true` when the contact is newly bound (the session's stream
   *   starts again on its key), `false` when it was bound to `s` already; an
   *   Error when refused: the key proved another session before (`ProtocolError`),
   *   the session is bound to another identity (`AuthenticationError`), or no more
   *   sessions can be remembered (`QueueFullError`).
   */
  bind(contact: Contact, s: string, identity: string | null): boolean | Error {
    const { peer } = contact;
    if (contact.session)
      return contact.session.s === s
        ? false
        : new ProtocolError(`peer ${peer.id}: its key proved another session before`);
    let session = this.#all.get(s);
    if (session && session.identity !== identity)
      return new AuthenticationError(`peer ${peer.id}: its session was proved under another identity`);
    if (!session) {
      if (this.#all.size >= this.#max && !this.#forget())
        return new QueueFullError(
          `peer ${peer.id}: ${this.#all.size} peer sessions are remembered, each connected or with messages waiting (maxPeerSessions)`,
        );
      session = new PeerSession(s, identity, peer.id);
      this.#all.set(s, session);
      this.#list(session);
    }
    if (session.contact) session.contact.session = undefined;
    session.contact = contact;
    this.rename(session, peer.id);
    this.touch(session);
    contact.session = session;
    return true;
  }

  /** Forgets the least recently active session that is not connected and has nothing unconfirmed. */
  #forget(): boolean {
    let oldest: PeerSession | undefined;
    for (const s of this.#all.values())
      if (!s.contact && !s.out.size && (!oldest || s.active < oldest.active)) oldest = s;
    if (!oldest) return false;
    this.#all.delete(oldest.s);
    this.#unlist(oldest);
    return true;
  }

  /** Indexes a remembered session under its private ID. */
  #list(session: PeerSession): void {
    const named = this.#byName.get(session.name);
    if (!named) this.#byName.set(session.name, { latest: session, all: new Set([session]) });
    else {
      named.all.add(session);
      if (session.active > named.latest.active) named.latest = session;
    }
  }

  /** Takes a session out of the index of its private ID; the next most recently active there becomes the latest. */
  #unlist(session: PeerSession): void {
    const named = this.#byName.get(session.name);
    if (!named?.all.delete(session)) return;
    if (!named.all.size) this.#byName.delete(session.name);
    else if (named.latest === session) named.latest = mostActive(named.all);
  }
}

/** The most recently active of `sessions` (not empty). */
function mostActive(sessions: Iterable<PeerSession>): PeerSession {
  let found: PeerSession | undefined;
  for (const s of sessions) if (!found || s.active > found.active) found = s;
  return found as PeerSession;
}
