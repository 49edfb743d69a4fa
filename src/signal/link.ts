/**
 * One connection attempt of the Signal client and everything that lives
 * exactly as long as it: the socket, the ECDH key pair, the session key, the
 * replay guard, the incoming backlog, the outgoing order and the one timer.
 */
import { ConnectionClosedError, QueueFullError, ReplayError, TimeoutError } from '../errors.js';
import { aesGcmNow } from '../crypto/aead.js';
import { generateECDHKeyPair, type IECDHKeyPair } from '../crypto/ecdh.js';
import { type IEncryptedPayload, sealNow } from '../crypto/signal-crypto.js';
import { resolveWebSocket, type WebSocketLike } from '../transport/websocket.js';
import { watchAbort } from '../util/abort.js';
import {
  encodeEnvelope,
  encodeFrame,
  matchEnvelope,
  need,
  parseConnected,
  parseEnvelope,
  parseFrame,
  parseInner,
  type ParsedEnvelope,
  type SignalFrame,
} from './frames.js';
import { establishClientKey } from './handshake.js';
import { optionError, WS_URL, type ResolvedClientOptions } from './options.js';
import { OrderedQueue } from '../util/ordered-queue.js';
import { ReplayGuard } from './replay-guard.js';
import { CONTROL_EVENTS, type ISignalConnectedData } from './types.js';

const OPEN = 1;
const SENT = Promise.resolve();
const HEARTBEAT = encodeFrame('heartbeat');
const NO_KEY = "'encrypted' frame without a session key";

/** What `connected` established: its validated data and the session key (`null`: the server offered none). */
export interface Session {
  info: ISignalConnectedData;
  key: CryptoKey | null;
}

/** What a link tells the client that owns it. */
export interface LinkHost {
  readonly options: ResolvedClientOptions;
  /** The socket opened and `authenticate` went out. */
  authenticating(link: Link): void;
  /** `connected` passed every check: the link has its session. */
  authenticated(link: Link, session: Session): void;
  /** A failure that retrying cannot fix (a bad `connected`). */
  failed(link: Link, err: Error): void;
  /** The link is gone (closed by the server, timed out, flooded): reconnect or give up. */
  lost(link: Link, cause: Error): void;
  /** An event to hand to the application's handlers. */
  deliver(event: string, data: unknown): void;
  /** Logs `err` and emits it on 'error'; returns it. */
  report<T>(err: T): T;
}

/**
 * Closes `ws` with `code`, or without a code where the platform refuses it:
 * browsers allow only 1000 and 3000-4999 from script.
 */
function closeSocket(ws: WebSocketLike, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    ws.close();
  }
}

/** Parses `connected` and derives the session key. */
async function agree(data: unknown, keys: IECDHKeyPair, o: ResolvedClientOptions): Promise<Session> {
  const info = parseConnected(data);
  const key = await establishClientKey(info, keys, o.ecdhInfo, o.requireEncryption, o.serverVerifyKey);
  return { info, key };
}

/**
 * A connection attempt. Once {@link release}d it is inert: its socket's
 * handlers are detached and work that finishes later finds it released and
 * is dropped, so nothing of a closed connection is delivered after a reconnect.
 *
 * Incoming frames: each one's decryption starts as it arrives and the frames
 * are delivered in arrival order, through a backlog bounded by
 * `maxBacklogFrames` and `maxBacklogBytes`.
 */
export class Link {
  socket: WebSocketLike | undefined;
  keys: IECDHKeyPair | undefined;
  /** Set by the turn of `connected`, once it passed every check. */
  session: Session | undefined;
  released = false;
  readonly #host: LinkHost;
  readonly #options: ResolvedClientOptions;
  /** IVs seen on this connection, received and sent: the replay and reflection guard. */
  readonly #replay: ReplayGuard;
  /** Incoming frames, in arrival order. */
  readonly #inbox: OrderedQueue;
  /** Outgoing encrypted frames, in call order. */
  readonly #outbox: OrderedQueue;
  /** The key agreement, started by the first `connected`. */
  #handshake: Promise<Session> | undefined;
  /** The handshake timeout, later the heartbeat (clearTimeout clears both kinds). */
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #report = (err: unknown): void => {
    this.#host.report(err);
  };

  constructor(host: LinkHost) {
    this.#host = host;
    this.#options = host.options;
    this.#replay = new ReplayGuard(host.options.replayWindow);
    this.#inbox = new OrderedQueue(this.#report);
    this.#outbox = new OrderedQueue(this.#report);
  }

  /** Makes the key pair and the socket; rejects for a URL the WebSocket constructor refuses. */
  async open(): Promise<void> {
    const o = this.#options;
    const keys = await generateECDHKeyPair();
    const Ctor = await resolveWebSocket(o.WebSocket);
    if (this.released) return;
    this.keys = keys;
    let ws: WebSocketLike;
    try {
      ws = new Ctor(o.url);
    } catch (cause) {
      throw optionError('url', WS_URL, cause);
    }
    this.socket = ws;
    ws.onopen = () => this.#authenticate(ws);
    ws.onmessage = (event) => this.#accept(event.data);
    ws.onclose = (event) => this.#host.lost(this, new ConnectionClosedError('connection', event.code, event.reason));
    // An error is always followed by a close event, which drives reconnection.
    // (Node's `ws` throws on an 'error' event nobody listens to.)
    ws.onerror = () => {};
  }

  /** Sends a plaintext frame. */
  sendText(text: string): void {
    this.socket?.send(text);
  }

  /**
   * Encrypts `text` and sends it as an `encrypted` frame. Encryption starts
   * now, in parallel with earlier sends; frames leave in call order. Where the
   * platform encrypts synchronously (Node) and no earlier send is waiting, the
   * frame leaves at once.
   * @throws QueueFullError when `maxPendingSends` sends are in progress.
   */
  sendEncrypted(text: string, key: CryptoKey, event: string, signal?: AbortSignal): Promise<void> {
    const outbox = this.#outbox;
    const limit = this.#options.maxPendingSends;
    if (outbox.length >= limit)
      throw new QueueFullError(
        `send('${event}'): ${limit} sends are still in progress (maxPendingSends); await earlier sends or raise the option`,
      );
    const sealed = sealNow(text, key);
    if (outbox.length === 0 && !(sealed instanceof Promise)) {
      const failure = this.#write(sealed, event);
      return failure ? Promise.reject(failure) : SENT;
    }
    return new Promise((resolve, reject) => {
      const unwatch = watchAbort(signal, `send('${event}')`, reject);
      const write = (payload: IEncryptedPayload): void => {
        unwatch();
        if (signal?.aborted) return;
        const failure = this.#write(payload, event);
        if (failure) reject(failure);
        else resolve();
      };
      outbox.add(sealed, write, (err) => {
        unwatch();
        reject(err);
      });
    });
  }

  /** Writes an encrypted frame; returns why it could not. */
  #write(payload: IEncryptedPayload, event: string): ConnectionClosedError | undefined {
    const ws = this.socket;
    if (this.released || ws?.readyState !== OPEN) return new ConnectionClosedError(`send('${event}')`);
    this.#replay.add(payload.iv);
    try {
      ws.send(encodeEnvelope(payload));
      return undefined;
    } catch (cause) {
      return new ConnectionClosedError(`send('${event}')`, undefined, undefined, { cause });
    }
  }

  /** Replaces the handshake timeout with the heartbeat. */
  startHeartbeat(interval: number): void {
    const ws = this.socket;
    clearTimeout(this.#timer);
    this.#timer = setInterval(() => ws?.readyState === OPEN && ws.send(HEARTBEAT), interval);
  }

  /** Drops everything the link holds (its keys too) and closes its socket with `code`. */
  release(code = 1000, reason = ''): void {
    this.released = true;
    this.session = this.keys = this.#handshake = undefined;
    clearTimeout(this.#timer);
    this.#inbox.clear();
    const ws = this.socket;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState <= OPEN) closeSocket(ws, code, reason);
  }

  // ---------------------------------------------------------------- handshake

  #authenticate(ws: WebSocketLike): void {
    const o = this.#options;
    const clientPublicKey = this.keys?.publicKeyB64;
    ws.send(encodeFrame('authenticate', { type: 'Bearer', token: o.token, clientPublicKey }));
    const timeout = o.handshakeTimeout;
    if (timeout) {
      const expire = (): void => this.#host.lost(this, this.#host.report(new TimeoutError('authenticate', timeout)));
      this.#timer = setTimeout(expire, timeout);
    }
    this.#host.authenticating(this);
  }

  /** Starts the key agreement of the first `connected`; the client learns the outcome in order. */
  #acceptConnected(data: unknown, size: number): void {
    need(!this.#handshake, "second 'connected' on one connection");
    // Frames arrive only on a socket that open() made, after it made the keys.
    const keys = this.keys as IECDHKeyPair;
    const handshake = agree(data, keys, this.#options);
    this.#handshake = handshake;
    const done = (session: Session): void => {
      clearTimeout(this.#timer);
      this.session = session;
      this.#host.authenticated(this, session);
    };
    this.#inbox.add(handshake, done, (err) => this.#host.failed(this, err as Error), size);
  }

  // ---------------------------------------------------------------- incoming

  /** Takes one frame from the socket: refuses it past the backlog's caps, else starts its work and queues its turn. */
  #accept(raw: unknown): void {
    const o = this.#options;
    const inbox = this.#inbox;
    // An oversized frame is refused below, and holds nothing meanwhile.
    const size = typeof raw === 'string' && raw.length <= o.maxFrameSize ? raw.length : 0;
    if (inbox.length >= o.maxBacklogFrames || inbox.size + size > o.maxBacklogBytes) {
      this.#overflow();
      return;
    }
    try {
      // The common frame, an envelope as every sender writes it, is read without JSON.parse.
      const envelope = size ? matchEnvelope(raw as string) : undefined;
      if (envelope) this.#acceptEncrypted(envelope, size);
      else this.#acceptFrame(parseFrame(raw, o.maxFrameSize), size);
    } catch (err) {
      // A frame refused on arrival is reported in its turn, after the frames before it.
      inbox.add(err, this.#report, this.#report, size);
    }
  }

  /** A frame that JSON.parse read. */
  #acceptFrame({ event, data }: SignalFrame, size: number): void {
    if (event === 'encrypted') this.#acceptEncrypted(parseEnvelope(data), size);
    else if (event === 'connected') this.#acceptConnected(data, size);
    else this.#inbox.add(data, event === 'error' ? this.#report : (d) => this.#plaintext(event, d), this.#report, size);
  }

  /**
   * Starts decrypting an envelope. Where the platform decrypts synchronously
   * (Node) the plaintext is there at once, and with no frame before it waiting,
   * the frame is delivered now, in this turn of the event loop.
   */
  #acceptEncrypted(envelope: ParsedEnvelope, size: number): void {
    const iv = envelope.iv;
    need(!this.#replay.has(iv), "replayed 'encrypted' frame", ReplayError);
    const key = this.session?.key;
    const work = key ? aesGcmNow('decrypt', key, envelope.ivBytes, envelope.ct) : this.#decryptLater(envelope);
    this.#inbox.add(work, (plaintext: Uint8Array) => this.#decrypted(iv, plaintext), this.#report, size);
  }

  /** Decrypts once the key agreement in progress is done; a frame before `connected` has no key. */
  #decryptLater(envelope: ParsedEnvelope): Promise<Uint8Array<ArrayBuffer>> {
    const handshake = this.#handshake;
    need(handshake && !this.session, NO_KEY);
    // Copies: the decoded bytes may be views into a shared pool, which a waiting frame must not hold on to.
    const iv = envelope.ivBytes.slice();
    const ct = envelope.ct.slice();
    return handshake.then(({ key }) => {
      need(key, NO_KEY);
      return aesGcmNow('decrypt', key, iv, ct);
    });
  }

  /** The turn of a decrypted frame: the replay check (the IV is remembered only now), then delivery. */
  #decrypted(iv: string, plaintext: Uint8Array): void {
    need(this.#replay.admit(iv), "replayed 'encrypted' frame", ReplayError);
    const inner = parseInner(plaintext);
    this.#host.deliver(inner.event, inner.data);
  }

  /** The turn of a plaintext event: only control events, unless encryption is neither required nor in use. */
  #plaintext(event: string, data: unknown): void {
    const encrypted = this.#options.requireEncryption || this.session?.key;
    need(CONTROL_EVENTS.has(event) || !encrypted, `dropped plaintext '${event}'`);
    this.#host.deliver(event, data);
  }

  /**
   * A frame past the backlog's caps: take no more frames, close the socket,
   * deliver what was accepted, then report and let the client reconnect.
   */
  #overflow(): void {
    const ws = this.socket as WebSocketLike;
    ws.onmessage = ws.onclose = null;
    clearTimeout(this.#timer);
    closeSocket(ws, 1008, 'incoming backlog full');
    const { maxBacklogFrames, maxBacklogBytes } = this.#options;
    const err = new QueueFullError(
      `incoming backlog full (${this.#inbox.length} frames, ${this.#inbox.size} bytes waiting; maxBacklogFrames ${maxBacklogFrames}, maxBacklogBytes ${maxBacklogBytes}): the server sends faster than this client decrypts. Closed the connection (1008) to reconnect; raise the caps if the server is trusted`,
    );
    this.#inbox.add(err, (e) => this.#host.lost(this, this.#host.report(e)), this.#report);
  }
}
