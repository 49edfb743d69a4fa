/**
 * The connection lifecycle of a SecureSession: its state, its one current
 * connection (a {@link Link}), establishing one (fresh keys, the private ID
 * restored, every listed peer checked), and letting go of one that dropped, went
 * past a bound, or ended with the session. When to connect and reconnect is the
 * schedule's job (schedule.ts).
 */
import type { CloseEvent } from '../client/events.js';
import { ConnectionClosedError } from '../errors.js';
import type { CloseInfo } from '../transport/transport.js';
import type { Delivery } from './delivery.js';
import type { Dispatch } from './dispatch.js';
import type { SecureSessionState } from './events.js';
import { Link, type LinkHost } from './link.js';
import type { Outbox } from './outbox.js';
import {
  createLocalKeys,
  createSessionKey,
  type LocalIdentity,
  loadIdentity,
  proveSession,
  type SessionKey,
} from './scheme.js';

/**
 * What the lifecycle needs of its session: what each connection is given (the
 * connection's `lost` is the lifecycle's own), and the parts a connection's end reaches.
 */
export interface LifecycleHost extends LinkHost {
  readonly outbox: Outbox;
  readonly dispatch: Dispatch;
  /** With `delivery: 'reliable'`. */
  readonly delivery: Delivery | undefined;
  /** A connected session lost its connection (`close` says how): it reconnects, or ends. */
  dropped(close: CloseInfo): void;
}

/** How a connection is let go of: its socket's close code and reason, and whether what it left in the backlog is dropped. */
export interface End {
  code?: number;
  reason?: string;
  drop?: boolean;
}

/** One session's connections, one after another. */
export class Lifecycle {
  readonly #host: LifecycleHost;
  #state: SecureSessionState = 'disconnected';
  /** The current connection; a reconnect makes a new one. */
  #link: Link | undefined;
  #identity: LocalIdentity | undefined;
  /** With reliable delivery: the session key, created on the first connect and kept (its public key is the session ID). */
  #sessionKey: SessionKey | undefined;
  /** The private ID last set with `setPrivateId`, restored on every connect. */
  #desiredPrivateId: string | undefined;
  #privateId: string | null = null;

  constructor(host: LifecycleHost) {
    this.#host = host;
  }

  get state(): SecureSessionState {
    return this.#state;
  }

  /**
   * The current connection while the session is connected: what the outbox writes to.
   * None in a `close` listener, which runs while the state still reads `'connected'`.
   */
  get open(): Link | undefined {
    return this.#state === 'connected' ? this.#link : undefined;
  }

  get privateId(): string | null {
    return this.#privateId;
  }

  /** The identity (with the `identity` option), once a connect got far enough to export it. */
  get identity(): LocalIdentity | undefined {
    return this.#identity;
  }

  setState(state: SecureSessionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#host.emit('state', { state, previous });
  }

  /**
   * `link` took `privateId` (`setPrivateId`): it is restored on every connect from
   * now on, and is the session's private ID unless the connection changed meanwhile.
   */
  named(link: Link, privateId: string): void {
    this.#desiredPrivateId = privateId;
    if (this.#link === link) this.#setPrivateId(privateId);
  }

  /**
   * Connects one client with fresh keys, restores the private ID and waits
   * until every peer it listed has been checked; then the session is usable.
   * `assertCurrent` throws when the attempt has become stale (`disconnect()`, an abort).
   * @returns the private ID.
   */
  async establish(assertCurrent: () => void, reconnecting: boolean): Promise<string> {
    const { options, delivery } = this.#host;
    const { encryption, info, identity } = options;
    // The identity's public half is exported once, on the first connect that gets that far, and kept.
    if (encryption && identity) this.#identity ??= await loadIdentity(identity);
    const keys = encryption ? await createLocalKeys(info, this.#identity, delivery ? 'r' : 'a') : null;
    if (delivery) this.#sessionKey ??= await createSessionKey();
    const key = this.#sessionKey;
    const proof = key && keys ? { s: key.s, g: await proveSession(key, info, keys.pk) } : undefined;
    assertCurrent();
    const link = new Link(this.#host, keys, reconnecting, proof);
    this.#link = link;
    const { client } = link;
    // After each wait: the attempt may have become stale, or the connection ended.
    const check = (): void => {
      assertCurrent();
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
    await this.#host.inbox.idle();
    check();
    this.setState('connected');
    this.#setPrivateId(client.privateId as string);
    void this.#host.outbox.pump();
    return client.privateId as string;
  }

  /**
   * Lets go of the current connection (listeners off, socket closed with `end.code`) and
   * of its peers, announcing their departure unless `announce` is false. With `end.drop`,
   * what of it still waits in the backlog is dropped, with a log line.
   */
  discard(announce = true, end: End = {}): Promise<void> | undefined {
    const closed = this.#release(end);
    this.#depart(announce);
    return closed;
  }

  /** Ends the session: queued sends reject; reliable messages not yet confirmed and waiting requests fail. */
  stop(error: Error): void {
    this.#host.outbox.stop(error);
    this.#host.dispatch.stop(error);
    this.setState('disconnected');
  }

  /**
   * `disconnect()`, once the schedule has made every attempt stale: lets go of the
   * connection, waits for what the inbox holds, and ends the session.
   */
  async shutdown(): Promise<void> {
    const wasUp = this.#state === 'connected';
    this.setState('disconnecting');
    await this.discard(false);
    await this.#host.inbox.idle();
    // Nothing was written meanwhile (the state is not 'connected'), so the queue is still what it was.
    this.stop(new ConnectionClosedError('send', 1000, 'disconnect() was called'));
    if (wasUp) this.#host.emit('close', { code: 1000, reason: 'Session terminated by client', requested: true });
  }

  /**
   * A connection is over: its socket closed (`info`), or it went past a bound
   * (`failure`), in which case it is closed here (1008) with its backlog dropped.
   * A connected session then reconnects or ends (the host decides); while
   * connecting, the attempt fails.
   */
  lost(link: Link, info: CloseEvent | null, failure?: Error): void {
    if (link !== this.#link) return;
    const { emit, logger } = this.#host;
    const close = info ?? { code: 1008, reason: 'client limit exceeded', requested: false };
    if (failure) {
      link.failure = failure;
      logger.warn(`wss-sessions: ${failure.message}`);
      emit('error', failure);
    }
    if (this.#state !== 'connected') {
      if (failure) void this.discard(true, { ...close, drop: true });
      return;
    }
    void this.#release({ ...close, drop: !!failure });
    emit('close', { code: close.code, reason: close.reason, requested: false });
    this.#host.dropped(close);
    // Peers leave once the state says why (reconnecting or disconnected), as listeners expect.
    this.#depart(true);
  }

  /** Lets go of the current connection only: its peers stay listed until {@link #depart}. */
  #release(end: End): Promise<void> | undefined {
    const link = this.#link;
    if (!link) return;
    this.#link = undefined;
    const dropped = end.drop ? this.#host.inbox.drop(link) : 0;
    if (dropped) this.#host.logger.warn(`wss-sessions: ${dropped} incoming frames dropped with their connection`);
    return link.close(end.code, end.reason);
  }

  /** Every listed peer leaves, after what the inbox holds already, announced unless `announce` is false. */
  #depart(announce: boolean): void {
    const { delivery, table, emit } = this.#host;
    this.#host.inbox.push(
      {
        owner: this,
        size: 0,
        commit: () => {
          delivery?.ended();
          for (const privateId of table.clear()) if (announce) emit('peerdisconnect', { privateId });
        },
      },
      true,
    );
  }

  #setPrivateId(privateId: string): void {
    if (privateId === this.#privateId) return;
    this.#privateId = privateId;
    this.#host.emit('privateid', { privateId });
  }
}
