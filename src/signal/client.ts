/** The Signal protocol client (PROTOCOL.md §2). */
import {
  ConnectionClosedError,
  InvalidArgumentError,
  InvalidStateError,
  NotConnectedError,
  ReplayError,
  TimeoutError,
} from '../errors.js';
import { aesGcm } from '../crypto/aead.js';
import { generateECDHKeyPair, type IECDHKeyPair } from '../crypto/ecdh.js';
import { seal } from '../crypto/signal-crypto.js';
import { resolveWebSocket, type WebSocketLike } from '../transport/websocket.js';
import { isStringArray } from '../protocol/guards.js';
import { reconnectDelay } from './backoff.js';
import { encodeFrame, isEventName, need, parseConnected, parseEnvelope, parseFrame, parseInner } from './frames.js';
import { establishClientKey } from './handshake.js';
import {
  checkToken,
  optionError,
  resolveClientOptions,
  ROOMS,
  WS_URL,
  type IEncryptedWSClientOptions,
  type ResolvedClientOptions,
} from './options.js';
import { ReplayGuard } from './replay-guard.js';
import {
  CONTROL_EVENTS,
  type ISignalConnectedData,
  type IWSLogger,
  type TConnectionState,
  type TEventHandler,
  type TStateChangeHandler,
} from './types.js';

const OPEN = 1;
const ignore = (): void => {};
const DONE = Promise.resolve();
/** The key under which state handlers are kept among the event handlers (no event name can equal it). */
const STATE = Symbol();

/**
 * One connection attempt and everything that lives exactly as long as it.
 * It is the client's current link until it is released (`c`); work that
 * finds its link released is stale and is dropped. (The members have
 * one-letter names because property names survive minification.)
 */
interface Link {
  /** The socket, set once the key pair exists and the socket is created. */
  ws?: WebSocketLike;
  /** This connection's ECDH key pair. */
  k?: IECDHKeyPair;
  /** The IVs seen on this connection, received and sent: the replay and reflection guard. */
  readonly s: ReplayGuard;
  /** Tails of the promise chains that handle incoming frames (`i`), and send encrypted ones (`o`), in order. */
  i: Promise<unknown>;
  o: Promise<unknown>;
  /** The session key, once agreed (`null`: the server offered none). */
  key?: CryptoKey | null;
  /** The validated `connected` data, once authenticated. */
  n?: ISignalConnectedData;
  /** Set when the link is released (closed). */
  c?: boolean;
  /** The link's one timer: the handshake timeout, later the heartbeat (clearTimeout clears both kinds). */
  t?: ReturnType<typeof setTimeout>;
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
  /** Event handlers by event name (state handlers under {@link STATE}), each set in registration order. */
  readonly #handlers = new Map<string | symbol, Set<(arg: never) => void>>();
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
    if (this.#destroyed) return Promise.reject(new InvalidStateError('connect() after destroy(): create a new client'));
    const state = this.#state;
    if (state === 'authenticated') return DONE;
    // Exists before the attempt starts: a state handler may disconnect() at once.
    this.#pending ??= new Promise((resolve, reject) => {
      this.#settle = (err) => {
        this.#pending = null;
        if (err) reject(err);
        else resolve();
      };
    });
    const pending = this.#pending;
    // Callers that fire and forget connect() must not get an unhandled rejection;
    // the failure is also reported through the 'error' event and the logger.
    pending.catch(ignore);
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
    this.#handlers.clear();
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
    need(isEventName(event), 'send: event name must be a string of 1-256 characters', InvalidArgumentError);
    const link = this.#link;
    const ws = link?.ws;
    const control = CONTROL_EVENTS.has(event);
    const what = `send('${event}')`;
    if (!ws || (control ? ws.readyState !== OPEN : this.#state !== 'authenticated'))
      throw new NotConnectedError(what, this.#state);
    let text: string;
    try {
      text = encodeFrame(event, data);
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: data is not JSON`, { cause });
    }
    if (control || !link) return ws.send(text);
    const key = link.key;
    need(key, `${what}: not encrypted: the server offered no key`, InvalidStateError);
    // Encryption starts now, in parallel with earlier sends; frames still leave in call order.
    const sealing = seal(text, key);
    sealing.catch(ignore);
    const sent = link.o.then(async () => {
      const payload = await sealing;
      need(!link.c && ws.readyState === OPEN, what, ConnectionClosedError);
      link.s.add(payload.iv);
      ws.send(encodeFrame('encrypted', payload));
    });
    link.o = sent.catch(ignore);
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
    this.#on(event, handler);
  }

  /** Removes one handler. */
  off<T = unknown>(event: string, handler: TEventHandler<T>): void {
    this.#handlers.get(event)?.delete(handler);
  }

  /** Removes every handler of one event. */
  offAll(event: string): void {
    this.#handlers.delete(event);
  }

  /** Registers a handler called with every new state. */
  onStateChange(handler: TStateChangeHandler): void {
    this.#on(STATE, handler);
  }

  // ---------------------------------------------------------------- getters

  /** The current state. */
  getState(): TConnectionState {
    return this.#state;
  }

  /** The id the server gave this connection, or `null` when not authenticated. */
  getClientId(): string | null {
    return this.#link?.n?.id ?? null;
  }

  /** The authenticated user id, or `null` when not authenticated. */
  getUserId(): string | null {
    return this.#link?.n?.userId ?? null;
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
    const link: Link = { s: new ReplayGuard(o.replayWindow), i: DONE, o: DONE };
    this.#link = link;
    this.#setState('connecting');
    try {
      const keys = await generateECDHKeyPair();
      link.k = keys;
      const Ctor = await resolveWebSocket(o.WebSocket);
      if (link.c) return;
      let ws: WebSocketLike;
      try {
        ws = new Ctor(o.url);
        link.ws = ws;
      } catch (cause) {
        throw optionError('url', WS_URL, cause);
      }
      ws.onopen = () => {
        ws.send(encodeFrame('authenticate', { type: 'Bearer', token: o.token, clientPublicKey: keys.publicKeyB64 }));
        const timeout = o.handshakeTimeout;
        if (timeout)
          link.t = setTimeout(() => this.#lost(link, this.#report(new TimeoutError('authenticate', timeout))), timeout);
        this.#setState('authenticating');
      };
      ws.onmessage = (event) => this.#onMessage(link, event.data);
      ws.onclose = (event) => this.#lost(link, new ConnectionClosedError('connection', event.code, event.reason));
      // An error is always followed by a close event, which drives reconnection.
      // (Node's `ws` throws on an 'error' event nobody listens to.)
      ws.onerror = ignore;
    } catch (err) {
      if (!link.c) this.#fail(err as Error);
    }
  }

  /** The link closed or must be dropped: clean up, then reconnect or give up. */
  #lost(link: Link, cause: Error): void {
    if (link.c) return;
    this.#release();
    const rc = this.#opts.reconnect;
    if (!rc.enabled || this.#retries >= rc.maxRetries) {
      this.#stop(cause);
      if (rc.enabled) this.#emit('reconnect_failed', { retries: this.#retries });
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

  /**
   * Releases the current link and everything it holds (its keys are
   * dropped); its socket's handlers are detached, so nothing from it arrives later.
   */
  #release(code = 1000, reason = ''): void {
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    link.c = true;
    link.key = link.k = undefined;
    clearTimeout(link.t);
    const ws = link.ws;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch {
      // Browsers refuse close codes other than 1000 and 3000-4999 (such as 1008): close anyway.
      ws.close();
    }
  }

  // ---------------------------------------------------------------- incoming

  /**
   * Handles the frames of a link one at a time, in arrival order: the replay
   * check, the decryption and the delivery of one frame finish before the next
   * frame is looked at.
   */
  #onMessage(link: Link, raw: unknown): void {
    link.i = link.i
      .then(async () => {
        if (link.c) return;
        const { event, data } = parseFrame(raw, this.#opts.maxFrameSize);
        const key = link.key;
        if (event === 'encrypted') {
          const envelope = parseEnvelope(data);
          need(key, "'encrypted' frame without a session key");
          need(!link.s.has(envelope.iv), "replayed 'encrypted' frame", ReplayError);
          const plaintext = await aesGcm('decrypt', key, envelope.ivBytes, envelope.ct);
          // A frame of a connection that closed meanwhile is never delivered, even after a reconnect.
          if (link.c) return;
          link.s.add(envelope.iv);
          const inner = parseInner(plaintext);
          this.#emit(inner.event, inner.data);
        } else if (event === 'connected') {
          await this.#onConnected(link, data);
        } else if (event === 'error') {
          this.#report(data);
        } else {
          need(CONTROL_EVENTS.has(event) || !(this.#opts.requireEncryption || key), `dropped plaintext '${event}'`);
          this.#emit(event, data);
        }
      })
      .catch((err: unknown) => link.c || this.#report(err));
  }

  async #onConnected(link: Link, data: unknown): Promise<void> {
    // Frames are handled one at a time, so a first `connected` has either set `n` or closed the link by now.
    need(!link.n, "second 'connected' on one connection");
    // A frame arrives only on a socket that #open made, after it set both.
    const { k: own, ws } = link;
    if (!own || !ws) return;
    const o = this.#opts;
    let info: ISignalConnectedData;
    let key: CryptoKey | null;
    try {
      info = parseConnected(data);
      key = await establishClientKey(info, own, o.ecdhInfo, o.requireEncryption, o.serverVerifyKey);
    } catch (err) {
      if (!link.c) this.#fail(err as Error);
      return;
    }
    if (link.c) return;
    link.key = key;
    link.n = info;
    clearTimeout(link.t);
    link.t = setInterval(() => ws.readyState === OPEN && ws.send(encodeFrame('heartbeat')), o.heartbeatInterval);
    // Success is reported by the state and the 'connected' event; running in plaintext deserves a warning.
    if (!key) this.#log.warn('not encrypted: the server offered no key');
    this.#retries = 0;
    if (o.autoJoinRooms.length) ws.send(encodeFrame('join', { rooms: o.autoJoinRooms }));
    this.#setState('authenticated');
    this.#settle();
    this.#emit('connected', info);
  }

  // ---------------------------------------------------------------- helpers

  #sendRooms(event: 'join' | 'leave', rooms: string[]): void {
    need(isStringArray(rooms), `${event}Rooms: rooms must be ${ROOMS}`, InvalidArgumentError);
    const ws = this.#link?.ws;
    if (this.#state === 'authenticated' && ws?.readyState === OPEN) ws.send(encodeFrame(event, { rooms }));
    else this.#log.warn(`${event}Rooms: not connected`);
  }

  #on(key: string | symbol, handler: (arg: never) => void): void {
    const handlers = this.#handlers;
    handlers.set(key, (handlers.get(key) ?? new Set()).add(handler));
  }

  /** Logs `err` (a WssError, or the server's `error` data) and emits it on 'error'; returns it. */
  #report<T>(err: T): T {
    this.#log.error('Signal error', err);
    this.#emit('error', err);
    return err;
  }

  #setState(next: TConnectionState): void {
    if (this.#state === next) return;
    this.#state = next;
    this.#emit(STATE, next);
  }

  /**
   * Calls every handler of `key` with `arg`, in registration order, on a copy
   * (so handlers may add or remove handlers meanwhile); one that throws is
   * logged and never breaks the client.
   */
  #emit(key: string | symbol, arg: unknown): void {
    for (const handler of [...(this.#handlers.get(key) ?? [])]) {
      try {
        (handler as (arg: unknown) => void)(arg);
      } catch (err) {
        this.#log.error('A handler threw', err);
      }
    }
  }
}
