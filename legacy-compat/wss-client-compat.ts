/**
 * A drop-in replacement for the 0.4.1 `WSSClient` class, built on the typed
 * `WSSClient`: it translates calls, results and events and holds no protocol
 * logic of its own.
 */
import { WSSClient as TypedClient } from '../src/client/wss-client.js';
import type { WSSClientEvents } from '../src/client/events.js';
import { ConnectionClosedError, InvalidArgumentError, NotConnectedError, RpcError } from '../src/errors.js';
import { isRecord } from '../src/protocol/guards.js';
import type { ConnectOptions } from '../src/protocol/wss.js';
import type { FetchFunction } from '../src/transport/http.js';
import { resolveWebSocket, type WebSocketConstructor } from '../src/transport/websocket.js';
import type { Logger } from '../src/util/logger.js';
import { sha256Hex } from '../src/util/random.js';
import { addressArgument, resolveAddresses } from './addresses.js';
import { EventDispatcher } from './event-dispatcher.js';
import {
  legacyEvent,
  responseEvent,
  type LegacyEventMap,
  type LegacyResponse,
  type LegacyResultEvent,
} from './events.js';
import { capturingConstructor, socketClosed, type CapturedSocket } from './socket-capture.js';

/** What the page cannot pass to the old one-argument constructor: all optional. */
export interface LegacyClientEnvironment {
  /** WebSocket constructor. Default: `globalThis.WebSocket`, else the `ws` package in Node. */
  WebSocket?: WebSocketConstructor;
  /** `fetch` for the HTTP handshake. Default: `globalThis.fetch`. */
  fetch?: FetchFunction;
  /** Where warnings and throwing listeners are reported. Default: `console`. */
  logger?: Logger;
  /** Per-request timeout in ms (0.4.1 waited forever). Default: 10000. */
  requestTimeout?: number;
}

/** `connectData` of `connect()`. */
export interface LegacyConnectData {
  /** Connect options relayed to peers; `wss`/`webrtc`/`ortc` default to `true`/`false`/`false`. */
  options?: ConnectOptions | null;
  /** `false`: dispatch no push or `close` events (for subclasses that listen on `webSocket` themselves). Default: `true`. */
  listeners?: boolean | null;
  [key: string]: unknown;
}

/** A recipient list as 0.4.1 took it: an array of private IDs or `{rcp: [...]}`. */
export type LegacyRecipients = readonly string[] | { rcp: readonly string[] };

/** A raw JSON-RPC request for `request()`. */
export interface LegacyRequest {
  jsonrpc?: '2.0';
  method: string;
  params?: unknown;
  id?: string | number | null;
}

/** `{rcp}` or an array, as a list. */
function recipientList(name: string, value: unknown): readonly string[] {
  const [list, path] = isRecord(value) ? [value.rcp, `${name}.rcp`] : [value, name];
  // 0.4.1's message for `send()`, word for word.
  if (!Array.isArray(list)) throw new InvalidArgumentError(`"${path}" parameter must be an array!`);
  return list;
}

const ok = () => ({ message: 'ok' });

/**
 * The 0.4.1 `WSSClient`, same constructor, methods, getters and events.
 *
 * @example
 * const client = new WSSClient('ws://127.0.0.1:8090');
 * client.addEventListener('message', function (event) { this.show(event.data.result.data); }, view);
 * await client.connect();
 * await client.broadcast('hello');
 */
export class WSSClient extends EventDispatcher<LegacyEventMap> {
  /** Environment for every instance (merged under the constructor's second argument). */
  static defaults: LegacyClientEnvironment = {};

  readonly #environment: LegacyClientEnvironment;
  #hsa: string | null;
  #ssa: string | null = null;
  #inner: TypedClient | null = null;
  #socket: CapturedSocket | null = null;
  #responseSeq = 0;

  /**
   * @param handshakeServerAddress where to handshake; without it, `connect()`'s socket address is used for both.
   * @param environment optional WebSocket, fetch, logger and timeout, for Node or tests.
   * @throws {InvalidArgumentError} when `handshakeServerAddress` is neither a string nor `null`/`undefined`.
   */
  constructor(handshakeServerAddress?: string | null, environment: LegacyClientEnvironment = {}) {
    super((type, error) => this.#logger().error(`WSSClient: a '${type}' listener threw`, error));
    this.#hsa = addressArgument('handshakeServerAddress', handshakeServerAddress);
    this.#environment = environment;
  }

  /** The handshake server address, or `null`. */
  get handshakeServerAddr(): string | null {
    return this.#hsa;
  }

  /** The socket server address given to `connect()`, or `null`. */
  get socketServerAddr(): string | null {
    return this.#ssa;
  }

  /** The WebSocket of the session, `null` before `connect()` and after `disconnect()`. Listen with `addEventListener`; its `on*` handlers belong to the client. */
  get webSocket(): CapturedSocket | null {
    return this.#socket;
  }

  /** This session's private ID, `null` before the first connect. */
  get privateID(): string | null {
    return this.#inner?.privateId ?? null;
  }

  /** The user token of the last handshake (128 random bits as hex). */
  get userToken(): string | null {
    return this.#inner?.userToken ?? null;
  }

  /** The server token of the last handshake. */
  get serverToken(): string | null {
    return this.#inner?.serverToken ?? null;
  }

  /** Private IDs of the connected peers, in connection order (a fresh array each time). */
  get peers(): string[] {
    return [...(this.#inner?.peers.keys() ?? [])];
  }

  /** Each connected peer's connect options, by private ID (a fresh object each time). */
  get peerOptions(): Record<string, ConnectOptions> {
    return Object.fromEntries(this.#inner?.peers ?? []);
  }

  /** Lowercase hex SHA-256 of `input`'s UTF-8 bytes. */
  SHA256(input: string): Promise<string> {
    return sha256Hex(String(input));
  }

  /**
   * Handshakes and connects; resolves with the `WSS_Connect` response as a `message` event
   * (`JSON.parse(result.data).result.private_id`).
   * @throws {InvalidArgumentError} when there is no address or it is not a string; other `WssError`s when the server refuses or the socket fails.
   */
  async connect(
    socketServerAddress: string | null = null,
    useHTTPHandshake = false,
    connectData: LegacyConnectData | null = null,
  ): Promise<LegacyResultEvent> {
    const ssa = addressArgument('socketServerAddress', socketServerAddress);
    if (ssa !== null) {
      this.#ssa = ssa;
      this.#hsa ??= ssa;
    }
    const addresses = resolveAddresses(this.#hsa, this.#ssa, useHTTPHandshake);
    const env = { ...WSSClient.defaults, ...this.#environment };
    const Ctor = await resolveWebSocket(env.WebSocket);
    // Swapped in synchronously, so that concurrent calls never leave a session nobody owns.
    const previous = this.#release();
    const inner: TypedClient = new TypedClient({
      ...addresses,
      connectOptions: connectData?.options ?? undefined,
      requestTimeout: env.requestTimeout,
      fetch: env.fetch,
      logger: this.#logger(),
      WebSocket: capturingConstructor(Ctor, (socket) => {
        if (this.#inner === inner) this.#socket = socket;
      }),
    });
    this.#inner = inner;
    this.#bind(inner, connectData?.listeners !== false);
    await previous;
    if (this.#inner !== inner)
      throw new ConnectionClosedError('connect', undefined, 'replaced by a later connect() or destroy()');
    const { privateId, peers } = await inner.connect();
    const options = peers.map((pid) => inner.peers.get(pid) ?? {});
    return this.#respond({ message: 'open', private_id: privateId, connect: peers, options });
  }

  /** Changes this session's private ID; resolves `true` and dispatches `privateid`. Rejects with the server's `RpcError` if refused. */
  async changePrivateID(newPrivateID: string): Promise<true> {
    await this.#client('changePrivateID').setPrivateId(newPrivateID);
    return true;
  }

  /**
   * Broadcasts `data` to every peer but `excludeRecipients` (an array or `{rcp}`).
   * Resolves with the response as a `message` event; a server error response resolves too, as before.
   */
  async broadcast(data: unknown, excludeRecipients: LegacyRecipients | null = null): Promise<LegacyResultEvent> {
    const exclude = excludeRecipients == null ? undefined : recipientList('excludeRecipients', excludeRecipients);
    return this.#respond(this.#client('broadcast').broadcast(data, { exclude }).then(ok));
  }

  /**
   * Sends `data` to `recipients` (an array or `{rcp}`).
   * Resolves with the response as a `message` event; a server error response resolves too, as before.
   * @throws {InvalidArgumentError} `"recipients" parameter must be an array!` for a non-object.
   */
  async send(data: unknown, recipients: LegacyRecipients): Promise<LegacyResultEvent> {
    const to = recipientList('recipients', recipients);
    return this.#respond(this.#client('send').send(to, data).then(ok));
  }

  /**
   * Sends a raw JSON-RPC request over the session's socket and resolves with its response as a
   * `message` event. The response is matched by the request, so `responseMsgID` only names the
   * `id` the result carries when `requestObj` has none.
   * @throws {InvalidArgumentError} when `requestObj` has no non-empty string `method`.
   */
  async request(requestObj: LegacyRequest, responseMsgID: string | number | null = null): Promise<LegacyResultEvent> {
    // The typed client checks `method`.
    return this.#respond(
      this.#client('request').request(requestObj?.method, requestObj?.params),
      requestObj?.id ?? responseMsgID,
    );
  }

  /**
   * Closes the session (no `close` event, as before). Resolves `true`; never rejects.
   * @param code close code, default 1000.
   * @param reason close reason, default `"Session terminated by client"`.
   */
  async disconnect(code?: number, reason?: string): Promise<true> {
    // The typed client has the same defaults.
    await this.#inner
      ?.disconnect(code, reason)
      .catch((error: unknown) => this.#logger().warn('WSSClient: disconnect failed', error));
    this.#socket = null;
    return true;
  }

  /**
   * Full teardown: closes the session (or abandons a connect in progress), waits for the socket to
   * close and removes every listener. Resolves `true`; the instance can connect again.
   */
  async destroy(): Promise<true> {
    await this.#release();
    this.removeAllEventListeners();
    return true;
  }

  /** `"WSSClient"`, as before. */
  override toString(): string {
    return 'WSSClient';
  }

  /** Detaches the current session at once (before the first `await`) and resolves when its socket has closed. */
  async #release(): Promise<void> {
    const inner = this.#inner;
    const socket = this.#socket;
    this.#inner = this.#socket = null;
    if (inner) {
      inner.removeAllListeners();
      await inner.disconnect();
      await socketClosed(socket);
    }
  }

  #client(operation: string): TypedClient {
    if (!this.#inner) throw new NotConnectedError(operation, 'disconnected');
    return this.#inner;
  }

  #logger(): Logger {
    return this.#environment.logger ?? WSSClient.defaults.logger ?? console;
  }

  /**
   * `result` (or what it resolves with) as a response event. Server error responses resolve, as
   * 0.4.1's did; everything else (timeout, closed socket) rejects.
   */
  async #respond(result: unknown, id: string | number | null = null): Promise<LegacyResultEvent> {
    // Numbered when the call starts, not when it ends.
    const response = { jsonrpc: '2.0', id: id ?? String(++this.#responseSeq) } as LegacyResponse & {
      result?: unknown;
      error?: unknown;
    };
    try {
      response.result = await result;
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      // JSON text leaves out `data` when it is undefined.
      response.error = { code: error.rpcCode, message: error.serverMessage, data: error.data };
    }
    return responseEvent(response, this.#socket);
  }

  /** Re-dispatches the typed client's events in the 0.4.1 shapes. */
  #bind(inner: TypedClient, pushEvents: boolean): void {
    /** `type` as a plain `Event` carrying what `members` gives; nothing is dispatched when it gives `false`. */
    const relay = <K extends keyof WSSClientEvents>(
      type: K,
      members: (payload: Parameters<WSSClientEvents[K]>[0]) => object | false,
    ) =>
      inner.on(type, ((payload: Parameters<WSSClientEvents[K]>[0]) => {
        const props = members(payload);
        if (props) this.dispatchEvent(legacyEvent(type, props));
      }) as never);
    relay('privateid', ({ privateId }) => ({ privateID: privateId }));
    relay('error', (error) => ({ error }));
    relay('close', ({ code, reason, requested }) => {
      this.#socket = null;
      return pushEvents && !requested && { code, reason };
    });
    if (!pushEvents) return;
    for (const type of ['message', 'update', 'peerconnect', 'peerdisconnect'] as const)
      relay(type, ({ raw }) => ({ data: raw }));
    relay('peerpid', ({ raw, oldPrivateId, newPrivateId }) => ({
      data: raw,
      oldPrivateID: oldPrivateId,
      newPrivateID: newPrivateId,
    }));
  }
}
