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
import { utf8Decode } from '../crypto/bytes.js';
import { generateECDHKeyPair, type IECDHKeyPair } from '../crypto/ecdh.js';
import { seal } from '../crypto/signal-crypto.js';
import { resolveWebSocket, type WebSocketLike } from '../transport/websocket.js';
import { reconnectDelay } from './backoff.js';
import { encodeFrame, isEventName, parseConnected, parseEnvelope, parseFrame, parseInner, type ParsedEnvelope, type SignalFrame } from './frames.js';
import { callAll } from './handlers.js';
import { establishClientKey, loadVerifyKey } from './handshake.js';
import { checkToken, isRoomList, resolveClientOptions, type IEncryptedWSClientOptions, type ResolvedClientOptions } from './options.js';
import { ReplayGuard } from './replay-guard.js';
import { SerialQueue } from './serial.js';
import { CONTROL_EVENTS, type ISignalConnectedData, type IWSLogger, type TConnectionState, type TEventHandler, type TStateChangeHandler } from './types.js';

const OPEN = 1;
const ignore = (): void => {};

/** One WebSocket and everything that lives exactly as long as it. */
interface Link {
  readonly ws: WebSocketLike;
  readonly keys: IECDHKeyPair;
  readonly replay: ReplayGuard;
  /** Incoming frames, handled in arrival order. */
  readonly inbox: SerialQueue;
  /** Outgoing encrypted frames, sent in call order. */
  readonly outbox: SerialQueue;
  aesKey: CryptoKey | null;
  handshaken: boolean;
  closed: boolean;
  /** Cancels the link's one timer: the handshake timeout, later the heartbeat. */
  stopTimer: () => void;
}

/** Decrypts an envelope to text; the promise never counts as unhandled (it may be dropped unread). */
function openEnvelope(key: CryptoKey, envelope: ParsedEnvelope): Promise<string> {
  const opened = aesGcm('decrypt', key, envelope.ivBytes, envelope.ct).then((bytes) => {
    try {
      return utf8Decode(bytes);
    } catch (cause) {
      throw new ProtocolError('decrypted payload is not valid UTF-8', { cause });
    }
  });
  opened.catch(ignore);
  return opened;
}

/** The promise `connect()` hands out, with its settle functions. */
function pendingConnect(): [Promise<void>, (err?: Error) => void] {
  let settle!: (err?: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  // Callers that fire and forget connect() must not get an unhandled rejection;
  // the failure is also reported through the 'error' event and the logger.
  promise.catch(ignore);
  return [promise, settle];
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
  readonly #logger: IWSLogger;
  /** Event handlers by event name, each set in registration order. */
  readonly #handlers = new Map<string, Set<TEventHandler>>();
  readonly #stateHandlers = new Set<TStateChangeHandler>();
  #token: string;
  #state: TConnectionState = 'disconnected';
  #link: Link | null = null;
  /** Bumped by every open and every disconnect, so that stale async work can tell it is stale. */
  #generation = 0;
  #retryCount = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pending: ReturnType<typeof pendingConnect> | null = null;
  /** The validated `connected` data of the current connection, once authenticated. */
  #connected: ISignalConnectedData | null = null;
  #destroyed = false;
  #verifyKey: Promise<CryptoKey> | undefined;

  /**
   * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
   */
  constructor(opts: IEncryptedWSClientOptions) {
    this.#opts = resolveClientOptions(opts);
    this.#logger = this.#opts.logger;
    this.#token = this.#opts.token;
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
    if (this.#destroyed) return Promise.reject(new InvalidStateError('connect() called after destroy(); create a new EncryptedWebSocketClient'));
    if (this.#state === 'authenticated') return Promise.resolve();
    this.#pending ??= pendingConnect();
    if (this.#state === 'disconnected' || this.#state === 'reconnecting') {
      if (this.#state === 'disconnected') this.#retryCount = 0;
      clearTimeout(this.#reconnectTimer);
      void this.#open();
    }
    return this.#pending[0];
  }

  /** Closes the connection (code 1000) and stops reconnecting; `connect()` may be called again later. */
  disconnect(): void {
    this.#generation++;
    this.#stop(new ConnectionClosedError('connect', 1000, 'disconnect() was called'), this.#link, 1000, 'Client disconnect');
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
    if (!isEventName(event)) throw new InvalidArgumentError('send(event): event must be a string of 1-256 characters');
    const link = this.#link;
    const control = CONTROL_EVENTS.has(event);
    const what = `send('${event}')`;
    if (!link || (control ? link.ws.readyState !== OPEN : this.#state !== 'authenticated')) throw new NotConnectedError(what, this.#state);
    let text: string;
    try {
      text = encodeFrame(event, data);
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: data cannot be encoded as JSON`, { cause });
    }
    if (control) return link.ws.send(text);
    const aesKey = link.aesKey;
    if (!aesKey) throw new InvalidStateError(`${what}: the server offered no encryption; application events are never sent in plaintext`);
    // Encryption starts now, in parallel with earlier sends; frames still leave in call order.
    const sealing = seal(text, aesKey);
    sealing.catch(ignore);
    await link.outbox.run(async () => {
      const payload = await sealing;
      if (link.closed || link.ws.readyState !== OPEN) throw new ConnectionClosedError(what);
      link.replay.add(payload.iv);
      link.ws.send(encodeFrame('encrypted', payload));
    });
    this.#logger.debug(`Sent encrypted [${event}]`);
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
    this.#token = checkToken(token);
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
    return this.#connected?.id ?? null;
  }

  /** The authenticated user id, or `null` when not authenticated. */
  getUserId(): string | null {
    return this.#connected?.userId ?? null;
  }

  /** Whether the current connection has a session key. */
  isEncrypted(): boolean {
    return !!this.#link?.aesKey;
  }

  /** Whether the state is `'authenticated'`. */
  isConnected(): boolean {
    return this.#state === 'authenticated';
  }

  // ---------------------------------------------------------------- connection

  async #open(): Promise<void> {
    const generation = ++this.#generation;
    this.#setState('connecting');
    let keys: IECDHKeyPair;
    let ws: WebSocketLike;
    try {
      keys = await generateECDHKeyPair();
      const Ctor = await resolveWebSocket(this.#opts.WebSocket);
      if (generation !== this.#generation) return;
      try {
        ws = new Ctor(this.#opts.url);
      } catch (cause) {
        throw new InvalidArgumentError(`could not open a WebSocket to '${this.#opts.url}'; check the url option`, { cause });
      }
    } catch (err) {
      if (generation === this.#generation) this.#fail(toError(err));
      return;
    }
    const link: Link = {
      ws,
      keys,
      replay: new ReplayGuard(this.#opts.replayWindow),
      inbox: new SerialQueue(),
      outbox: new SerialQueue(),
      aesKey: null,
      handshaken: false,
      closed: false,
      stopTimer: ignore,
    };
    this.#link = link;
    ws.onopen = () => this.#onOpen(link);
    ws.onmessage = (event) => this.#onMessage(link, event.data);
    ws.onclose = (event) => this.#lost(link, new ConnectionClosedError('connection', event.code, event.reason));
    // An error is always followed by a close event, which drives reconnection.
    ws.onerror = () => this.#logger.warn('WebSocket error');
  }

  #onOpen(link: Link): void {
    if (link !== this.#link) return;
    this.#setState('authenticating');
    this.#logger.debug('WebSocket open; sending authenticate');
    link.ws.send(encodeFrame('authenticate', { type: 'Bearer', token: this.#token, clientPublicKey: link.keys.publicKeyB64 }));
    const timeout = this.#opts.handshakeTimeout;
    if (timeout > 0) {
      const timer = setTimeout(() => {
        const err = new TimeoutError("authentication (waiting for 'connected')", timeout);
        this.#report(err);
        this.#lost(link, err);
      }, timeout);
      link.stopTimer = () => clearTimeout(timer);
    }
  }

  /** The link closed or must be dropped: clean up, then reconnect or give up. */
  #lost(link: Link, cause: Error): void {
    if (link !== this.#link) return;
    this.#logger.info(`WebSocket closed: ${cause.message}`);
    this.#release(link, 1000, 'Client retrying');
    const rc = this.#opts.reconnect;
    if (!rc.enabled || this.#retryCount >= rc.maxRetries) {
      if (rc.enabled) this.#logger.error(`Max retries (${rc.maxRetries}) exceeded; giving up`);
      this.#stop(cause);
      if (rc.enabled) this.#emit('reconnect_failed', { retries: this.#retryCount });
      return;
    }
    const delay = reconnectDelay(++this.#retryCount, rc);
    this.#logger.info(`Reconnecting in ${delay}ms (attempt ${this.#retryCount}/${rc.maxRetries})`);
    this.#setState('reconnecting');
    this.#reconnectTimer = setTimeout(() => void this.#open(), delay);
  }

  /** A failure that retrying cannot fix: report it, close, and stay disconnected. */
  #fail(err: Error, link = this.#link): void {
    this.#report(err);
    this.#stop(err, link, 1008, 'Handshake failed');
  }

  /** Ends in `'disconnected'`: no link, no retry pending, `connect()` settled with `err`. */
  #stop(err: Error, link?: Link | null, code?: number, reason?: string): void {
    if (link) this.#release(link, code, reason);
    clearTimeout(this.#reconnectTimer);
    this.#setState('disconnected');
    this.#settle(err);
  }

  /**
   * Drops `link` if it is the current one and releases everything it holds;
   * its socket's handlers are detached, so nothing from it arrives later.
   */
  #release(link: Link, code = 1000, reason = ''): void {
    if (link !== this.#link) return;
    this.#link = this.#connected = null;
    link.closed = true;
    link.aesKey = null;
    link.replay.clear();
    link.stopTimer();
    const ws = link.ws;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // Keep an error handler: Node's `ws` throws on an 'error' event nobody listens to.
    ws.onerror = ignore;
    try {
      ws.close(code, reason);
    } catch (err) {
      this.#logger.debug('WebSocket close() refused', err);
    }
  }

  #settle(err?: Error): void {
    const pending = this.#pending;
    this.#pending = null;
    pending?.[1](err);
  }

  // ---------------------------------------------------------------- incoming

  /**
   * Parses a frame at once and, for an `encrypted` frame, starts decrypting
   * it, so that decryptions run in parallel; the queued job, run in arrival
   * order, does everything that must happen in order (replay check, delivery).
   */
  #onMessage(link: Link, raw: unknown): void {
    if (link !== this.#link) return;
    let job: () => unknown;
    try {
      const frame = parseFrame(raw, this.#opts.maxFrameSize);
      if (frame.event === 'encrypted') {
        const envelope = parseEnvelope(frame.data);
        const early = link.aesKey && openEnvelope(link.aesKey, envelope);
        job = () => this.#onEncrypted(link, envelope, early);
      } else {
        job = () => this.#onPlaintext(link, frame);
      }
    } catch (err) {
      job = () => {
        throw err;
      };
    }
    link.inbox.run(() => (link.closed ? undefined : job())).catch((err: unknown) => link.closed || this.#report(toError(err)));
  }

  async #onPlaintext(link: Link, { event, data }: SignalFrame): Promise<void> {
    if (event === 'connected') return this.#onConnected(link, data);
    if (event === 'error') {
      this.#logger.error('Server error:', data);
    } else if (!CONTROL_EVENTS.has(event) && (this.#opts.requireEncryption || link.aesKey)) {
      throw new ProtocolError(`dropped plaintext application event '${event}'; application events must be encrypted`);
    } else {
      this.#logger.debug(`Received plaintext [${event}]`);
    }
    this.#emit(event, data);
  }

  async #onConnected(link: Link, data: unknown): Promise<void> {
    if (link.handshaken) throw new ProtocolError("dropped a second 'connected'; the session key is never replaced");
    link.handshaken = true;
    let connected: ISignalConnectedData;
    let aesKey: CryptoKey | null;
    try {
      connected = parseConnected(data);
      const verifyKey = this.#opts.serverVerifyKey;
      aesKey = await establishClientKey(
        connected,
        link.keys,
        this.#opts.ecdhInfo,
        verifyKey === undefined ? undefined : await (this.#verifyKey ??= loadVerifyKey(verifyKey)),
      );
      if (!aesKey && this.#opts.requireEncryption) {
        throw new ProtocolError("server offered no encryption (no serverPublicKey and salt); requireEncryption is on, so the client refuses plaintext");
      }
    } catch (err) {
      if (!link.closed) this.#fail(toError(err), link);
      return;
    }
    if (link.closed) return;
    link.aesKey = aesKey;
    link.stopTimer();
    this.#connected = connected;
    this.#logger[aesKey ? 'info' : 'warn'](
      `Authenticated: clientId=${connected.id}, userId=${connected.userId}; ${aesKey ? 'encryption established' : 'NO encryption (no serverPublicKey/salt; requireEncryption is off)'}`,
    );
    const heartbeat = setInterval(() => link.ws.readyState === OPEN && link.ws.send(encodeFrame('heartbeat')), this.#opts.heartbeatInterval);
    link.stopTimer = () => clearInterval(heartbeat);
    this.#retryCount = 0;
    if (this.#opts.autoJoinRooms.length) this.#writeRooms(link, 'join', [...this.#opts.autoJoinRooms]);
    this.#setState('authenticated');
    this.#settle();
    this.#emit('connected', connected);
  }

  async #onEncrypted(link: Link, envelope: ParsedEnvelope, early: Promise<string> | null): Promise<void> {
    if (!link.aesKey) throw new ProtocolError("dropped an 'encrypted' frame received before the session key");
    if (link.replay.has(envelope.iv)) {
      throw new ReplayError("dropped a replayed or reflected 'encrypted' frame (IV already seen on this connection)");
    }
    const plaintext = await (early ?? openEnvelope(link.aesKey, envelope));
    // A frame of a connection that closed meanwhile is never delivered, even after a reconnect.
    if (link.closed) return this.#logger.debug('Dropped a decrypted frame of a closed connection');
    link.replay.add(envelope.iv);
    const inner = parseInner(plaintext);
    this.#logger.debug(`Decrypted [${inner.event}]`);
    this.#emit(inner.event, inner.data);
  }

  // ---------------------------------------------------------------- helpers

  #sendRooms(event: 'join' | 'leave', rooms: string[]): void {
    if (!isRoomList(rooms)) throw new InvalidArgumentError(`${event}Rooms(rooms): rooms must be an array of non-empty strings`);
    const link = this.#link;
    if (link && this.#state === 'authenticated' && link.ws.readyState === OPEN) this.#writeRooms(link, event, rooms);
    else this.#logger.warn(`Cannot ${event} rooms: not connected`);
  }

  #writeRooms(link: Link, event: 'join' | 'leave', rooms: string[]): void {
    link.ws.send(encodeFrame(event, { rooms }));
    this.#logger.debug(`${event} rooms:`, rooms);
  }

  #report(err: Error): void {
    this.#logger.error(err.message, err);
    this.#emit('error', err);
  }

  /** Calls every handler of `event`; one that throws is logged and never breaks the client. */
  #emit(event: string, data: unknown): void {
    callAll(this.#handlers.get(event) ?? [], data, this.#logger, `Handler for '${event}'`);
  }

  #setState(next: TConnectionState): void {
    const prev = this.#state;
    this.#state = next;
    if (prev === next) return;
    this.#logger.debug(`State: ${prev} → ${next}`);
    callAll(this.#stateHandlers, next, this.#logger, 'State change handler');
  }
}
