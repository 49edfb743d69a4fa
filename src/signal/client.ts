/** The Signal protocol client (PROTOCOL.md §2). */
import { ConnectionClosedError, InvalidArgumentError, InvalidStateError, NotConnectedError } from '../errors.js';
import { isStringArray } from '../protocol/guards.js';
import { signalOf, throwIfAborted, watchAbort } from '../util/abort.js';
import { reconnectDelay } from './backoff.js';
import { ClientEvents, type SignalClientEvents } from './events.js';
import { encodeFrame, isEventName, need } from './frames.js';
import { Link, type LinkHost, type Session } from './link.js';
import {
  checkToken,
  type IEncryptedWSClientOptions,
  type ResolvedClientOptions,
  ROOMS,
  resolveClientOptions,
} from './options.js';
import {
  CONTROL_EVENTS,
  type ISignalConnectOptions,
  type ISignalSendOptions,
  type IWSLogger,
  type TConnectionState,
  type TEventHandler,
  type TStateChangeHandler,
} from './types.js';

const OPEN = 1;
const ignore = (): void => {};
const DONE = Promise.resolve();

/**
 * Client of the Signal encrypted event protocol: ECDH P-256 key agreement
 * (a new key pair on every connection), AES-256-GCM envelopes for every
 * application event, heartbeat, rooms and reconnection with backoff.
 *
 * Events delivered to `on()` handlers: every decrypted application event, in
 * arrival order; and the client's own events ({@link SignalClientEvents}):
 * `'connected'` (the validated `connected` data) after each successful
 * authentication; `'error'` with either the server's `error` data as sent, or
 * a `WssError` for a problem the client detected (bad frame, replay,
 * downgrade, failed server authentication, full backlog, ...);
 * `'reconnect_failed'` with `{retries}` when reconnection gives up.
 *
 * Hardening (beyond the original client): no plaintext downgrade
 * (`requireEncryption`), replayed and reflected frames are rejected
 * (`replayWindow`), optional server authentication (`serverVerifyKey`),
 * jittered backoff, every frame validated, a bounded incoming backlog
 * (`maxBacklogFrames`, `maxBacklogBytes`), nothing from a closed connection
 * delivered after a reconnect, `AbortSignal` for `connect()` and `send()`.
 *
 * @example
 * import { WebSocket } from 'ws'; // Node only; browsers have WebSocket
 * const client = new EncryptedWebSocketClient({ url: 'wss://signal.example.com/stream', ecdhInfo: 'app-v1', token, WebSocket });
 * client.on('chat.message', (data) => console.log(data));
 * await client.connect();
 * await client.send('chat.message', { text: 'hi' });
 * client.destroy();
 */
export class EncryptedWebSocketClient {
  readonly #opts: ResolvedClientOptions;
  readonly #log: IWSLogger;
  readonly #events: ClientEvents;
  /** What every link of this client tells it. */
  readonly #host: LinkHost;
  #state: TConnectionState = 'disconnected';
  #link: Link | null = null;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** What `connect()` hands out until the attempt settles, and its settle function. */
  #pending: Promise<void> | null = null;
  #settle: (err?: Error) => void = ignore;
  #destroyed = false;

  /**
   * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
   */
  constructor(opts: IEncryptedWSClientOptions) {
    this.#opts = resolveClientOptions(opts);
    this.#log = this.#opts.logger;
    this.#events = new ClientEvents(this.#log);
    this.#host = {
      options: this.#opts,
      authenticating: () => this.#setState('authenticating'),
      authenticated: (link, session) => this.#authenticated(link, session),
      failed: (link, err) => link.released || this.#fail(err),
      lost: (link, cause) => this.#lost(link, cause),
      deliver: (event, data) => this.#events.emit(event, data),
      report: (err) => this.#report(err),
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Connects, authenticates and agrees on the session key. Resolves once the
   * state is `'authenticated'` (after automatic retries if the first attempts
   * fail). Rejects when the client gives up (reconnection disabled or
   * exhausted), when the server fails a security check (these are not
   * retried), when `disconnect()` is called first, or with an `AbortError`
   * when `options.signal` aborts (the attempt is then cancelled, see
   * {@link ISignalConnectOptions}). Calling it while a connection is under
   * way returns the same promise; while `'reconnecting'` it retries at once.
   *
   * @throws InvalidStateError after `destroy()`; InvalidArgumentError for bad options.
   */
  connect(options?: ISignalConnectOptions): Promise<void> {
    let signal: AbortSignal | undefined;
    try {
      need(!this.#destroyed, 'connect() after destroy(): create a new client', InvalidStateError);
      signal = signalOf(options, 'connect()');
      throwIfAborted(signal, 'connect()');
    } catch (err) {
      return Promise.reject(err);
    }
    const state = this.#state;
    if (state === 'authenticated') return DONE;
    const pending = this.#pendingConnect();
    // Watched before the attempt starts: a state handler may abort at once.
    if (signal) {
      const unwatch = watchAbort(signal, 'connect()', (error) => this.#stop(error, 1000, 'connect() aborted'));
      pending.then(unwatch, unwatch);
    }
    // No link: 'disconnected', or 'reconnecting' between attempts (then retry at once).
    if (!this.#link) {
      if (state === 'disconnected') this.#retries = 0;
      clearTimeout(this.#retryTimer);
      void this.#open();
    }
    return pending;
  }

  /** Closes the connection (code 1000) and stops reconnecting; `connect()` may be called again later. */
  disconnect(): void {
    this.#stop(new ConnectionClosedError('connect', 1000, 'disconnect()'), 1000, 'Client disconnect');
  }

  /** Disconnects and removes every handler; the client cannot be used again. */
  destroy(): void {
    this.disconnect();
    this.#destroyed = true;
    this.#events.clear();
  }

  // ---------------------------------------------------------------- messaging

  /**
   * Sends an event. Application events are encrypted (AES-256-GCM, fresh
   * IV); the control events `heartbeat`, `join`, `leave` (and the other
   * control names) go in plaintext, as the protocol requires. Encrypted
   * frames leave in call order. Nothing is queued across connections: while
   * not authenticated (including while `'reconnecting'`) it rejects at once
   * with NotConnectedError.
   *
   * @param options - `signal` cancels the send while the frame has not gone out (see {@link ISignalSendOptions}).
   * @throws InvalidArgumentError for an empty or overlong event name, data JSON cannot encode, or bad options.
   * @throws NotConnectedError when not authenticated (control events: when the socket is not open).
   * @throws InvalidStateError when the server offered no encryption (allowed only with `requireEncryption: false`).
   * @throws ConnectionClosedError when the connection closed while the message was being encrypted.
   * @throws QueueFullError when `maxPendingSends` sends are still in progress.
   * @throws AbortError when `options.signal` aborted before the frame went out.
   */
  send(event: string, data?: unknown, options?: ISignalSendOptions): Promise<void> {
    try {
      return this.#send(event, data, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Joins rooms (a plaintext `join` frame). Logs a warning and does nothing when not authenticated. */
  joinRooms(rooms: string[]): void {
    this.#sendRooms('join', rooms);
  }

  /** Leaves rooms (a plaintext `leave` frame). Logs a warning and does nothing when not authenticated. */
  leaveRooms(rooms: string[]): void {
    this.#sendRooms('leave', rooms);
  }

  /** Replaces the JWT; the next `authenticate` (the next connect or reconnect) uses it. The current connection is not touched. */
  updateToken(token: string): void {
    this.#opts.token = checkToken(token);
  }

  // ---------------------------------------------------------------- events

  /**
   * Registers a handler for one of the client's own events
   * ({@link SignalClientEvents}: `connected`, `error`, `reconnect_failed`) or
   * for a decrypted application event. A handler registered twice for one
   * event is called once. A handler that throws is logged and never breaks
   * the client.
   *
   * @throws InvalidArgumentError when `handler` is not a function.
   * @example
   * client.on('connected', (info) => console.log('connection', info.id));
   * client.on<{ amount: number }>('payment.success', ({ amount }) => console.log(amount));
   */
  on<K extends keyof SignalClientEvents>(event: K, handler: TEventHandler<SignalClientEvents[K]>): void;
  on<T = unknown>(event: string, handler: TEventHandler<T>): void;
  on(event: string, handler: TEventHandler<never>): void {
    this.#events.on(event, handler as TEventHandler);
  }

  /** Removes one handler. */
  off<K extends keyof SignalClientEvents>(event: K, handler: TEventHandler<SignalClientEvents[K]>): void;
  off<T = unknown>(event: string, handler: TEventHandler<T>): void;
  off(event: string, handler: TEventHandler<never>): void {
    this.#events.off(event, handler as TEventHandler);
  }

  /** Removes every handler of one event. */
  offAll(event: string): void {
    this.#events.offAll(event);
  }

  /** Registers a handler called with every new state. */
  onStateChange(handler: TStateChangeHandler): void {
    this.#events.onState(handler);
  }

  // ---------------------------------------------------------------- getters

  /** The current state. */
  getState(): TConnectionState {
    return this.#state;
  }

  /** The id the server gave this connection, or `null` when not authenticated. */
  getClientId(): string | null {
    return this.#link?.session?.info.id ?? null;
  }

  /** The authenticated user id, or `null` when not authenticated. */
  getUserId(): string | null {
    return this.#link?.session?.info.userId ?? null;
  }

  /** Whether the current connection has a session key. */
  isEncrypted(): boolean {
    return !!this.#link?.session?.key;
  }

  /** Whether the state is `'authenticated'`. */
  isConnected(): boolean {
    return this.#state === 'authenticated';
  }

  // ---------------------------------------------------------------- connection

  /** The promise `connect()` hands out for the attempt under way (made before the attempt starts). */
  #pendingConnect(): Promise<void> {
    if (this.#pending) return this.#pending;
    const pending = new Promise<void>((resolve, reject) => {
      this.#settle = (err) => {
        this.#pending = null;
        this.#settle = ignore;
        if (err) reject(err);
        else resolve();
      };
    });
    // Callers that fire and forget connect() must not get an unhandled rejection;
    // the failure is also reported through the 'error' event and the logger.
    pending.catch(ignore);
    this.#pending = pending;
    return pending;
  }

  async #open(): Promise<void> {
    const link = new Link(this.#host);
    this.#link = link;
    this.#setState('connecting');
    try {
      await link.open();
    } catch (err) {
      if (!link.released) this.#fail(err as Error);
    }
  }

  #authenticated(link: Link, session: Session): void {
    if (link.released) return;
    link.startHeartbeat(this.#opts.heartbeatInterval);
    // Success is reported by the state and the 'connected' event; running in plaintext deserves a warning.
    if (!session.key) this.#log.warn('not encrypted: the server offered no key');
    this.#retries = 0;
    const rooms = this.#opts.autoJoinRooms;
    if (rooms.length) link.sendText(encodeFrame('join', { rooms }));
    this.#setState('authenticated');
    this.#settle();
    this.#events.emit('connected', session.info);
  }

  /** The link closed or must be dropped: clean up, then reconnect or give up. */
  #lost(link: Link, cause: Error): void {
    if (link.released) return;
    this.#release();
    const rc = this.#opts.reconnect;
    if (!rc.enabled || this.#retries >= rc.maxRetries) {
      this.#stop(cause);
      if (rc.enabled) this.#events.emit('reconnect_failed', { retries: this.#retries });
    } else {
      // The timer exists before the state changes, so a state handler's disconnect() cancels it.
      this.#retryTimer = setTimeout(() => void this.#open(), reconnectDelay(++this.#retries, rc));
      this.#setState('reconnecting');
    }
  }

  /** A failure that retrying cannot fix: report it, close, and stay disconnected. */
  #fail(err: Error): void {
    this.#stop(this.#report(err), 1008, 'Handshake failed');
  }

  /** Ends in `'disconnected'`: no link, no retry pending, `connect()` settled with `err`. */
  #stop(err: Error, code?: number, reason?: string): void {
    this.#release(code, reason);
    clearTimeout(this.#retryTimer);
    this.#setState('disconnected');
    this.#settle(err);
  }

  /** Releases the current link and everything it holds; nothing from it arrives later. */
  #release(code?: number, reason?: string): void {
    const link = this.#link;
    this.#link = null;
    link?.release(code, reason);
  }

  // ---------------------------------------------------------------- helpers

  #send(event: string, data: unknown, options: ISignalSendOptions | undefined): Promise<void> {
    need(isEventName(event), 'send: event name must be a string of 1-256 characters', InvalidArgumentError);
    const signal = options === undefined ? undefined : signalOf(options, `send('${event}')`);
    throwIfAborted(signal, `send('${event}')`);
    const link = this.#link;
    const control = CONTROL_EVENTS.has(event);
    const ready = control ? link?.socket?.readyState === OPEN : this.#state === 'authenticated';
    if (!link || !ready) throw new NotConnectedError(`send('${event}')`, this.#state);
    let text: string;
    try {
      text = encodeFrame(event, data);
    } catch (cause) {
      throw new InvalidArgumentError(`send('${event}'): data is not JSON`, { cause });
    }
    if (control) {
      link.sendText(text);
      return DONE;
    }
    const key = link.session?.key;
    if (!key) throw new InvalidStateError(`send('${event}'): not encrypted: the server offered no key`);
    return link.sendEncrypted(text, key, event, signal);
  }

  #sendRooms(event: 'join' | 'leave', rooms: string[]): void {
    need(isStringArray(rooms), `${event}Rooms: rooms must be ${ROOMS}`, InvalidArgumentError);
    const link = this.#link;
    if (this.#state === 'authenticated' && link?.socket?.readyState === OPEN)
      link.sendText(encodeFrame(event, { rooms }));
    else this.#log.warn(`${event}Rooms: not connected`);
  }

  /** Logs `err` (a WssError, or the server's `error` data) and emits it on 'error'; returns it. */
  #report<T>(err: T): T {
    this.#log.error('Signal error', err);
    this.#events.emit('error', err);
    return err;
  }

  #setState(next: TConnectionState): void {
    if (this.#state === next) return;
    this.#state = next;
    this.#events.emitState(next);
  }
}
