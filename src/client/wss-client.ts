import { EventEmitter } from 'eventemitter3';
import { ConnectionClosedError, InvalidStateError, NotConnectedError, ProtocolError, RpcError, toError } from '../errors.js';
import {
  parseConnectResult,
  parseHandshakeResult,
  parseMessage,
  parseSendResult,
  parseSessionResult,
  type Push,
} from '../protocol/validate.js';
import { WssMethods, type ConnectOptions, type HandshakeResult } from '../protocol/wss.js';
import { postJsonRpc, resolveFetch } from '../transport/http.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import type { CloseInfo } from '../transport/transport.js';
import { resolveWebSocket } from '../transport/websocket.js';
import { randomHex, sha256Hex } from '../util/random.js';
import { checkMethod, checkPrivateId, checkRecipients } from './args.js';
import { createConnection, type Connection } from './connection.js';
import type { ClientState, WSSClientEvents } from './events.js';
import { PeerRegistry } from './peers.js';
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
  readonly #peers = new PeerRegistry();
  #state: ClientState = 'disconnected';
  #generation = 0;
  #conn: Connection | null = null;
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
    return this.#peers.view;
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
  async connect(options: ConnectCallOptions = {}): Promise<ConnectInfo> {
    if (this.#state !== 'disconnected') throw new InvalidStateError(`connect() needs state 'disconnected', but it is '${this.#state}'`);
    const generation = ++this.#generation;
    this.#setState('connecting');
    this.#backlog = [];
    try {
      return await this.#establish(generation, options.signal);
    } catch (error) {
      if (generation === this.#generation) this.#abandon(generation);
      throw error;
    }
  }

  /** Broadcasts to every peer but those in `exclude`. Resolves when the server accepted it. */
  async broadcast(data: unknown, options: BroadcastOptions = {}): Promise<void> {
    const exclude = options.exclude === undefined ? undefined : checkRecipients('exclude', options.exclude, true);
    const params = { ...this.#tokens('broadcast'), type: 'broadcast', data, ...(exclude ? { exclude: { rcp: exclude } } : {}) };
    return this.#call(WssMethods.SEND, params, parseSendResult, options);
  }

  /** Sends a direct message to one or more peers. Resolves when the server accepted it (not delivered). */
  async send(to: string | readonly string[], data: unknown, options: RequestOptions = {}): Promise<void> {
    const rcp = checkRecipients('to', to, false);
    return this.#call(WssMethods.SEND, { ...this.#tokens('send'), type: 'direct', to: { rcp }, data }, parseSendResult, options);
  }

  /** Changes this session's private ID; peers see a `peerpid` event. */
  async setPrivateId(privateId: string, options: RequestOptions = {}): Promise<string> {
    checkPrivateId('privateId', privateId);
    const params = { ...this.#tokens('setPrivateId'), action: 'setPID', privateID: privateId };
    const { privateID } = await this.#call(WssMethods.SESSION, params, parseSessionResult, options);
    this.#privateId = privateID;
    this.#safeEmit('privateid', { privateId: privateID });
    return privateID;
  }

  /** Asks the server for this session's private ID. */
  async getPrivateId(options: RequestOptions = {}): Promise<string> {
    const { privateID } = await this.#call(WssMethods.SESSION, { ...this.#tokens('getPrivateId'), action: 'getPID' }, parseSessionResult, options);
    return privateID;
  }

  /** Sends a raw JSON-RPC request over the socket, for server extensions. */
  request<T = unknown>(method: string, params?: unknown, options: RawRequestOptions<T> = {}): Promise<T> {
    checkMethod(method);
    return this.#call(method, params, options.parse ?? ((result) => result as T), options);
  }

  /**
   * Closes the session. Pending requests reject with `ConnectionClosedError`;
   * every timer and listener of the connection is released. Safe to call in any state.
   */
  async disconnect(code = 1000, reason = 'Session terminated by client'): Promise<void> {
    if (this.#state === 'connecting') {
      // connect() rejects with ConnectionClosedError or AbortError.
      this.#abandon(this.#generation);
      return;
    }
    const conn = this.#conn;
    if (!conn) return;
    const closed = this.#closed;
    if (this.#state === 'connected') {
      this.#setState('disconnecting');
      conn.transport.close(code, reason);
    }
    await closed;
  }

  async #establish(generation: number, signal: AbortSignal | undefined): Promise<ConnectInfo> {
    const userToken = this.#options.userToken ?? randomHex(16);
    this.#userToken = userToken;
    const handshake = this.#options.handshakeUrl ? await this.#httpHandshake(userToken, signal) : undefined;
    const conn = await this.#open(generation, signal);
    const { server_token: serverToken } =
      handshake ?? (await conn.channel.request(WssMethods.HANDSHAKE, { user_token: userToken }, parseHandshakeResult, { signal }));
    this.#serverToken = serverToken;
    const result = await conn.channel.request(
      WssMethods.CONNECT,
      { user_token: userToken, server_token: serverToken, options: this.#options.connectOptions },
      parseConnectResult,
      { signal },
    );
    this.#privateId = result.private_id;
    this.#peers.reset(result.connect, result.options);
    this.#setState('connected');
    this.#flushBacklog();
    await this.#verifyPrivateId(result.private_id, serverToken, userToken);
    return { privateId: result.private_id, peers: [...result.connect] };
  }

  async #httpHandshake(userToken: string, signal: AbortSignal | undefined): Promise<HandshakeResult> {
    const url = this.#options.handshakeUrl as string;
    const request = { jsonrpc: '2.0', method: WssMethods.HANDSHAKE, params: { user_token: userToken }, id: '0' };
    const body = await postJsonRpc(resolveFetch(this.#options.fetch), url, request, { timeoutMs: this.#options.requestTimeout, signal });
    const { response } = parseMessage(body);
    if (!response) throw new ProtocolError(`HTTP POST ${url} answered with a push instead of a response`);
    const { error } = response;
    if (error) throw new RpcError(WssMethods.HANDSHAKE, error.code, error.message, error.data);
    return parseHandshakeResult(response.result);
  }

  async #open(generation: number, signal: AbortSignal | undefined): Promise<Connection> {
    const Ctor = await resolveWebSocket(this.#options.WebSocket);
    const current = (): boolean => generation === this.#generation;
    if (!current()) throw new ConnectionClosedError('connect', undefined, 'disconnect() was called while connecting');
    const { maxFrameSize, requestTimeout, logger } = this.#options;
    let markClosed!: () => void;
    const conn = createConnection(this.#options.url, Ctor, { maxFrameSize, requestTimeout, logger }, {
      push: (push) => current() && this.#onPush(push),
      protocolError: (error) => current() && this.#reportError(error),
      close: (info) => {
        markClosed();
        if (current()) this.#onClose(info);
      },
    });
    this.#closed = new Promise<void>((resolve) => (markClosed = resolve));
    this.#conn = conn;
    await conn.transport.open(signal);
    if (!current()) throw new ConnectionClosedError('connect', undefined, 'disconnect() was called while connecting');
    return conn;
  }

  async #verifyPrivateId(privateId: string, serverToken: string, userToken: string): Promise<void> {
    const expected = await sha256Hex(`${serverToken}:${userToken}`);
    this.#privateIdVerified = expected === privateId;
    if (!this.#privateIdVerified) {
      this.#options.logger.warn(`wss-sessions: the server assigned private ID ${privateId}, not SHA-256(server_token:user_token); the server may use its own scheme`);
    }
  }

  /** Drops a connection that failed or was cancelled while connecting. */
  #abandon(generation: number): void {
    const conn = this.#conn;
    this.#generation = generation + 1;
    this.#conn = null;
    this.#backlog = null;
    conn?.channel.close({ code: 1006, reason: 'connect failed' });
    conn?.transport.close(1000, 'connect failed');
    this.#peers.clear();
    this.#setState('disconnected');
  }

  #onClose(info: CloseInfo): void {
    const requested = this.#state === 'disconnecting';
    this.#conn = null;
    this.#backlog = null;
    this.#peers.clear();
    this.#generation++;
    this.#setState('disconnected');
    this.#safeEmit('close', { code: info.code, reason: info.reason, requested });
  }

  #onPush(push: Push): void {
    if (this.#backlog) this.#backlog.push(push);
    else this.#applyPush(push);
  }

  #flushBacklog(): void {
    const backlog = this.#backlog ?? [];
    this.#backlog = null;
    for (const push of backlog) this.#applyPush(push);
  }

  #applyPush(push: Push): void {
    if (push.event === 'peerconnect') this.#peers.add(push.payload.privateId, push.payload.options);
    else if (push.event === 'peerdisconnect') this.#peers.remove(push.payload.privateId);
    else if (push.event === 'peerpid') this.#peers.rename(push.payload.oldPrivateId, push.payload.newPrivateId);
    this.#emitPayload(push.event, push.payload);
  }

  #call<T>(method: string, params: unknown, parse: (result: unknown) => T, options: RequestOptions): Promise<T> {
    const conn = this.#conn;
    if (!conn || this.#state !== 'connected') return Promise.reject(new NotConnectedError(method, this.#state));
    return conn.channel.request(method, params, parse, options);
  }

  #tokens(operation: string): { user_token: string; server_token: string } {
    if (this.#state !== 'connected' || !this.#userToken || !this.#serverToken) throw new NotConnectedError(operation, this.#state);
    return { user_token: this.#userToken, server_token: this.#serverToken };
  }

  #setState(state: ClientState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#safeEmit('state', { state, previous });
  }

  #reportError(error: Error): void {
    this.#options.logger.warn(`wss-sessions: ${error.message}`);
    this.#safeEmit('error', error);
  }

  #safeEmit<E extends keyof WSSClientEvents>(event: E, ...args: Parameters<WSSClientEvents[E]>): void {
    this.#emitPayload(event, args[0]);
  }

  /** Listener exceptions must not unwind into the socket's event loop, where they would kill the process. */
  #emitPayload(event: keyof WSSClientEvents, payload: unknown): void {
    try {
      (this.emit as (event: string, payload: unknown) => boolean)(event, payload);
    } catch (error) {
      this.#options.logger.error(`wss-sessions: a '${event}' listener threw`, toError(error));
    }
  }
}
