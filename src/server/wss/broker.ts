/**
 * The broker: where WSS handshakes, sessions and deliveries live.
 *
 * The session logic ({@link WssSessions}) speaks the protocol and decides what
 * to answer; it keeps nothing shared itself. Everything that must hold for
 * every node of a deployment goes through this interface: handshake records
 * and their expiry, the per-IP and total handshake counts, who holds which
 * private ID, the ordered presence list with each session's connect options,
 * and delivery of frames to sessions wherever they are connected.
 *
 * {@link LocalBroker} keeps all of it in this process (one node). A cluster
 * broker (Redis, say) implements the same interface; neither the session logic
 * nor the endpoints change.
 *
 * Rules every implementation keeps:
 * - **Atomic steps.** Each method is one step as seen by every node: a
 *   private ID is claimed by at most one session cluster-wide, a handshake is
 *   bound at most once, and a {@link Broker.join} both lists the peers and
 *   announces the newcomer so that every other session either appears in the
 *   newcomer's peer list or receives the announcement, never neither nor both.
 * - **Order per session.** Frames handed to one session's {@link Mailbox}
 *   arrive in the order the broker accepted the calls that produced them, for
 *   every sender and every kind of frame (announcements, broadcasts, direct
 *   messages). Calls from one node are accepted in the order they were made.
 * - **Resolving means accepted.** A returned promise resolves once the step
 *   is accepted (and, for deliveries, handed on toward every recipient), not
 *   once frames arrived. It rejects only when the broker cannot do the step
 *   at all (a cluster link is down); the session logic turns that into a
 *   JSON-RPC error for the caller.
 * - **Frames are opaque.** The broker never parses or rewrites a frame; a
 *   cluster broker ships `frame.text()` (or the payload bytes) to other nodes
 *   once per node and rebuilds one {@link Frame} there for all local
 *   recipients (`Frame.text`).
 *
 * All methods may complete synchronously inside the returned promise (the
 * local broker does); callers never rely on that.
 */
import type { Frame } from '../transport/frame.js';

/**
 * The local end of one session: where the broker hands frames for it. Lives
 * on the node that holds the session's socket; only that node's broker calls it.
 */
export interface Mailbox {
  /**
   * Queues a frame for the session's socket. Called in delivery order; never
   * throws; a mailbox whose socket is gone drops the frame (and logs it).
   */
  deliver(frame: Frame): void;
}

/** A handshake to record ({@link Broker.openHandshake}). */
export interface HandshakeClaim {
  /** Address family + IP of the client (see `ipKeyOf`). */
  readonly ipKey: string;
  /** The client's token; unique per `ipKey` among live records. */
  readonly userToken: string;
  /** The token the server hands out (64 hex digits, drawn by the caller). */
  readonly serverToken: string;
  /** Most records (pending or connected) allowed for `ipKey`, this one included. */
  readonly maxPerIp: number;
  /**
   * Milliseconds the record lives unless {@link Broker.join} binds it first;
   * `0` keeps it until it is dropped. Expiry frees its per-IP slot.
   */
  readonly ttlMs: number;
}

/** The outcome of {@link Broker.openHandshake}. */
export type HandshakeOpened =
  | {
      readonly ok: true;
      /** Records for this IP now, the new one included. */
      readonly perIp: number;
      /** Records for every IP now (pending and connected), the new one included. */
      readonly total: number;
    }
  | { readonly ok: false; readonly reason: 'exists' }
  | { readonly ok: false; readonly reason: 'limit'; readonly perIp: number };

/** A handshake record as the broker holds it. */
export interface HandshakeView {
  readonly serverToken: string;
  /** The private ID of the session bound to it, or `null` while pending. */
  readonly privateId: string | null;
}

/** Everything {@link Broker.join} needs to make a session of a handshake. */
export interface JoinRequest {
  readonly ipKey: string;
  readonly userToken: string;
  /** Must equal the record's server token (else `token-mismatch`). */
  readonly serverToken: string;
  /** The private ID to claim cluster-wide. */
  readonly privateId: string;
  /** The session's `WSS_Connect` options, serialised once (relayed verbatim). */
  readonly optionsJson: string;
  /** Where the session's frames go. */
  readonly mailbox: Mailbox;
  /** The `session`/`connect` push, delivered to every other session in the same step. */
  readonly announce: Frame;
}

/**
 * The peers a new session is told of: every session joined before it, in
 * join order, as the insides of the `connect` and `options` JSON arrays of
 * the `WSS_Connect` result. Kept as bytes so a node can cache and grow them
 * instead of serialising 10,000 entries for every connect. The buffers are
 * never changed after they are handed out.
 */
export interface PeerList {
  /** Number of peers. */
  readonly count: number;
  /** `"pid1","pid2",…` (UTF-8), empty when there are none. */
  readonly ids: Buffer;
  /** The matching connect options, `{…},{…},…` (UTF-8). */
  readonly options: Buffer;
}

/** The outcome of {@link Broker.join}. */
export type JoinOutcome =
  | { readonly ok: true; readonly peers: PeerList }
  /** `no-handshake`: no live record; `token-mismatch`: server token differs; `bound`: the record already has a session; `taken`: another session holds the private ID. */
  | { readonly ok: false; readonly reason: 'no-handshake' | 'token-mismatch' | 'bound' | 'taken' };

/** The outcome of {@link Broker.rename}. */
export type RenameOutcome = 'renamed' | 'taken' | 'gone';

/** Where WSS sessions and deliveries live (see the module comment for the rules). */
export interface Broker {
  /**
   * Records a handshake unless `ipKey` already has a live record with the same
   * user token (`exists`) or holds `maxPerIp` records (`limit`).
   */
  openHandshake(claim: HandshakeClaim): Promise<HandshakeOpened>;

  /** The live record for `ipKey` + `userToken`, or `null`. */
  findHandshake(ipKey: string, userToken: string): Promise<HandshakeView | null>;

  /** Drops a pending record (its socket closed first); a bound record is left to {@link Broker.leave}. */
  dropHandshake(ipKey: string, userToken: string): Promise<void>;

  /**
   * Makes a session of a pending handshake, in one step: checks the record
   * and the private ID, binds them (the record stops expiring), appends the
   * session to the presence list, delivers `announce` to every other session,
   * and returns the peers that were present before it.
   */
  join(request: JoinRequest): Promise<JoinOutcome>;

  /**
   * Moves a session to a new private ID (it moves to the end of the presence
   * list) and delivers `announce` to every other session, in one step. `taken` when another session holds `to`, `gone`
   * when no session holds `from`.
   */
  rename(from: string, to: string, announce: Frame): Promise<RenameOutcome>;

  /**
   * Ends a session: drops it from the presence list, releases its private ID,
   * drops its handshake record, then delivers `announce` (if given) to every
   * remaining session. Ending a session that is gone does nothing.
   */
  leave(privateId: string, announce: Frame | null): Promise<void>;

  /** Delivers `frame` to every session except `from` and the `exclude`d private IDs. */
  broadcast(from: string, frame: Frame, exclude: ReadonlySet<string>): Promise<void>;

  /** Delivers `frame` to each listed session; resolves with the IDs no session holds (not delivered). */
  direct(to: ReadonlySet<string>, frame: Frame): Promise<readonly string[]>;

  /** Sessions connected now, on every node. */
  sessionCount(): Promise<number>;

  /** Stops timers and links; afterwards nothing is delivered. */
  close(): Promise<void>;
}
