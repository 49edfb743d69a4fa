import { EventEmitter } from 'eventemitter3';
import { ConnectionClosedError, InvalidStateError, NotConnectedError, type ProtocolError } from '../errors.js';
import {
  parseConnectResult,
  parseHandshakeResult,
  parseSendResult,
  parseSessionResult,
  type Push,
} from '../protocol/validate.js';
// Method names are written out (they are `WssMethods`' values): a bundler cannot inline an object's members.
import type { ConnectOptions } from '../protocol/wss.js';
import { postJsonRpc, resolveFetch } from '../transport/http.js';
import { RpcChannel, type RequestOptions } from '../transport/rpc-channel.js';
import type { CloseInfo } from '../transport/transport.js';
import { resolveWebSocket, WebSocketTransport, type WebSocketConstructor } from '../transport/websocket.js';
import { randomHex, sha256Hex } from '../util/random.js';
import { checkNonEmpty, checkRecipients } from './args.js';
import type { ClientState, WSSClientEvents } from './events.js';
import { resolveClientOptions, type ResolvedClientOptions, type WSSClientOptions } from './options.js';

/** What `connect()` resolves with. */
export interface ConnectInfo {
  /** This session's private ID. */
  privateId: string;
  /** Private IDs of the peers already connected. */
  peers: string[];
}

/** Options of `connect()`. */
export interface ConnectCallOptions {
  /** Cancels the connect; it rejects with `AbortError` and the socket is closed. */
  signal?: AbortSignal;
}

/** Options of `broadcast()`. */
export interface BroadcastOptions extends RequestOptions {
  /** Private IDs that must not receive the broadcast. */
  exclude?: readonly string[];
}

/** Options of a raw `request()`. */
export interface RawRequestOptions<T> extends RequestOptions {
  /** Validates the result; default: the result is returned unchecked. */
  parse?: (result: unknown) => T;
}

/**
 * Typed client for WebSocket Sessions servers: handshake (HTTP or socket),
 * connect, broadcast, direct messages, private IDs and the live peer list.
 *
 * @example
 * const client = new WSSClient({ url: 'ws://127.0.0.1:8090' });
 * client.on('message', ({ from, data }) => console.log(from, data));
 * const { privateId, peers } = await client.connect();
 * await client.broadcast({ text: 'hello' });
 */
export class WSSClient extends EventEmitter<WSSClientEvents> {
  readonly #options: ResolvedClientOptions;
  /** Private ID -> connect options, in connection order. */
  readonly #peers = new Map<string, ConnectOptions>();
  #state: ClientState = 'disconnected';
  /** Bumped whenever a connection ends, so events of an older socket are ignored. */
  #generation = 0;
  #transport: WebSocketTransport | null = null;
  #conn: RpcChannel | null = null;
  #privateId: string | null = null;
  #userToken: string | null = null;
  #serverToken: string | null = null;
  #privateIdVerified: boolean | null = null;
  /** Pushes that arrive while `WSS_Connect`'s result is being applied wait here, so order is kept. */
  #backlog: Push[] | null = null;
  #closed: Promise<void> = Promise.resolve();

  /** @throws {InvalidArgumentError} for a bad option, naming it. */
  constructor(options: WSSClientOptions) {
    super();
    this.#options = resolveClientOptions(options);
  }

  /** Connection state. */
  get state(): ClientState {
    return this.#state;
  }

  /** This session's private ID; `null` before the first connect. */
  get privateId(): string | null {
    return this.#privateId;
  }

  /** Connected peers: private ID -> the options they connected with. Live, read-only. */
  get peers(): ReadonlyMap<string, ConnectOptions> {
    return this.#peers;
  }

  /** The user token of the current (or last) handshake. */
  get userToken(): string | null {
    return this.#userToken;
  }

  /** The server token of the current (or last) handshake. */
  get serverToken(): string | null {
    return this.#serverToken;
  }

  /**
   * Whether the private ID the server assigned equals SHA-256(server_token + ":" + user_token).
   * `false` is allowed (servers may differ) and logged as a warning; `null` before connect.
   */
  get privateIdVerified(): boolean | null {
    return this.#privateIdVerified;
  }

  /**
   * Handshakes and binds a socket session (`WSS_Handshake` + `WSS_Connect`).
   * @throws {InvalidStateError} unless the state is `'disconnected'`.
   */
  async connect({ signal }: ConnectCallOptions = {}): Promise<ConnectInfo> {
    if (this.#state !== 'disconnected')
      throw new InvalidStateError(`connect() needs state 'disconnected', not '${this.#state}'`);
    const generation = ++this.#generation;
    const current = (): boolean => generation === this.#generation;
    const check = (): void => {
      if (!current()) throw new ConnectionClosedError('connect', undefined, 'disconnect() was called while connecting');
    };
    const options = this.#options;
    this.#setState('connecting');
    this.#backlog = [];
    try {
      const user_token = options.userToken ?? randomHex(16);
      this.#userToken = user_token;
      const { handshakeUrl, requestTimeout } = options;
      const handshake =
        handshakeUrl &&
        (await postJsonRpc(
          resolveFetch(options.fetch),
          handshakeUrl,
          'WSS_Handshake',
          { user_token },
          parseHandshakeResult,
          requestTimeout,
          signal,
        ));
      const Ctor = await resolveWebSocket(options.WebSocket);
      check();
      const [transport, conn] = this.#wire(Ctor, current);
      await transport.open(signal);
      check();
      const { server_token } =
        handshake || (await conn.request('WSS_Handshake', { user_token }, parseHandshakeResult, { signal }));
      this.#serverToken = server_token;
      const result = await conn.request(
        'WSS_Connect',
        { user_token, server_token, options: options.connectOptions },
        parseConnectResult,
        { signal },
      );
      // A disconnect() may land between the answer and this line.
      check();
      const { private_id: privateId, connect } = result;
      this.#privateId = privateId;
      // Empty: every connection's end cleared it, and pushes wait in the backlog until now.
      for (const [i, id] of connect.entries()) this.#peers.set(id, result.options[i] ?? {});
      this.#setState('connected');
      const backlog = this.#backlog;
      this.#backlog = null;
      for (const push of backlog ?? []) this.#onPush(push);
      await this.#verify(privateId, server_token, user_token);
      return { privateId, peers: [...connect] };
    } catch (error) {
      if (current()) this.#down();
      throw error;
    }
  }

  /**
   * A transport and a channel for one connection, wired to each other and to
   * this client; `current` tells whether that connection is still this client's.
   */
  #wire(Ctor: WebSocketConstructor, current: () => boolean): [WebSocketTransport, RpcChannel] {
    const { logger } = this.#options;
    let markClosed!: () => void;
    this.#closed = new Promise<void>((resolve) => (markClosed = resolve));
    const error = (error: ProtocolError): void => {
      if (!current()) return;
      logger.warn(`wss-sessions: ${error.message}`);
      this.#emit('error', error);
    };
    const transport = new WebSocketTransport(Ctor, this.#options, {
      message: (frame) => conn.receive(frame),
      error,
      close: (info) => {
        conn.close(info);
        markClosed();
        if (current()) this.#down(info);
      },
    });
    const conn = new RpcChannel(this.#options, {
      send: (frame) => transport.send(frame),
      push: (push) => current() && this.#onPush(push),
      error,
    });
    this.#transport = transport;
    this.#conn = conn;
    return [transport, conn];
  }

  /** Checks the private ID against SHA-256(server_token:user_token); a mismatch is allowed (servers may differ), and logged. */
  async #verify(privateId: string, serverToken: string, userToken: string): Promise<void> {
    this.#privateIdVerified = (await sha256Hex(`${serverToken}:${userToken}`)) === privateId;
    if (!this.#privateIdVerified) {
      this.#options.logger.warn(
        `wss-sessions: private ID ${privateId} is not SHA-256(server_token:user_token) (a server may use its own scheme)`,
      );
    }
  }

  /** Broadcasts to every peer but those in `exclude`. Resolves when the server accepted it. */
  async broadcast(data: unknown, options: BroadcastOptions = {}): Promise<void> {
    const { exclude } = options;
    const rcp = exclude === undefined ? exclude : checkRecipients('exclude', exclude, true);
    return this.#call(
      'broadcast',
      'WSS_Send',
      { type: 'broadcast', data, exclude: rcp && { rcp } },
      parseSendResult,
      options,
    );
  }

  /** Sends a direct message to one or more peers. Resolves when the server accepted it (not delivered). */
  async send(to: string | readonly string[], data: unknown, options: RequestOptions = {}): Promise<void> {
    const rcp = checkRecipients('to', to, false);
    return this.#call('send', 'WSS_Send', { type: 'direct', to: { rcp }, data }, parseSendResult, options);
  }

  /** Changes this session's private ID; peers see a `peerpid` event. */
  async setPrivateId(privateId: string, options: RequestOptions = {}): Promise<string> {
    checkNonEmpty('privateId', privateId);
    const id = await this.#call(
      'setPrivateId',
      'WSS_Session',
      { action: 'setPID', privateID: privateId },
      parseSessionResult,
      options,
    );
    this.#privateId = id;
    this.#emit('privateid', { privateId: id });
    return id;
  }

  /** Asks the server for this session's private ID. */
  getPrivateId(options: RequestOptions = {}): Promise<string> {
    return this.#call('getPrivateId', 'WSS_Session', { action: 'getPID' }, parseSessionResult, options);
  }

  /** Sends a raw JSON-RPC request over the socket, for server extensions. */
  request<T = unknown>(method: string, params?: unknown, options: RawRequestOptions<T> = {}): Promise<T> {
    checkNonEmpty('method', method);
    return this.#call(method, method, params, options.parse ?? ((result) => result as T), options);
  }

  /**
   * Closes the session. Pending requests reject with `ConnectionClosedError`;
   * every timer and listener of the connection is released. Safe to call in any state.
   */
  async disconnect(code = 1000, reason = 'Session terminated by client'): Promise<void> {
    // While connecting, connect() rejects with ConnectionClosedError or AbortError.
    if (this.#state === 'connecting') return this.#down();
    if (this.#state === 'connected') {
      this.#setState('disconnecting');
      this.#transport?.close(code, reason);
    }
    if (this.#state !== 'disconnected') await this.#closed;
  }

  /**
   * Ends the current connection: `info` when its socket closed, none when a
   * connect failed or was cancelled (its socket is then closed at once).
   */
  #down(info?: CloseInfo): void {
    const transport = this.#transport;
    const requested = this.#state === 'disconnecting';
    this.#generation++;
    this.#transport = this.#conn = this.#backlog = null;
    this.#peers.clear();
    if (!info) transport?.close(1000, 'connect failed', true);
    this.#setState('disconnected');
    if (info) this.#emit('close', { ...info, requested });
  }

  #onPush(push: Push): void {
    if (this.#backlog) return void this.#backlog.push(push);
    const peers = this.#peers;
    if (push.event === 'peerconnect') peers.set(push.payload.privateId, push.payload.options);
    if (push.event === 'peerdisconnect') peers.delete(push.payload.privateId);
    if (push.event === 'peerpid') {
      const { oldPrivateId, newPrivateId } = push.payload;
      const options = peers.get(oldPrivateId) ?? {};
      peers.delete(oldPrivateId);
      peers.set(newPrivateId, options);
    }
    this.#emit(push.event, push.payload);
  }

  /**
   * A WSS call with this session's tokens, or `NotConnectedError` naming `operation`;
   * `operation === method` marks a raw request, whose params go as given.
   */
  #call<T>(
    operation: string,
    method: string,
    params: unknown,
    parse: (result: unknown) => T,
    options: RequestOptions,
  ): Promise<T> {
    const conn = this.#conn;
    if (this.#state !== 'connected' || !conn) return Promise.reject(new NotConnectedError(operation, this.#state));
    return conn.request(
      method,
      operation === method
        ? params
        : { user_token: this.#userToken, server_token: this.#serverToken, ...(params as object) },
      parse,
      options,
    );
  }

  #setState(state: ClientState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#emit('state', { state, previous });
  }

  /** Listener exceptions must not unwind into the socket's event loop, where they would kill the process. */
  #emit<E extends keyof WSSClientEvents>(event: E, payload: Parameters<WSSClientEvents[E]>[0]): void {
    try {
      (this.emit as (event: string, payload: unknown) => boolean)(event, payload);
    } catch (error) {
      this.#options.logger.error(`wss-sessions: a '${event}' listener threw`, error);
    }
  }
}
