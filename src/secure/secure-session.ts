import { EventEmitter } from 'eventemitter3';
import { checkRecipients } from '../client/args.js';
import { wssClientDefaults } from '../client/options.js';
import { InvalidStateError, NotConnectedError, toError } from '../errors.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import { signalOf, throwIfAborted } from '../util/abort.js';
import { Delivery } from './delivery.js';
import { type DeliveredBroadcast, Dispatch, type SecureSendOptions } from './dispatch.js';
import type { SecurePeer, SecureSessionEvents, SecureSessionState } from './events.js';
import { Inbox } from './inbox.js';
import { Lifecycle, type LifecycleHost } from './lifecycle.js';
import type { Emit, Link } from './link.js';
import { type ResolvedSecureOptions, resolveSecureOptions, type SecureSessionOptions } from './options.js';
import { type BroadcastResult, Outbox } from './outbox.js';
import { PeerTable } from './peers.js';
import { type PeerRequestOptions, type RequestHandler, Requests } from './requests.js';
import { Schedule } from './schedule.js';

export type { BroadcastResult } from './outbox.js';
export type { DeliveredBroadcast, SecureSendOptions } from './dispatch.js';

/** What `connect()` resolves with. */
export interface SecureConnectInfo {
  /** This session's private ID. */
  privateId: string;
  /** Private IDs of the peers already connected. */
  peers: string[];
}

/** Options of `connect()`. */
export interface SecureConnectOptions {
  /** Cancels the connect (and its retries): it rejects with `AbortError` and nothing of it is left. */
  signal?: AbortSignal;
}

/** Options of `broadcast()`. */
export interface SecureBroadcastOptions extends SecureSendOptions {
  /** Private IDs that must not receive the broadcast (they get nothing they could decrypt). */
  exclude?: readonly string[];
}

/** What the session keeps of its parts: what the lifecycle is given, and the requests. */
interface Parts extends LifecycleHost {
  readonly requests: Requests;
}

/**
 * End-to-end encrypted peer messaging over any WebSocket Sessions server, with
 * reconnect and session restore. Each connection publishes a fresh ECDH P-256
 * key in its `WSS_Connect` options; every peer pair derives its own keys, one
 * per direction; messages carry counters bound into their authentication, so
 * replayed, reflected, reordered or altered messages are dropped with a
 * `decrypt_error`. See docs/secure-session-spec.md.
 *
 * @example
 * const s = new SecureSession({ url: 'ws://127.0.0.1:8090', info: 'my-app-e2e' });
 * s.on('message', ({ from, data }) => console.log(from, data));
 * await s.connect();
 * await s.broadcast({ text: 'hello' });
 * console.log(s.fingerprint(somePeer)); // compare out of band
 */
export class SecureSession extends EventEmitter<SecureSessionEvents> {
  /** The parts between the API and the wire (peer table, inbox, outbox, delivery, dispatch, requests). */
  readonly #parts: Parts;
  /** The state and the current connection. */
  readonly #life: Lifecycle;
  /** When to connect and reconnect. */
  readonly #schedule: Schedule;
  #closing: Promise<void> = Promise.resolve();

  /** @throws {InvalidArgumentError} for a bad option or combination, naming it. */
  constructor(options: SecureSessionOptions) {
    super();
    this.#parts = this.#assemble(resolveSecureOptions(options));
    this.#life = new Lifecycle(this.#parts);
    this.#schedule = new Schedule(this.#parts, this.#life);
  }

  /** Session state; `'connected'` only while the session is usable (keys agreed, private ID restored). */
  get state(): SecureSessionState {
    return this.#life.state;
  }

  /** This session's private ID; `null` before the first connect. */
  get privateId(): string | null {
    return this.#life.privateId;
  }

  /** Connected peers with their safety numbers: private ID → {@link SecurePeer}. Live, read-only. */
  get peers(): ReadonlyMap<string, SecurePeer> {
    return this.#parts.table.view;
  }

  /** Whether messages are end-to-end encrypted. */
  get encrypted(): boolean {
    return this.#parts.options.encryption;
  }

  /** Safety number of this session's identity key (with `identity`), once connected. */
  get identityFingerprint(): string | null {
    return this.#life.identity?.fingerprint ?? null;
  }

  /**
   * The incoming backlog right now: frames (and their bytes) waiting for their keys to be
   * checked or their decryption, bounded by `maxBacklogFrames` and `maxBacklogBytes`.
   */
  get backlog(): { frames: number; bytes: number } {
    return { frames: this.#parts.inbox.frames, bytes: this.#parts.inbox.bytes };
  }

  /**
   * Safety number to compare out of band. With a peer's private ID: the pair's
   * number, the same at both ends unless a relay replaced a key. Without: this
   * connection's own key. `null` while not connected, for an unknown or
   * unusable peer, and on a plaintext session.
   */
  fingerprint(privateId?: string): string | null {
    if (this.#life.state !== 'connected') return null;
    if (privateId === undefined) return this.#life.open?.keys?.fingerprint ?? null;
    return this.#parts.table.get(privateId)?.keys.fingerprint ?? null;
  }

  /**
   * Connects, publishes this connection's key and agrees keys with every peer.
   * A failed first connect rejects, unless `reconnect.retryFirstConnect` retries it;
   * drops after that reconnect.
   * @throws (rejects) {InvalidStateError} unless the state is `'disconnected'`; {AbortError} when
   *   `signal` aborts (nothing of the attempt is left); the last attempt's error.
   * @example
   * await session.connect({ signal: AbortSignal.timeout(10_000) });
   */
  async connect(options: SecureConnectOptions = {}): Promise<SecureConnectInfo> {
    const signal = signalOf(options, 'connect()');
    const { state } = this.#life;
    if (state !== 'disconnected')
      throw new InvalidStateError(`connect() needs state 'disconnected', but it is '${state}'`);
    throwIfAborted(signal, 'connect');
    const privateId = await this.#schedule.connect(signal);
    return { privateId, peers: [...this.#parts.table.view.keys()] };
  }

  /**
   * Sends to one or more peers, encrypted for each. Resolves when the server
   * accepted it (not delivered), or with `{ await: 'delivered' }` when every
   * recipient's session confirmed it (`delivery: 'reliable'`). While reconnecting
   * it waits and is encrypted with the new keys. With reliable delivery, a peer
   * that runs it too gets it exactly once, re-sent across reconnects until it
   * confirms or `deliveryTimeout` passes (`undelivered`); other peers at most once.
   * @throws (rejects) {InvalidArgumentError} for an unknown peer or data that is not JSON,
   *   {AuthenticationError} for a peer without a usable key, {QueueFullError}, {NotConnectedError},
   *   {DeliveryTimeoutError} when a receipt it awaits did not come in time.
   * @example
   * await session.send('bob', { text: 'hi' }, { await: 'delivered' }); // Bob's session confirmed it
   */
  async send(to: string | readonly string[], data: unknown, options: SecureSendOptions = {}): Promise<void> {
    const ids = checkRecipients('to', to, false);
    await this.#parts.dispatch.submit('d', ids, data, options, this.#sending('send'));
  }

  /**
   * Sends to every usable peer but those in `exclude`. Encrypted, it travels
   * as one direct `WSS_Send` to exactly the recipients, each able to decrypt
   * only its own key wrap; receivers see `type: 'broadcast'`. With reliable delivery,
   * as `send()`; while reconnecting it goes to the peers connected before the drop.
   * @returns who it went to and which peers were skipped (no usable key); with
   *   `{ await: 'delivered' }` also who `confirmed` it and who did not (`unconfirmed`) in time.
   */
  async broadcast(data: unknown, options: SecureBroadcastOptions & { await: 'delivered' }): Promise<DeliveredBroadcast>;
  async broadcast(data: unknown, options?: SecureBroadcastOptions): Promise<BroadcastResult>;
  async broadcast(data: unknown, options: SecureBroadcastOptions = {}): Promise<BroadcastResult> {
    const { exclude } = options;
    const ids = exclude === undefined ? [] : checkRecipients('exclude', exclude, true);
    return this.#parts.dispatch.submit('b', ids, data, options, this.#sending('broadcast'));
  }

  /**
   * Asks one peer and resolves with its answer: the value its `handle()` handler returned,
   * encrypted both ways. On a reliable pair the request and its answer are delivered
   * exactly once across reconnects.
   * @throws (rejects) {PeerError} when the peer's handler threw (its message only) or it has none;
   *   {TimeoutError} after `timeoutMs` (default: `requestTimeout`); {AbortError} on `signal`;
   *   {InvalidArgumentError} for an unknown peer or one that does not answer requests (an older
   *   version); {QueueFullError} past `maxPendingRequests`; {DeliveryTimeoutError}; {NotConnectedError}.
   * @example
   * const price = await session.request('bob', { item: 'sword' }, { timeoutMs: 5000 });
   */
  async request(to: string, data: unknown, options: PeerRequestOptions = {}): Promise<unknown> {
    return this.#parts.dispatch.request(to, data, options, this.#sending('request'));
  }

  /**
   * Sets the handler that answers peers' requests (`null` removes it): what it returns
   * (or resolves with) goes back as the answer; what it throws goes back as its message only,
   * never its stack, and rejects the peer's `request()` with `PeerError`.
   * @example
   * session.handle(async (data, { from }) => ({ price: await priceOf(data.item), for: from }));
   */
  handle(handler: RequestHandler | null): void {
    this.#parts.requests.handle(handler);
  }

  /**
   * Changes this session's private ID; peers see a `peerpid` event. The ID is
   * restored after every reconnect (and on a later `connect()`).
   * @throws (rejects) {NotConnectedError} unless the state is `'connected'`; `RpcError` when the server refuses the ID.
   */
  async setPrivateId(privateId: string, options: RequestOptions = {}): Promise<string> {
    // The client checks the ID.
    const link = this.#connected('setPrivateId');
    const result = await link.client.setPrivateId(privateId, options);
    this.#life.named(link, result);
    return result;
  }

  /** Asks the server for this session's private ID. */
  async getPrivateId(options: RequestOptions = {}): Promise<string> {
    return this.#connected('getPrivateId').client.getPrivateId(options);
  }

  /**
   * Closes the session and stops reconnecting: no timer, listener or socket is
   * left. Queued sends reject with `ConnectionClosedError`. Safe in any state.
   */
  disconnect(): Promise<void> {
    const { state } = this.#life;
    // 'disconnecting' is this session's state exactly while a shutdown runs.
    if (state === 'disconnected') this.#closing = this.#parts.inbox.idle();
    else if (state !== 'disconnecting') {
      this.#schedule.halt();
      this.#closing = this.#life.shutdown();
    }
    return this.#closing;
  }

  /** The parts between the API and the wire, wired to each other, to this session's events and to its lifecycle. */
  #assemble(o: ResolvedSecureOptions): Parts {
    const { logger } = o;
    const emit: Emit = (event, ...args) => this.#emit(event, ...args);
    // Peers by private ID; changed only by inbox tasks, in arrival order.
    const table = new PeerTable(o.encryption, o.maxRetiredPeerKeys);
    const inbox = new Inbox({ frames: o.maxBacklogFrames, bytes: o.maxBacklogBytes }, (error) =>
      logger.error('wss-sessions: event failed', error),
    );
    // Delivery and the dispatch call each other: delivery's calls go through closures, which run once both exist.
    const delivery = o.delivery
      ? new Delivery(o.delivery, {
          logger,
          emit,
          kick: () => void outbox.pump(),
          item: (peer, session, item, raw) => dispatch.item(peer, session, item, raw),
          lost: (msg, to, error) => dispatch.lost(msg, to, error),
          assigned: (msg, session) => dispatch.assigned(msg, session),
        })
      : undefined;
    const outbox = new Outbox(table, o.queueSize, () => this.#life.open, delivery);
    const timeout = o.client.requestTimeout ?? wssClientDefaults.requestTimeout;
    const requests = new Requests(o.maxPendingRequests, timeout, logger);
    const dispatch = new Dispatch({ table, outbox, delivery, requests, emit, logger, encryption: o.encryption });
    return {
      options: o,
      logger,
      table,
      inbox,
      emit,
      outbox,
      requests,
      dispatch,
      delivery,
      deliver: (from, type, items, raw, encrypted) => dispatch.deliver(from, type, items, raw, encrypted),
      extended: (peer, frame, raw) => dispatch.extended(peer, frame, raw),
      keyed: (peer) => dispatch.keyed(peer),
      gone: (peer) => delivery?.gone(peer),
      renamed: (oldPrivateId, newPrivateId) => delivery?.renamed(oldPrivateId, newPrivateId),
      lost: (link, info, failure) => this.#life.lost(link, info, failure),
      dropped: (close) => this.#schedule.dropped(close),
    };
  }

  /** The current connection, for an operation that needs state `'connected'`. */
  #connected(operation: string): Link {
    const link = this.#life.open;
    if (!link) throw new NotConnectedError(operation, this.#life.state);
    return link;
  }

  /**
   * For an operation that sends: whether the session is connected (else it is
   * reconnecting, and what is sent waits). @throws {NotConnectedError} in other states.
   */
  #sending(operation: string): boolean {
    const { state } = this.#life;
    if (state !== 'connected' && state !== 'reconnecting') throw new NotConnectedError(operation, state);
    return state === 'connected';
  }

  /** Listener exceptions must not unwind into the socket's event loop. */
  #emit<E extends keyof SecureSessionEvents>(event: E, ...args: Parameters<SecureSessionEvents[E]>): void {
    try {
      (this.emit as (event: E, ...args: Parameters<SecureSessionEvents[E]>) => boolean)(event, ...args);
    } catch (error) {
      this.#parts.logger.error(`wss-sessions: a '${event}' listener threw`, toError(error));
    }
  }
}
