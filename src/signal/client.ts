/** The Signal protocol client (PROTOCOL.md §2). */
import {
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidStateError,
  NotConnectedError,
  ProtocolError,
  ReplayError,
  TimeoutError,
  toError,
} from '../errors.js';
import { aesGcm } from '../crypto/aead.js';
import { generateECDHKeyPair, type IECDHKeyPair } from '../crypto/ecdh.js';
import { seal } from '../crypto/signal-crypto.js';
import { resolveWebSocket, type WebSocketLike } from '../transport/websocket.js';
import { isStringArray } from '../protocol/guards.js';
import { reconnectDelay } from './backoff.js';
import { encodeFrame, isEventName, parseConnected, parseEnvelope, parseFrame, parseInner, type ParsedEnvelope } from './frames.js';
import { establishClientKey, loadVerifyKey } from './handshake.js';
import { checkToken, resolveClientOptions, type IEncryptedWSClientOptions, type ResolvedClientOptions } from './options.js';
import { ReplayGuard } from './replay-guard.js';
import { CONTROL_EVENTS, type ISignalConnectedData, type IWSLogger, type TConnectionState, type TEventHandler, type TStateChangeHandler } from './types.js';

const OPEN = 1;
const ignore = (): void => {};
const DONE = Promise.resolve();

/**
 * One connection attempt and everything that lives exactly as long as it.
 * It is the client's current link until it is released (`closed`); work
 * that finds its link closed is stale and is dropped.
 */
interface Link {
  /** Set once the key pair exists and the socket is created. */
  ws?: WebSocketLike;
  keys?: IECDHKeyPair;
  readonly seen: ReplayGuard;
  /** Tails of the promise chains that handle incoming frames, and send encrypted ones, in order. */
  inbox: Promise<unknown>;
  outbox: Promise<unknown>;
  /** The session key, once agreed (`null`: the server offered none). */
  key?: CryptoKey | null;
  /** The validated `connected` data, once authenticated. */
  info?: ISignalConnectedData;
  closed?: boolean;
  /** The link's one timer: the handshake timeout, later the heartbeat (clearTimeout clears both kinds). */
  timer?: ReturnType<typeof setTimeout>;
}

/** Decrypts an envelope; the promise never counts as unhandled (it may be dropped unread). */
function openEnvelope(key: CryptoKey, envelope: ParsedEnvelope): Promise<Uint8Array> {
  const opened = aesGcm('decrypt', key, envelope.ivBytes, envelope.ct);
  opened.catch(ignore);
  return opened;
}

/**
 * Client of the Signal encrypted event protocol: ECDH P-256 key agreement
 * (a new key pair on every connection), AES-256-GCM envelopes for every
 * application event, heartbeat, rooms and reconnection with backoff.
 *
 * Events delivered to `on()` handlers: every decrypted application event;
 * `'connected'` (the validated `connected` data) after each successful
 * authentication; `'error'` with either the server's `error` data as sent, or
 * a `WssError` for a problem the client detected (bad frame, replay,
 * downgrade, failed server authentication, ...); `'reconnect_failed'` with
 * `{retries}` when reconnection gives up.
 *
 * Hardening (beyond the original client): no plaintext downgrade
 * (`requireEncryption`), replayed and reflected frames are rejected
 * (`replayWindow`), optional server authentication (`serverVerifyKey`),
 * jittered backoff, every frame validated, nothing from a closed connection
 * delivered after a reconnect.
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
  /** Event handlers by event name, each set in registration order. */
  readonly #handlers = new Map<string, Set<TEventHandler>>();
  readonly #stateHandlers = new Set<TStateChangeHandler>();
  #state: TConnectionState = 'disconnected';
  #link: Link | null = null;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** What `connect()` hands out until the attempt settles, and its settle function. */
  #pending: Promise<void> | null = null;
  #settle: (err?: Error) => void = ignore;
  #destroyed = false;
  #verifyKey: Promise<CryptoKey> | undefined;

  /**
   * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
   */
  constructor(opts: IEncryptedWSClientOptions) {
    this.#opts = resolveClientOptions(opts);
    this.#log = this.#opts.logger;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Connects, authenticates and agrees on the session key. Resolves once the
   * state is `'authenticated'` (after automatic retries if the first attempts
   * fail). Rejects when the client gives up (reconnection disabled or
   * exhausted), when the server fails a security check (these are not
   * retried), or when `disconnect()` is called first. Calling it while a
   * connection is under way returns the same promise; while `'reconnecting'`
   * it retries at once.
   *
   * @throws InvalidStateError after `destroy()`.
   */
  connect(): Promise<void> {
    if (this.#destroyed) return Promise.reject(new InvalidStateError('connect() after destroy(); create a new client'));
    const state = this.#state;
    if (state === 'authenticated') return Promise.resolve();
    if (!this.#pending) {
      // Exists before the attempt starts: a state handler may disconnect() at once.
      this.#pending = new Promise((resolve, reject) => {
        this.#settle = (err) => {
          this.#pending = null;
          if (err) reject(err);
          else resolve();
        };
      });
      // Callers that fire and forget connect() must not get an unhandled rejection;
      // the failure is also reported through the 'error' event and the logger.
      this.#pending.catch(ignore);
    }
    // No link: 'disconnected', or 'reconnecting' between attempts (then retry at once).
    if (!this.#link) {
      if (state === 'disconnected') this.#retries = 0;
      clearTimeout(this.#retryTimer);
      void this.#open();
    }
    return this.#pending;
  }

  /** Closes the connection (code 1000) and stops reconnecting; `connect()` may be called again later. */
  disconnect(): void {
    this.#stop(new ConnectionClosedError('connect', 1000, 'disconnect()'), 1000, 'Client disconnect');
  }

  /** Disconnects and removes every handler; the client cannot be used again. */
  destroy(): void {
    this.disconnect();
    this.#destroyed = true;
    this.#handlers.clear();
    this.#stateHandlers.clear();
  }

  // ---------------------------------------------------------------- messaging

  /**
   * Sends an event. Application events are encrypted (AES-256-GCM, fresh
   * IV); the control events `heartbeat`, `join`, `leave` (and the other
   * control names) go in plaintext, as the protocol requires. Nothing is
   * queued: while not authenticated (including while `'reconnecting'`) it
   * rejects at once with NotConnectedError.
   *
   * @throws InvalidArgumentError for an empty or overlong event name, or data JSON cannot encode.
   * @throws NotConnectedError when not authenticated (control events: when the socket is not open).
   * @throws InvalidStateError when the server offered no encryption (allowed only with `requireEncryption: false`).
   * @throws ConnectionClosedError when the connection closed while the message was being encrypted.
   */
  async send(event: string, data?: unknown): Promise<void> {
    if (!isEventName(event)) throw new InvalidArgumentError('send: event must be a string of 1-256 characters');
    const link = this.#link;
    const ws = link?.ws;
    const control = CONTROL_EVENTS.has(event);
    const what = `send('${event}')`;
    if (!ws || (control ? ws.readyState !== OPEN : this.#state !== 'authenticated')) throw new NotConnectedError(what, this.#state);
    let text: string;
    try {
      text = encodeFrame(event, data);
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: data cannot be encoded as JSON`, { cause });
    }
    if (control) return ws.send(text);
    if (!link!.key) throw new InvalidStateError(`${what}: this connection is not encrypted`);
    // Encryption starts now, in parallel with earlier sends; frames still leave in call order.
    const sealing = seal(text, link!.key);
    sealing.catch(ignore);
    const sent = link!.outbox.then(async () => {
      const payload = await sealing;
      if (link!.closed || ws.readyState !== OPEN) throw new ConnectionClosedError(what);
      link!.seen.add(payload.iv);
      ws.send(encodeFrame('encrypted', payload));
    });
    link!.outbox = sent.catch(ignore);
    return sent;
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

  /** Registers a handler for an event (decrypted application events, `connected`, `error`, `reconnect_failed`). */
  on<T = unknown>(event: string, handler: TEventHandler<T>): void {
    const set = this.#handlers.get(event) ?? new Set();
    this.#handlers.set(event, set.add(handler as TEventHandler));
  }

  /** Removes one handler. */
  off<T = unknown>(event: string, handler: TEventHandler<T>): void {
    const set = this.#handlers.get(event);
    if (set?.delete(handler as TEventHandler) && !set.size) this.#handlers.delete(event);
  }

  /** Removes every handler of one event. */
  offAll(event: string): void {
    this.#handlers.delete(event);
  }

  /** Registers a handler called with every new state. */
  onStateChange(handler: TStateChangeHandler): void {
    this.#stateHandlers.add(handler);
  }

  // ---------------------------------------------------------------- getters

  /** The current state. */
  getState(): TConnectionState {
    return this.#state;
  }

  /** The id the server gave this connection, or `null` when not authenticated. */
  getClientId(): string | null {
    return this.#link?.info?.id ?? null;
  }

  /** The authenticated user id, or `null` when not authenticated. */
  getUserId(): string | null {
    return this.#link?.info?.userId ?? null;
  }

  /** Whether the current connection has a session key. */
  isEncrypted(): boolean {
    return !!this.#link?.key;
  }

  /** Whether the state is `'authenticated'`. */
  isConnected(): boolean {
    return this.#state === 'authenticated';
  }

  // ---------------------------------------------------------------- connection

  async #open(): Promise<void> {
    const o = this.#opts;
    const link: Link = { seen: new ReplayGuard(o.replayWindow), inbox: DONE, outbox: DONE };
    this.#link = link;
    this.#setState('connecting');
    let ws: WebSocketLike;
    try {
      const keys = (link.keys = await generateECDHKeyPair());
      const Ctor = await resolveWebSocket(o.WebSocket);
      if (link.closed) return;
      try {
        ws = link.ws = new Ctor(o.url);
      } catch (cause) {
        throw new InvalidArgumentError("option 'url' is not a valid WebSocket URL", { cause });
      }
      ws.onopen = () => {
        ws.send(encodeFrame('authenticate', { type: 'Bearer', token: o.token, clientPublicKey: keys.publicKeyB64 }));
        const timeout = o.handshakeTimeout;
        if (timeout) link.timer = setTimeout(() => this.#lost(link, this.#report(new TimeoutError('authenticate', timeout))), timeout);
        this.#setState('authenticating');
      };
    } catch (err) {
      if (!link.closed) this.#fail(toError(err));
      return;
    }
    ws.onmessage = (event) => this.#onMessage(link, event.data);
    ws.onclose = (event) => this.#lost(link, new ConnectionClosedError('connection', event.code, event.reason));
    // An error is always followed by a close event, which drives reconnection.
    ws.onerror = () => this.#log.warn('WebSocket error');
  }

  /** The link closed or must be dropped: clean up, then reconnect or give up. */
  #lost(link: Link, cause: Error): void {
    if (link.closed) return;
    this.#log.info(`WebSocket closed: ${cause.message}`);
    this.#release();
    const rc = this.#opts.reconnect;
    if (!rc.enabled || this.#retries >= rc.maxRetries) {
      this.#stop(cause);
      if (rc.enabled) this.#emit('reconnect_failed', { retries: this.#retries });
      return;
    }
    const delay = reconnectDelay(++this.#retries, rc);
    this.#log.info(`Reconnecting in ${delay} ms`);
    // The timer exists before the state changes, so a state handler's disconnect() cancels it.
    this.#retryTimer = setTimeout(() => void this.#open(), delay);
    this.#setState('reconnecting');
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

  /**
   * Releases the current link and everything it holds; its socket's handlers
   * are detached, so nothing from it arrives later.
   */
  #release(code = 1000, reason = ''): void {
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    link.closed = true;
    link.key = null;
    link.seen.clear();
    clearTimeout(link.timer);
    const ws = link.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Keep an error handler: Node's `ws` throws on an 'error' event nobody listens to.
    ws.onerror = ignore;
    try {
      ws.close(code, reason);
    } catch {
      // Browsers refuse close codes other than 1000 and 3000-4999 (such as 1008): close anyway.
      ws.close();
    }
  }

  // ---------------------------------------------------------------- incoming

  /**
   * Parses a frame at once and, for an `encrypted` frame, starts decrypting
   * it, so that decryptions run in parallel; the chained job, run in arrival
   * order, does everything that must happen in order (replay check, delivery).
   */
  #onMessage(link: Link, raw: unknown): void {
    let job: () => unknown;
    try {
      const { event, data } = parseFrame(raw, this.#opts.maxFrameSize);
      if (event === 'encrypted') {
        const envelope = parseEnvelope(data);
        const early = link.key && openEnvelope(link.key, envelope);
        job = async () => {
          // The key may have been agreed since the frame was parsed.
          const key = link.key;
          if (!key) throw new ProtocolError("dropped an 'encrypted' frame: no session key");
          if (link.seen.has(envelope.iv)) throw new ReplayError("dropped a replayed 'encrypted' frame");
          const plaintext = await (early || openEnvelope(key, envelope));
          // A frame of a connection that closed meanwhile is never delivered, even after a reconnect.
          if (link.closed) return;
          link.seen.add(envelope.iv);
          const inner = parseInner(plaintext);
          this.#emit(inner.event, inner.data);
        };
      } else if (event === 'connected') {
        job = () => this.#onConnected(link, data);
      } else {
        job = () => {
          if (event === 'error') this.#log.error('Server error', data);
          else if (!CONTROL_EVENTS.has(event) && (this.#opts.requireEncryption || link.key)) throw new ProtocolError(`dropped plaintext application event '${event}'`);
          this.#emit(event, data);
        };
      }
    } catch (err) {
      job = () => {
        throw err;
      };
    }
    link.inbox = link.inbox.then(() => link.closed || job()).catch((err: unknown) => link.closed || this.#report(toError(err)));
  }

  async #onConnected(link: Link, data: unknown): Promise<void> {
    // Frames are handled one at a time, so a first `connected` has either set `info` or closed the link by now.
    if (link.info) throw new ProtocolError("dropped a second 'connected'");
    const o = this.#opts;
    const verifyKey = o.serverVerifyKey;
    let info: ISignalConnectedData;
    let key: CryptoKey | null;
    try {
      info = parseConnected(data);
      key = await establishClientKey(info, link.keys!, o.ecdhInfo, verifyKey ? (this.#verifyKey ??= loadVerifyKey(verifyKey)) : undefined);
      if (!key && o.requireEncryption) throw new ProtocolError("'connected' offers no encryption, which requireEncryption refuses");
    } catch (err) {
      if (!link.closed) this.#fail(toError(err));
      return;
    }
    if (link.closed) return;
    const ws = link.ws!;
    link.key = key;
    link.info = info;
    clearTimeout(link.timer);
    link.timer = setInterval(() => ws.readyState === OPEN && ws.send(encodeFrame('heartbeat')), o.heartbeatInterval);
    // Success is reported by the state and the 'connected' event; running in plaintext deserves a warning.
    if (!key) this.#log.warn('Authenticated, but NOT encrypted (requireEncryption is off)');
    this.#retries = 0;
    if (o.autoJoinRooms.length) ws.send(encodeFrame('join', { rooms: o.autoJoinRooms }));
    this.#setState('authenticated');
    this.#settle();
    this.#emit('connected', info);
  }

  // ---------------------------------------------------------------- helpers

  #sendRooms(event: 'join' | 'leave', rooms: string[]): void {
    if (!isStringArray(rooms)) throw new InvalidArgumentError(`${event}Rooms: rooms must be an array of non-empty strings`);
    const ws = this.#link?.ws;
    if (ws && this.#state === 'authenticated' && ws.readyState === OPEN) ws.send(encodeFrame(event, { rooms }));
    else this.#log.warn(`${event}Rooms: not connected`);
  }

  /** Logs `err` and emits it on 'error'; returns it. */
  #report(err: Error): Error {
    this.#log.error(err.message, err);
    this.#emit('error', err);
    return err;
  }

  #emit(event: string, data: unknown): void {
    this.#call(this.#handlers.get(event), data, `'${event}'`);
  }

  #setState(next: TConnectionState): void {
    if (this.#state === next) return;
    this.#state = next;
    this.#call(this.#stateHandlers, next, 'state');
  }

  /**
   * Calls every handler with `arg`, in registration order, on a copy (so handlers
   * may add or remove handlers meanwhile); one that throws is logged as `what`
   * and never breaks the client.
   */
  #call<T>(handlers: Iterable<(arg: T) => void> | undefined, arg: T, what: string): void {
    for (const handler of [...(handlers ?? [])]) {
      try {
        handler(arg);
      } catch (err) {
        this.#log.error(`A ${what} handler threw`, err);
      }
    }
  }
}
