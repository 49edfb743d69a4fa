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
import { decryptBytes } from '../crypto/aead.js';
import { utf8Decode } from '../crypto/bytes.js';
import { generateECDHKeyPair, type IECDHKeyPair } from '../crypto/ecdh.js';
import { encrypt } from '../crypto/signal-crypto.js';
import { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from '../transport/websocket.js';
import { reconnectDelay } from './backoff.js';
import { encodeFrame, isEventName, parseConnected, parseEnvelope, parseFrame, parseInner, type ParsedEnvelope, type SignalFrame } from './frames.js';
import { HandlerRegistry } from './handlers.js';
import { establishClientKey, loadVerifyKey } from './handshake.js';
import { checkToken, resolveClientOptions, type IEncryptedWSClientOptions, type ResolvedClientOptions } from './options.js';
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
  readonly inbox: SerialQueue;
  readonly outbox: SerialQueue;
  aesKey: CryptoKey | null;
  handshaken: boolean;
  closed: boolean;
  heartbeat: ReturnType<typeof setInterval> | null;
  handshakeTimer: ReturnType<typeof setTimeout> | null;
}

/** The promise `connect()` hands out; settled by whatever ends the attempt. */
interface PendingConnect {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

/** Decrypts an envelope to text; the promise never counts as unhandled (it may be dropped unread). */
function openEnvelope(key: CryptoKey, envelope: ParsedEnvelope): Promise<string> {
  const opened = decryptBytes({ key, iv: envelope.ivBytes, ciphertext: envelope.ct }).then((bytes) => {
    try {
      return utf8Decode(bytes);
    } catch (cause) {
      throw new ProtocolError('decrypted payload is not valid UTF-8', { cause });
    }
  });
  opened.catch(ignore);
  return opened;
}

function pendingConnect(): PendingConnect {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that fire and forget connect() must not get an unhandled rejection;
  // the failure is also reported through the 'error' event and the logger.
  promise.catch(ignore);
  return { promise, resolve, reject };
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
  readonly #handlers: HandlerRegistry;
  readonly #stateHandlers = new Set<TStateChangeHandler>();
  #token: string;
  #state: TConnectionState = 'disconnected';
  #link: Link | null = null;
  /** Bumped by every open and every disconnect, so that stale async work can tell it is stale. */
  #generation = 0;
  #retryCount = 0;
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  #pending: PendingConnect | null = null;
  #clientId: string | null = null;
  #userId: string | null = null;
  #destroyed = false;
  #ctor: Promise<WebSocketConstructor> | null = null;
  #verifyKey: Promise<CryptoKey> | null = null;

  /**
   * @throws InvalidArgumentError naming the first bad option; KeyFormatError for a malformed `serverVerifyKey`.
   */
  constructor(opts: IEncryptedWSClientOptions) {
    this.#opts = resolveClientOptions(opts);
    this.#logger = this.#opts.logger;
    this.#token = this.#opts.token;
    this.#handlers = new HandlerRegistry(this.#logger);
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
      this.#cancelReconnect();
      void this.#open();
    }
    return this.#pending.promise;
  }

  /** Closes the connection (code 1000) and stops reconnecting; `connect()` may be called again later. */
  disconnect(): void {
    this.#generation++;
    this.#cancelReconnect();
    const link = this.#link;
    this.#link = null;
    if (link) this.#closeLink(link, 1000, 'Client disconnect');
    this.#clientId = this.#userId = null;
    this.#setState('disconnected');
    this.#settle(new ConnectionClosedError('connect', 1000, 'disconnect() was called'));
  }

  /** Disconnects and removes every handler; the client cannot be used again. */
  destroy(): void {
    this.disconnect();
    this.#destroyed = true;
    this.#handlers.removeAll();
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
    if (!isEventName(event)) throw new InvalidArgumentError('send(event): event must be a non-empty string of at most 256 characters');
    const link = this.#link;
    if (CONTROL_EVENTS.has(event)) {
      if (!link || link.ws.readyState !== OPEN) throw new NotConnectedError(`send('${event}')`, this.#state);
      link.ws.send(encodeFrame(event, data));
      return;
    }
    if (!link || this.#state !== 'authenticated') throw new NotConnectedError(`send('${event}')`, this.#state);
    const aesKey = link.aesKey;
    if (!aesKey) {
      throw new InvalidStateError(`send('${event}'): the server offered no encryption and application events are never sent in plaintext`);
    }
    const plaintext = this.#encodeInner(event, data);
    // Encryption starts now, in parallel with earlier sends; frames still leave in call order.
    const sealing = encrypt({ plaintext, aesKey });
    sealing.catch(ignore);
    await link.outbox.run(async () => {
      const payload = await sealing;
      if (link.closed || link.ws.readyState !== OPEN) throw new ConnectionClosedError(`send('${event}')`);
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
    this.#handlers.add(event, handler as TEventHandler);
  }

  /** Removes one handler. */
  off<T = unknown>(event: string, handler: TEventHandler<T>): void {
    this.#handlers.remove(event, handler as TEventHandler);
  }

  /** Removes every handler of one event. */
  offAll(event: string): void {
    this.#handlers.removeAll(event);
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
    return this.#clientId;
  }

  /** The authenticated user id, or `null` when not authenticated. */
  getUserId(): string | null {
    return this.#userId;
  }

  /** Whether the current connection has a session key. */
  isEncrypted(): boolean {
    return this.#link?.aesKey != null;
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
    let Ctor: WebSocketConstructor;
    try {
      keys = await generateECDHKeyPair();
      Ctor = await (this.#ctor ??= resolveWebSocket(this.#opts.WebSocket));
    } catch (err) {
      this.#ctor = null;
      if (generation === this.#generation) this.#fail(toError(err));
      return;
    }
    if (generation !== this.#generation) return;
    let ws: WebSocketLike;
    try {
      ws = new Ctor(this.#opts.url);
    } catch (err) {
      this.#fail(new InvalidArgumentError(`could not open a WebSocket to '${this.#opts.url}'; check the url option`, { cause: err }));
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
      heartbeat: null,
      handshakeTimer: null,
    };
    this.#link = link;
    this.#logger.debug('Generated ECDH key pair; opening WebSocket');
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
      link.handshakeTimer = setTimeout(() => {
        link.handshakeTimer = null;
        const err = new TimeoutError("authentication (waiting for 'connected')", timeout);
        this.#report(err);
        this.#lost(link, err);
      }, timeout);
    }
  }

  /** The link closed or must be dropped: clean up, then reconnect or give up. */
  #lost(link: Link, cause: Error): void {
    if (link !== this.#link) return;
    this.#logger.info(`WebSocket closed: ${cause.message}`);
    this.#link = null;
    this.#closeLink(link, 1000, 'Client retrying');
    this.#clientId = this.#userId = null;
    this.#scheduleReconnect(cause);
  }

  /** A failure that retrying cannot fix: report it, close, and stay disconnected. */
  #fail(err: Error, link: Link | null = this.#link): void {
    this.#report(err);
    if (link && link === this.#link) {
      this.#link = null;
      this.#closeLink(link, 1008, 'Handshake failed');
    }
    this.#clientId = this.#userId = null;
    this.#cancelReconnect();
    this.#setState('disconnected');
    this.#settle(err);
  }

  #scheduleReconnect(cause: Error): void {
    const rc = this.#opts.reconnect;
    if (!rc.enabled) {
      this.#setState('disconnected');
      this.#settle(cause);
      return;
    }
    if (this.#retryCount >= rc.maxRetries) {
      this.#logger.error(`Max retries (${rc.maxRetries}) exceeded; giving up`);
      this.#setState('disconnected');
      this.#settle(cause);
      this.#handlers.emit('reconnect_failed', { retries: this.#retryCount });
      return;
    }
    this.#retryCount++;
    const delay = reconnectDelay(this.#retryCount, rc);
    this.#logger.info(`Reconnecting in ${delay}ms (attempt ${this.#retryCount}/${rc.maxRetries})`);
    this.#setState('reconnecting');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#open();
    }, delay);
  }

  #cancelReconnect(): void {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
  }

  /** Releases everything the link holds; its socket's handlers are detached, so nothing from it arrives later. */
  #closeLink(link: Link, code: number, reason: string): void {
    link.closed = true;
    link.aesKey = null;
    link.replay.clear();
    if (link.heartbeat !== null) clearInterval(link.heartbeat);
    if (link.handshakeTimer !== null) clearTimeout(link.handshakeTimer);
    link.heartbeat = link.handshakeTimer = null;
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
    if (!pending) return;
    if (err) pending.reject(err);
    else pending.resolve();
  }

  // ---------------------------------------------------------------- incoming

  #onMessage(link: Link, raw: unknown): void {
    if (link !== this.#link) return;
    const job = this.#prepare(link, raw);
    link.inbox.run(() => (link.closed ? undefined : job())).catch((err: unknown) => this.#report(toError(err)));
  }

  /**
   * Parses a frame at once and, for an `encrypted` frame, starts decrypting
   * it, so that decryptions run in parallel; the returned job, run in arrival
   * order, does everything that must happen in order (replay check, delivery).
   */
  #prepare(link: Link, raw: unknown): () => Promise<void> | void {
    let frame: SignalFrame;
    let envelope: ParsedEnvelope;
    try {
      frame = parseFrame(raw, this.#opts.maxFrameSize);
      if (frame.event !== 'encrypted') return () => this.#handleFrame(link, frame);
      envelope = parseEnvelope(frame.data);
    } catch (err) {
      return () => this.#report(toError(err));
    }
    const early = link.aesKey ? openEnvelope(link.aesKey, envelope) : null;
    return () => this.#handleEncrypted(link, envelope, early);
  }

  async #handleFrame(link: Link, frame: SignalFrame): Promise<void> {
    switch (frame.event) {
      case 'connected':
        return this.#handleConnected(link, frame.data);
      case 'error':
        this.#logger.error('Server error:', frame.data);
        this.#handlers.emit('error', frame.data);
        return;
      default:
        this.#handlePlaintext(link, frame);
    }
  }

  #handlePlaintext(link: Link, frame: SignalFrame): void {
    if (!CONTROL_EVENTS.has(frame.event) && (this.#opts.requireEncryption || link.aesKey)) {
      this.#report(new ProtocolError(`dropped plaintext application event '${frame.event}': application events must be encrypted`));
      return;
    }
    this.#logger.debug(`Received plaintext [${frame.event}]`);
    this.#handlers.emit(frame.event, frame.data);
  }

  async #handleConnected(link: Link, data: unknown): Promise<void> {
    if (link.handshaken) {
      this.#report(new ProtocolError("dropped a second 'connected' on the same connection; the session key is never replaced"));
      return;
    }
    link.handshaken = true;
    let connected: ISignalConnectedData;
    let aesKey: CryptoKey | null;
    try {
      connected = parseConnected(data);
      aesKey = await establishClientKey({
        connected,
        clientPrivateKey: link.keys.keyPair.privateKey,
        clientPublicKeyB64: link.keys.publicKeyB64,
        ecdhInfo: this.#opts.ecdhInfo,
        verifyKey: await this.#loadVerifyKey(),
      });
      if (!aesKey && this.#opts.requireEncryption) {
        throw new ProtocolError("server offered no encryption ('connected' without serverPublicKey and salt) and requireEncryption is on; refusing to continue in plaintext");
      }
    } catch (err) {
      if (!link.closed) this.#fail(toError(err), link);
      return;
    }
    if (link.closed) return;
    this.#authenticated(link, connected, aesKey);
  }

  #authenticated(link: Link, connected: ISignalConnectedData, aesKey: CryptoKey | null): void {
    link.aesKey = aesKey;
    if (link.handshakeTimer !== null) clearTimeout(link.handshakeTimer);
    link.handshakeTimer = null;
    this.#clientId = connected.id;
    this.#userId = connected.userId;
    if (aesKey) this.#logger.info(`Authenticated: clientId=${connected.id}, userId=${connected.userId}; encryption established`);
    else this.#logger.warn('Server did not provide serverPublicKey/salt; encryption NOT available (requireEncryption is off)');
    link.heartbeat = setInterval(() => {
      if (link.ws.readyState === OPEN) link.ws.send(encodeFrame('heartbeat'));
    }, this.#opts.heartbeatInterval);
    this.#retryCount = 0;
    if (this.#opts.autoJoinRooms.length > 0) this.#writeRooms(link, 'join', [...this.#opts.autoJoinRooms]);
    this.#setState('authenticated');
    this.#settle();
    this.#handlers.emit('connected', connected);
  }

  async #handleEncrypted(link: Link, envelope: ParsedEnvelope, early: Promise<string> | null): Promise<void> {
    try {
      if (!link.aesKey) throw new ProtocolError("dropped an 'encrypted' frame that arrived before a session key was agreed");
      if (link.replay.has(envelope.iv)) {
        throw new ReplayError("dropped an 'encrypted' frame whose IV was already seen on this connection (replayed or reflected)");
      }
      const plaintext = await (early ?? openEnvelope(link.aesKey, envelope));
      // A frame of a connection that closed meanwhile is never delivered, even after a reconnect.
      if (link.closed) {
        this.#logger.debug('Dropped a decrypted frame of a closed connection');
        return;
      }
      link.replay.add(envelope.iv);
      const inner = parseInner(plaintext);
      this.#logger.debug(`Decrypted [${inner.event}]`);
      this.#handlers.emit(inner.event, inner.data);
    } catch (err) {
      if (!link.closed) this.#report(toError(err));
    }
  }

  // ---------------------------------------------------------------- helpers

  #loadVerifyKey(): Promise<CryptoKey | undefined> {
    const key = this.#opts.serverVerifyKey;
    if (key === undefined) return Promise.resolve(undefined);
    this.#verifyKey ??= loadVerifyKey(key);
    return this.#verifyKey;
  }

  #encodeInner(event: string, data: unknown): string {
    try {
      return JSON.stringify({ event, data });
    } catch (cause) {
      throw new InvalidArgumentError(`send('${event}'): data cannot be encoded as JSON`, { cause });
    }
  }

  #sendRooms(event: 'join' | 'leave', rooms: string[]): void {
    if (!Array.isArray(rooms) || !rooms.every((r) => typeof r === 'string' && r !== '')) {
      throw new InvalidArgumentError(`${event === 'join' ? 'joinRooms' : 'leaveRooms'}(rooms): rooms must be an array of non-empty strings`);
    }
    const link = this.#link;
    if (!link || this.#state !== 'authenticated' || link.ws.readyState !== OPEN) {
      this.#logger.warn(`Cannot ${event} rooms: not connected`);
      return;
    }
    this.#writeRooms(link, event, rooms);
  }

  #writeRooms(link: Link, event: 'join' | 'leave', rooms: string[]): void {
    link.ws.send(encodeFrame(event, { rooms }));
    this.#logger.debug(`${event} rooms:`, rooms);
  }

  #report(err: Error): void {
    this.#logger.error(err.message, err);
    this.#handlers.emit('error', err);
  }

  #setState(next: TConnectionState): void {
    const prev = this.#state;
    this.#state = next;
    if (prev === next) return;
    this.#logger.debug(`State: ${prev} → ${next}`);
    for (const handler of [...this.#stateHandlers]) {
      try {
        handler(next);
      } catch (err) {
        this.#logger.error('State change handler threw; the client carries on', err);
      }
    }
  }
}
