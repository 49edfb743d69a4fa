/**
 * The Signal endpoint: WebSockets on '/stream', per-connection lifecycle
 * (idle and token-expiry timers, rooms, ordered frame handling), the limits
 * (frame rate, nesting depth, outbound bytes: the server's `requestRate`,
 * `requestBurst`, `maxDepth` and `maxBufferedBytes`, as on the WSS endpoint),
 * its traffic metrics and the {@link SignalServer} API for applications.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { listenToSocket } from '../socket-events.js';
import { InvalidArgumentError } from '../../errors.js';
import { isRecord } from '../../protocol/guards.js';
import { encodeFrame, MAX_ROOM_NAME_LENGTH, isEventName } from '../../signal/frames.js';
import { RESERVED_INNER_EVENTS } from '../../signal/types.js';
import type { Logger } from '../../util/logger.js';
import type { ServerMetrics } from '../ops/metrics.js';
import type { ResolvedServerOptions } from '../options.js';
import type { RouteTable, ServerComponent, UpgradeRoute } from '../routes.js';
import type { RequestClient } from '../transport/client.js';
import type { FlushScheduler, Overflow } from '../transport/outbox.js';
import { RATE_LIMIT_CLOSE_AFTER } from '../transport/rate.js';
import { rawSize, rawText } from '../transport/socket.js';
import type { TrafficStats } from '../transport/stats.js';
import type { PublishOptions, SignalClientInfo, SignalHandler, SignalServer } from './api.js';
import { SIGNAL_CLOSE, SIGNAL_ERRORS } from './codes.js';
import { SignalConnection, type SignalConnectionContext } from './connection.js';
import { acceptFrame, type SignalState } from './dispatch.js';
import { resolveSignalOptions, type ResolvedSignalOptions, type SignalServerOptions } from './options.js';
import type { RoomRelay } from './relay.js';
import { RoomRegistry } from './rooms.js';

/** The Signal path on the shared port. */
export const SIGNAL_PATH = '/stream';

/** Event names the endpoint routes itself; handlers cannot take them. */
const BUILT_IN_EVENTS: ReadonlySet<string> = new Set([...RESERVED_INNER_EVENTS, 'echo', 'publish']);

/** The server options the Signal endpoint shares with the WSS endpoint (they mean the same on both). */
export type SharedServerOptions = Pick<
  ResolvedServerOptions,
  'logger' | 'maxBufferedBytes' | 'maxDepth' | 'requestRate' | 'requestBurst'
>;

/** What the endpoint needs from the server around it. */
export interface SignalEndpointContext {
  readonly server: SharedServerOptions;
  readonly metrics: ServerMetrics;
  /** The server's write scheduler, shared with the WSS endpoint: one flush per turn for every socket. */
  readonly scheduler: FlushScheduler;
}

function infoOf(conn: SignalConnection): SignalClientInfo {
  return { id: conn.session?.id ?? '', userId: conn.session?.userId ?? '', rooms: [...conn.rooms] };
}

/** `{"event","data"}` as another node published it, encoded again from those two members (`encodeFrame`), or `null`. */
function roomEventFrame(text: string): string | null {
  try {
    const value: unknown = JSON.parse(text);
    if (isRecord(value) && isEventName(value.event) && !BUILT_IN_EVENTS.has(value.event))
      return encodeFrame(value.event, value.data);
  } catch {
    // Not JSON: refused below.
  }
  return null;
}

function checkEvent(event: unknown, what: string): asserts event is string {
  if (!isEventName(event) || BUILT_IN_EVENTS.has(event)) {
    throw new InvalidArgumentError(
      `${what}: event must be a 1-256 character application event name, not a control or built-in name; got ${JSON.stringify(event)}`,
    );
  }
}

/** The Signal protocol as a server component. */
export class SignalEndpoint implements ServerComponent, UpgradeRoute, SignalServer {
  readonly #state: SignalState;
  readonly #options: ResolvedSignalOptions;
  readonly #logger: Logger;
  readonly #stats: TrafficStats;
  readonly #connectionContext: SignalConnectionContext;
  readonly #rooms: RoomRegistry<SignalConnection>;
  /** Room events to and from other nodes (a cluster); `null` on a single server. */
  readonly #relay: RoomRelay | null;
  readonly #handlers = new Map<string, SignalHandler>();
  readonly #sockets = new Set<SignalConnection>();
  /** Authenticated connections by id, in connection order. */
  readonly #clients = new Map<string, SignalConnection>();
  readonly #onConnected = new Set<(client: SignalClientInfo) => void>();
  readonly #onDisconnected = new Set<(client: SignalClientInfo) => void>();

  private constructor(options: ResolvedSignalOptions, context: SignalEndpointContext, relay: RoomRelay | null) {
    const { server, metrics, scheduler } = context;
    const logger = server.logger;
    this.#options = options;
    this.#logger = logger;
    this.#relay = relay;
    this.#rooms = new RoomRegistry((room, members) => relay?.counted(room, members));
    this.#stats = metrics.endpoint('signal');
    metrics.countSessions('signal', () => this.#clients.size);
    this.#state = {
      options,
      maxDepth: server.maxDepth,
      logger,
      rooms: this.#rooms,
      handlers: this.#handlers,
      authenticated: (conn) => this.#authenticated(conn),
      publish: (room, event, data, except) => this.#publish(room, event, data, except),
    };
    const { idleTimeout } = options;
    this.#connectionContext = {
      scheduler,
      stats: this.#stats,
      maxBufferedBytes: server.maxBufferedBytes,
      requestRate: server.requestRate,
      requestBurst: server.requestBurst,
      replayWindow: options.replayWindow,
      idleTimeout,
      idle: (conn) =>
        conn.refuse(SIGNAL_ERRORS.idleTimeout, `silent for more than ${idleTimeout} ms`, SIGNAL_CLOSE.idle),
      bug: (conn, err) => this.#logger.error(`signal: frame from ${conn.label} failed inside the server`, err),
      overflowed: (conn, overflow) => this.#overflowed(conn, overflow),
    };
  }

  /**
   * Validates the options and imports the signing key.
   * @param relay where room events go beyond this server's members (a cluster node's); none on a single server.
   * @throws InvalidArgumentError / KeyFormatError for a bad option.
   */
  static async create(
    options: SignalServerOptions,
    context: SignalEndpointContext,
    relay?: RoomRelay,
  ): Promise<SignalEndpoint> {
    return new SignalEndpoint(await resolveSignalOptions(options), context, relay ?? null);
  }

  /** This server's rooms and their member counts (for a cluster node's registration). */
  roomCounts(): IterableIterator<[room: string, members: number]> {
    return this.#rooms.counts();
  }

  /**
   * A room event from another node: `event` is the JSON `{"event","data"}`
   * it published; each member here but client `except` gets it encrypted.
   */
  deliverRoom(room: string, except: string | null, event: string): void {
    const text = roomEventFrame(event);
    if (text === null) {
      this.#logger.warn(`signal: dropped a room event for '${room.slice(0, 80)}' from another node: not {event, data}`);
      return;
    }
    // Serialised once; sealed per member (each has its own key), as #publish does.
    for (const member of this.#rooms.members(room)) {
      if (member.session?.id === except) continue;
      const sent = member.sendEncryptedNow(text);
      if (sent instanceof Promise) sent.catch((err: unknown) => this.#logger.error('signal: room event failed', err));
    }
  }

  mount(routes: RouteTable): void {
    routes.addUpgrade(SIGNAL_PATH, this);
  }

  onConnection(ws: WebSocket, _req: IncomingMessage, socket: Duplex, { label }: RequestClient): void {
    // The label names the client behind a trusted proxy, as the WSS endpoint's lines do.
    const conn = new SignalConnection(ws, socket, this.#connectionContext, label);
    this.#sockets.add(conn);
    listenToSocket(ws, {
      message: (data, isBinary) => this.#onFrame(conn, data, isBinary),
      error: (err) => this.#logger.warn(`signal: socket ${label} error: ${err.message}`),
      close: (code) => this.#onClose(conn, code),
    });
    this.#logger.debug(`signal: socket opened from ${label}`);
  }

  /** Closes every socket with `code` after what is queued for it (the server's drain). */
  closeAll(code: number, reason: string): void {
    for (const conn of this.#sockets) conn.close(code, reason);
  }

  /** Sessions (authenticated clients) open now. */
  sessionCount(): number {
    return this.#clients.size;
  }

  close(): void {
    for (const conn of this.#sockets) conn.release();
    this.#sockets.clear();
    this.#clients.clear();
    this.#rooms.clear();
    this.#onConnected.clear();
    this.#onDisconnected.clear();
  }

  // ------------------------------------------------------------------ API

  on(event: string, handler: SignalHandler): void {
    checkEvent(event, 'signal.on(event)');
    if (typeof handler !== 'function')
      throw new InvalidArgumentError('signal.on(event, handler): handler must be a function');
    if (this.#handlers.has(event))
      throw new InvalidArgumentError(`signal.on('${event}'): a handler is already registered; call off() first`);
    this.#handlers.set(event, handler);
  }

  off(event: string, handler?: SignalHandler): void {
    if (handler === undefined || this.#handlers.get(event) === handler) this.#handlers.delete(event);
  }

  publish(room: string, event: string, data?: unknown, options: PublishOptions = {}): Promise<number> {
    if (typeof room !== 'string' || room === '' || room.length > MAX_ROOM_NAME_LENGTH) {
      return Promise.reject(
        new InvalidArgumentError(`signal.publish(room): room must be a 1-${MAX_ROOM_NAME_LENGTH} character string`),
      );
    }
    try {
      checkEvent(event, 'signal.publish(room, event)');
      this.#checkData(data, 'signal.publish');
    } catch (err) {
      return Promise.reject(err);
    }
    const except = options.except === undefined ? undefined : this.#clients.get(options.except);
    return this.#publish(room, event, data, except);
  }

  async sendTo(clientId: string, event: string, data?: unknown): Promise<boolean> {
    checkEvent(event, 'signal.sendTo(clientId, event)');
    this.#checkData(data, 'signal.sendTo');
    const conn = this.#clients.get(clientId);
    return conn ? conn.sendEncrypted(event, data) : false;
  }

  get clients(): readonly SignalClientInfo[] {
    return Array.from(this.#clients.values(), infoOf);
  }

  onClientConnected(listener: (client: SignalClientInfo) => void): () => void {
    this.#onConnected.add(listener);
    return () => this.#onConnected.delete(listener);
  }

  onClientDisconnected(listener: (client: SignalClientInfo) => void): () => void {
    this.#onDisconnected.add(listener);
    return () => this.#onDisconnected.delete(listener);
  }

  dropConnections(): void {
    for (const conn of this.#sockets) conn.ws.terminate();
  }

  // ------------------------------------------------------------------ internals

  #onFrame(conn: SignalConnection, data: RawData, isBinary: boolean): void {
    this.#stats.framesIn++;
    this.#stats.bytesIn += rawSize(data);
    // Closing: what the client sent meanwhile is not handled.
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) return;
    conn.touch();
    if (!conn.bucket.take()) {
      this.#rateLimited(conn);
      return;
    }
    if (isBinary) {
      conn.sendError(SIGNAL_ERRORS.badFrame, 'binary frames are not part of the protocol; send JSON text');
      return;
    }
    if (conn.inbox.length >= this.#options.maxPendingFrames) {
      conn.refuse(
        SIGNAL_ERRORS.overloaded,
        `more than ${this.#options.maxPendingFrames} frames waiting; slow down`,
        SIGNAL_CLOSE.policy,
      );
      return;
    }
    acceptFrame(this.#state, conn, rawText(data));
  }

  #rateLimited(conn: SignalConnection): void {
    this.#stats.rateLimited++;
    const { requestRate, requestBurst } = this.#connectionContext;
    const limit = `over this connection's rate limit (requestRate ${requestRate} frames/s, requestBurst ${requestBurst})`;
    if (conn.bucket.refusedInARow < RATE_LIMIT_CLOSE_AFTER) {
      this.#logger.debug(`signal: frame from ${conn.label} refused by the rate limit`);
      conn.sendError(SIGNAL_ERRORS.rateLimited, `frame dropped: ${limit}; slow down and retry`);
      return;
    }
    this.#logger.warn(`signal: ${conn.label} kept sending over the rate limit; closing`);
    conn.refuse(
      SIGNAL_ERRORS.rateLimited,
      `${RATE_LIMIT_CLOSE_AFTER} frames in a row ${limit}; closing`,
      SIGNAL_CLOSE.policy,
    );
  }

  /** The client is not reading: its session ends at once (its rooms, its place in `clients`), then the socket closes. */
  #overflowed(conn: SignalConnection, overflow: Overflow): void {
    this.#stats.backpressureCloses++;
    this.#logger.warn(
      `signal: ${conn.label} is not reading: ${overflow.buffered} bytes would wait, over maxBufferedBytes ${overflow.limit}; closing (1013)`,
    );
    this.#endSession(conn);
    conn.close(SIGNAL_CLOSE.backpressure, 'outbound buffer full (maxBufferedBytes)');
  }

  #authenticated(conn: SignalConnection): void {
    const session = conn.session;
    if (!session) return;
    this.#clients.set(session.id, conn);
    this.#logger.debug(`signal: ${conn.label} authenticated as ${session.userId} (${session.id})`);
    this.#notify(this.#onConnected, infoOf(conn));
  }

  #onClose(conn: SignalConnection, code: number): void {
    this.#sockets.delete(conn);
    this.#endSession(conn);
    this.#logger.debug(`signal: socket ${conn.label} closed (${code})`);
  }

  /** Takes `conn` out of the clients and its rooms and releases it; tells the listeners once. */
  #endSession(conn: SignalConnection): void {
    const info = conn.session ? infoOf(conn) : null;
    if (info) this.#clients.delete(info.id);
    this.#rooms.leaveAll(conn);
    conn.release();
    if (info) this.#notify(this.#onDisconnected, info);
  }

  /** Sends to this server's members, then to the other nodes' (a cluster); resolves with how many it went to. */
  async #publish(room: string, event: string, data: unknown, except?: SignalConnection): Promise<number> {
    const targets = this.#rooms.members(room).filter((member) => member !== except);
    // Serialised once; sealed per member (each has its own key), and published once to the other nodes.
    const text = encodeFrame(event, data);
    const local = Promise.all(targets.map((member) => member.sendEncryptedNow(text)));
    const elsewhere = this.#relay
      ? this.#relay.publish(room, text, except?.session?.id ?? null, this.#rooms.count(room))
      : 0;
    const [sent, others] = await Promise.all([local, elsewhere]);
    return sent.filter(Boolean).length + others;
  }

  #checkData(data: unknown, what: string): void {
    try {
      JSON.stringify(data);
    } catch (cause) {
      throw new InvalidArgumentError(`${what}: data cannot be encoded as JSON`, { cause });
    }
  }

  #notify(listeners: Set<(client: SignalClientInfo) => void>, info: SignalClientInfo): void {
    for (const listener of [...listeners]) {
      try {
        listener(info);
      } catch (err) {
        this.#logger.error('signal: a client listener threw', err);
      }
    }
  }
}
