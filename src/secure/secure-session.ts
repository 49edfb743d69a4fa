import { EventEmitter } from 'eventemitter3';
import { checkRecipients } from '../client/args.js';
import type { CloseEvent } from '../client/events.js';
import {
  AbortError,
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidStateError,
  NotConnectedError,
  toError,
  UnsupportedEnvironmentError,
} from '../errors.js';
import type { PushMessage } from '../protocol/wss.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import type { CloseInfo } from '../transport/transport.js';
import type { Logger } from '../util/logger.js';
import { wssClientDefaults } from '../client/options.js';
import { Delivery } from './delivery.js';
import { type DeliveredBroadcast, Dispatch, type SecureSendOptions } from './dispatch.js';
import type { SecurePeer, SecureSessionEvents, SecureSessionState } from './events.js';
import { Inbox } from './inbox.js';
import { type Emit, Link, type LinkHost } from './link.js';
import {
  backoffDelay,
  type ResolvedSecureOptions,
  resolveSecureOptions,
  type SecureSessionOptions,
} from './options.js';
import { type BroadcastResult, Outbox } from './outbox.js';
import { PeerTable } from './peers.js';
import { type PeerRequestOptions, type RequestHandler, Requests } from './requests.js';
import {
  createLocalKeys,
  createSessionKey,
  type LocalIdentity,
  loadIdentity,
  proveSession,
  type SessionKey,
} from './scheme.js';

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

/** How a run of connect attempts ended: connected after `attempts` retries, or given up with the last error. */
type Attempted = { privateId: string; attempts: number } | { privateId?: undefined; attempts: number; error: Error };

/** Thrown inside a connect attempt that `disconnect()` (or an abort) made stale. */
const stale = (): ConnectionClosedError =>
  new ConnectionClosedError('connect', undefined, 'disconnect() was called while connecting');

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
  readonly #options: ResolvedSecureOptions;
  /** The client's logger (silent by default). */
  readonly #logger: Logger;
  /** Peers by private ID; changed only by inbox tasks, in arrival order. */
  readonly #table: PeerTable;
  readonly #inbox: Inbox;
  readonly #outbox: Outbox;
  /** With `delivery: 'reliable'`: receipts and retransmission. */
  readonly #delivery: Delivery | undefined;
  readonly #requests: Requests;
  /** Where sends, requests and extended envelopes go. */
  readonly #dispatch: Dispatch;
  /** With reliable delivery: the session key, created on the first connect and kept (its public key is the session ID). */
  #sessionKey: SessionKey | undefined;
  /** What each connection is given of this session. */
  readonly #host: LinkHost;
  #state: SecureSessionState = 'disconnected';
  /** The current connection; a reconnect makes a new one. */
  #link: Link | undefined;
  #identity: LocalIdentity | undefined;
  /** The private ID last set with `setPrivateId`, restored on every connect. */
  #desiredPrivateId: string | undefined;
  #privateId: string | null = null;
  /** Ends the current wait between connect attempts early. */
  #wake: (() => void) | undefined;
  /** Bumped by `disconnect()` and aborts: a connect attempt of an older epoch is stale. */
  #epoch = 0;
  #closing: Promise<void> = Promise.resolve();

  /** @throws {InvalidArgumentError} for a bad option or combination, naming it. */
  constructor(options: SecureSessionOptions) {
    super();
    const o = resolveSecureOptions(options);
    this.#options = o;
    this.#logger = o.logger;
    this.#table = new PeerTable(o.encryption, o.maxRetiredPeerKeys);
    this.#inbox = new Inbox({ frames: o.maxBacklogFrames, bytes: o.maxBacklogBytes }, (error) =>
      this.#logger.error('wss-sessions: event failed', error),
    );
    const emit: Emit = (event, ...args) => this.#emit(event, ...args);
    const dispatch = (): Dispatch => this.#dispatch;
    this.#delivery = o.delivery
      ? new Delivery(o.delivery, {
          logger: o.logger,
          emit,
          kick: () => void this.#outbox.pump(),
          item: (peer, session, item, raw) => dispatch().item(peer, session, item, raw),
          lost: (msg, to, error) => dispatch().lost(msg, to, error),
          assigned: (msg, session) => dispatch().assigned(msg, session),
        })
      : undefined;
    this.#outbox = new Outbox(
      this.#table,
      o.queueSize,
      () => (this.#state === 'connected' ? this.#link : undefined),
      this.#delivery,
    );
    const timeout = o.client.requestTimeout ?? wssClientDefaults.requestTimeout;
    this.#requests = new Requests(o.maxPendingRequests, timeout, o.logger);
    this.#dispatch = new Dispatch({
      table: this.#table,
      outbox: this.#outbox,
      delivery: this.#delivery,
      requests: this.#requests,
      emit,
      logger: o.logger,
      encryption: o.encryption,
    });
    this.#host = {
      options: o,
      logger: o.logger,
      table: this.#table,
      inbox: this.#inbox,
      emit,
      deliver: (from, type, items, raw, encrypted) => this.#deliver(from, type, items, raw, encrypted),
      lost: (link, info, failure) => this.#lost(link, info, failure),
      extended: (peer, frame, raw) => this.#dispatch.extended(peer, frame, raw),
      keyed: (peer) => this.#dispatch.keyed(peer),
      gone: (peer) => this.#delivery?.gone(peer),
      renamed: (oldPrivateId, newPrivateId) => this.#delivery?.renamed(oldPrivateId, newPrivateId),
    };
  }

  /** Session state; `'connected'` only while the session is usable (keys agreed, private ID restored). */
  get state(): SecureSessionState {
    return this.#state;
  }

  /** This session's private ID; `null` before the first connect. */
  get privateId(): string | null {
    return this.#privateId;
  }

  /** Connected peers with their safety numbers: private ID → {@link SecurePeer}. Live, read-only. */
  get peers(): ReadonlyMap<string, SecurePeer> {
    return this.#table.view;
  }

  /** Whether messages are end-to-end encrypted. */
  get encrypted(): boolean {
    return this.#options.encryption;
  }

  /** Safety number of this session's identity key (with `identity`), once connected. */
  get identityFingerprint(): string | null {
    return this.#identity?.fingerprint ?? null;
  }

  /**
   * The incoming backlog right now: frames (and their bytes) waiting for their keys to be
   * checked or their decryption, bounded by `maxBacklogFrames` and `maxBacklogBytes`.
   */
  get backlog(): { frames: number; bytes: number } {
    return { frames: this.#inbox.frames, bytes: this.#inbox.bytes };
  }

  /**
   * Safety number to compare out of band. With a peer's private ID: the pair's
   * number, the same at both ends unless a relay replaced a key. Without: this
   * connection's own key. `null` while not connected, for an unknown or
   * unusable peer, and on a plaintext session.
   */
  fingerprint(privateId?: string): string | null {
    if (this.#state !== 'connected') return null;
    if (privateId === undefined) return this.#link?.keys?.fingerprint ?? null;
    return this.#table.get(privateId)?.keys.fingerprint ?? null;
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
    const signal = connectSignal(options);
    if (this.#state !== 'disconnected')
      throw new InvalidStateError(`connect() needs state 'disconnected', but it is '${this.#state}'`);
    if (signal?.aborted) throw new AbortError('connect', { cause: signal.reason });
    const epoch = this.#epoch;
    this.#setState('connecting');
    let onAbort = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        if (this.#cancel(epoch)) reject(new AbortError('connect', { cause: signal?.reason }));
      };
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await Promise.race([this.#attempts(epoch, false), aborted]);
      if (result.privateId === undefined) throw result.error;
      return { privateId: result.privateId, peers: [...this.#table.view.keys()] };
    } catch (error) {
      this.#cancel(epoch);
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
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
    await this.#submit('send', 'd', checkRecipients('to', to, false), data, options);
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
    return this.#submit(
      'broadcast',
      'b',
      exclude === undefined ? [] : checkRecipients('exclude', exclude, true),
      data,
      options,
    );
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
    const state = this.#state;
    if (state !== 'connected' && state !== 'reconnecting') throw new NotConnectedError('request', state);
    return this.#dispatch.request(to, data, options, state === 'connected');
  }

  /**
   * Sets the handler that answers peers' requests (`null` removes it): what it returns
   * (or resolves with) goes back as the answer; what it throws goes back as its message only,
   * never its stack, and rejects the peer's `request()` with `PeerError`.
   * @example
   * session.handle(async (data, { from }) => ({ price: await priceOf(data.item), for: from }));
   */
  handle(handler: RequestHandler | null): void {
    this.#requests.handle(handler);
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
    this.#desiredPrivateId = result;
    if (this.#link === link) this.#setPrivateIdValue(result);
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
    // 'disconnecting' is this session's state exactly while a shutdown runs.
    if (this.#state !== 'disconnecting')
      this.#closing = this.#state === 'disconnected' ? this.#inbox.idle() : this.#shutdown();
    return this.#closing;
  }

  /** The current connection, for an operation that needs state `'connected'`. */
  #connected(operation: string): Link {
    // A 'close' listener runs while the state still reads 'connected' but the connection is already let go of.
    const link = this.#link;
    if (this.#state !== 'connected' || !link) throw new NotConnectedError(operation, this.#state);
    return link;
  }

  #submit(
    operation: string,
    kind: 'b' | 'd',
    ids: string[],
    data: unknown,
    options: SecureSendOptions,
  ): Promise<BroadcastResult> {
    const state = this.#state;
    if (state !== 'connected' && state !== 'reconnecting') throw new NotConnectedError(operation, state);
    return this.#dispatch.submit(kind, ids, data, options, state === 'connected');
  }

  async #shutdown(): Promise<void> {
    this.#epoch++;
    const wasUp = this.#state === 'connected';
    this.#setState('disconnecting');
    this.#wake?.();
    await this.#discard(false);
    await this.#inbox.idle();
    // Nothing was written meanwhile (the state is not 'connected'), so the queue is still what it was.
    this.#stop(new ConnectionClosedError('send', 1000, 'disconnect() was called'));
    if (wasUp) this.#emit('close', { code: 1000, reason: 'Session terminated by client', requested: true });
  }

  /**
   * Ends a connect in progress, making it stale: no timer, no connection, no
   * backlog of it; state `'disconnected'`. @returns false when it had ended already.
   */
  #cancel(epoch: number): boolean {
    if (epoch !== this.#epoch) return false;
    this.#epoch++;
    this.#wake?.();
    void this.#discard(true, { drop: true });
    this.#setState('disconnected');
    return true;
  }

  /**
   * Connect attempts until one succeeds: after a drop (`reconnecting`) on the reconnect
   * schedule, a first connect once, or on the schedule with `retryFirstConnect`. Never rejects.
   */
  async #attempts(epoch: number, reconnecting: boolean, lastError?: Error): Promise<Attempted> {
    const { reconnect } = this.#options;
    const retries = reconnecting || reconnect.retryFirstConnect ? reconnect.maxRetries : 0;
    let error = lastError;
    for (let attempt = reconnecting ? 1 : 0; ; attempt++) {
      if (attempt > retries) return { attempts: attempt - 1, error: error ?? stale() };
      try {
        if (attempt > 0) await this.#backoff(attempt, epoch);
        return { privateId: await this.#establish(epoch, reconnecting), attempts: attempt };
      } catch (caught) {
        error = toError(caught);
        if (epoch !== this.#epoch || error instanceof UnsupportedEnvironmentError) return { attempts: attempt, error };
        void this.#discard();
        this.#logger.debug('wss-sessions: connect attempt failed', error);
      }
    }
  }

  /** Announces retry `attempt` and waits its backoff delay. @throws when `disconnect()` or an abort made the attempts stale. */
  async #backoff(attempt: number, epoch: number): Promise<void> {
    const delay = backoffDelay(attempt, this.#options.reconnect);
    this.#emit('reconnecting', { attempt, delay });
    // A listener may have called disconnect().
    if (epoch !== this.#epoch) throw stale();
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, delay);
      this.#wake = wake;
    });
    if (epoch !== this.#epoch) throw stale();
  }

  /**
   * Connects one client with fresh keys, restores the private ID and waits
   * until every peer it listed has been checked; then the session is usable.
   * @returns the private ID.
   */
  async #establish(epoch: number, reconnecting: boolean): Promise<string> {
    const { encryption, info, identity } = this.#options;
    // The identity's public half is exported once, on the first connect that gets that far, and kept.
    if (encryption && identity) this.#identity ??= await loadIdentity(identity);
    const reliable = !!this.#delivery;
    const keys = encryption ? await createLocalKeys(info, this.#identity, reliable ? 'r' : 'a') : null;
    if (reliable) this.#sessionKey ??= await createSessionKey();
    const key = this.#sessionKey;
    const proof = key && keys ? { s: key.s, g: await proveSession(key, info, keys.pk) } : undefined;
    if (epoch !== this.#epoch) throw stale();
    const link = new Link(this.#host, keys, reconnecting, proof);
    this.#link = link;
    const { client } = link;
    // After each wait: disconnect() may have made this attempt stale, or the connection ended.
    const check = (): void => {
      if (epoch !== this.#epoch) throw stale();
      if (this.#link !== link || client.state !== 'connected')
        throw link.failure ?? new ConnectionClosedError('connect', undefined, 'closed while connecting');
    };
    await client.connect();
    check();
    const desired = this.#desiredPrivateId;
    if (desired && client.privateId !== desired) {
      await client.setPrivateId(desired);
      check();
    }
    // Every peer known so far has a task in the inbox that waits for its keys.
    await this.#inbox.idle();
    check();
    this.#setState('connected');
    this.#setPrivateIdValue(client.privateId as string);
    void this.#outbox.pump();
    return client.privateId as string;
  }

  /**
   * A connection is over: its socket closed (`info`), or it went past a bound
   * (`failure`), in which case it is closed here (1008) with its backlog dropped.
   * A connected session then reconnects (or ends, without `reconnect.enabled`);
   * while connecting, the attempt fails.
   */
  #lost(link: Link, info: CloseEvent | null, failure?: Error): void {
    if (link !== this.#link) return;
    const close = info ?? { code: 1008, reason: 'client limit exceeded', requested: false };
    if (failure) {
      link.failure = failure;
      this.#logger.warn(`wss-sessions: ${failure.message}`);
      this.#emit('error', failure);
    }
    if (this.#state !== 'connected') {
      if (failure) void this.#discard(true, { ...close, drop: true });
      return;
    }
    void this.#release({ ...close, drop: !!failure });
    this.#emit('close', { code: close.code, reason: close.reason, requested: false });
    if (this.#options.reconnect.enabled) this.#reconnect(close);
    else this.#stop(new ConnectionClosedError('send', close.code, close.reason));
    // Peers leave once the state says why (reconnecting or disconnected), as listeners expect.
    this.#depart(true);
  }

  /** A connected session lost its connection: reconnect on the schedule, or give up (`reconnect_failed`). */
  #reconnect({ code, reason }: CloseInfo): void {
    const epoch = this.#epoch;
    this.#setState('reconnecting');
    void this.#attempts(epoch, true, new ConnectionClosedError('connect', code, reason)).then((result) => {
      if (epoch !== this.#epoch) return;
      const { attempts } = result;
      if (result.privateId !== undefined) this.#emit('reconnected', { attempts, privateId: result.privateId });
      else {
        this.#stop(new ConnectionClosedError('send', undefined, 'reconnecting gave up'));
        this.#emit('reconnect_failed', { attempts, error: result.error });
      }
    });
  }

  /**
   * Lets go of the current connection (listeners off, socket closed with `code`) and
   * of its peers, announcing their departure unless `announce` is false. With `drop`,
   * what of it still waits in the backlog is dropped, with a log line.
   */
  #discard(announce = true, end: { code?: number; reason?: string; drop?: boolean } = {}): Promise<void> | undefined {
    const closed = this.#release(end);
    this.#depart(announce);
    return closed;
  }

  /** Lets go of the current connection only: its peers stay listed until {@link #depart}. */
  #release(end: { code?: number; reason?: string; drop?: boolean }): Promise<void> | undefined {
    const link = this.#link;
    if (!link) return;
    this.#link = undefined;
    const dropped = end.drop ? this.#inbox.drop(link) : 0;
    if (dropped) this.#logger.warn(`wss-sessions: ${dropped} incoming frames dropped with their connection`);
    return link.close(end.code, end.reason);
  }

  /** Every listed peer leaves, after what the inbox holds already, announced unless `announce` is false. */
  #depart(announce: boolean): void {
    this.#inbox.push(
      {
        owner: this.#host,
        size: 0,
        commit: () => {
          this.#delivery?.ended();
          for (const privateId of this.#table.clear()) if (announce) this.#emit('peerdisconnect', { privateId });
        },
      },
      true,
    );
  }

  /** Ends the session: queued sends reject; reliable messages not yet confirmed and waiting requests fail. */
  #stop(error: Error): void {
    this.#outbox.stop(error);
    this.#dispatch.stop(error);
    this.#setState('disconnected');
  }

  /**
   * Authenticated (or, on a plaintext session, plain) messages from one envelope, in order.
   * The one way in for messages, as the outbox's `submit` is the one way out: end-to-end
   * delivery (receipts, retransmission) goes between the two and these events.
   */
  #deliver(from: string, type: 'broadcast' | 'direct', items: unknown[], raw: PushMessage, encrypted: boolean): void {
    for (const data of items) this.#emit('message', { type, from, data, encrypted, raw });
  }

  #setPrivateIdValue(privateId: string): void {
    if (privateId === this.#privateId) return;
    this.#privateId = privateId;
    this.#emit('privateid', { privateId });
  }

  #setState(state: SecureSessionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#emit('state', { state, previous });
  }

  /** Listener exceptions must not unwind into the socket's event loop. */
  #emit<E extends keyof SecureSessionEvents>(event: E, ...args: Parameters<SecureSessionEvents[E]>): void {
    try {
      (this.emit as (event: E, ...args: Parameters<SecureSessionEvents[E]>) => boolean)(event, ...args);
    } catch (error) {
      this.#logger.error(`wss-sessions: a '${event}' listener threw`, toError(error));
    }
  }
}

/** The `signal` of `connect()`'s options, checked. */
function connectSignal(options: SecureConnectOptions): AbortSignal | undefined {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('connect() takes an options object { signal }, or nothing');
  const { signal } = options;
  if (signal !== undefined && (typeof signal !== 'object' || typeof signal?.addEventListener !== 'function'))
    throw new InvalidArgumentError("option 'signal' of connect() must be an AbortSignal");
  return signal;
}
