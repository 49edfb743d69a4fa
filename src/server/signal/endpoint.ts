/**
 * The Signal endpoint: WebSockets on '/stream', per-connection lifecycle
 * (idle and token-expiry timers, rooms, ordered frame handling) and the
 * {@link SignalServer} API for applications.
 */
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { listenToSocket } from '../socket-events.js';
import { InvalidArgumentError } from '../../errors.js';
import { MAX_ROOM_NAME_LENGTH, isEventName } from '../../signal/frames.js';
import { RESERVED_INNER_EVENTS } from '../../signal/types.js';
import type { Logger } from '../../util/logger.js';
import type { RouteTable, ServerComponent, UpgradeRoute } from '../routes.js';
import type { PublishOptions, SignalClientInfo, SignalHandler, SignalServer } from './api.js';
import { SIGNAL_CLOSE, SIGNAL_ERRORS } from './codes.js';
import { SignalConnection } from './connection.js';
import { acceptFrame, type SignalState } from './dispatch.js';
import { resolveSignalOptions, type ResolvedSignalOptions, type SignalServerOptions } from './options.js';
import { RoomRegistry } from './rooms.js';

/** The Signal path on the shared port. */
export const SIGNAL_PATH = '/stream';

/** Event names the endpoint routes itself; handlers cannot take them. */
const BUILT_IN_EVENTS: ReadonlySet<string> = new Set([...RESERVED_INNER_EVENTS, 'echo', 'publish']);

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function infoOf(conn: SignalConnection): SignalClientInfo {
  return { id: conn.session?.id ?? '', userId: conn.session?.userId ?? '', rooms: [...conn.rooms] };
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
  readonly #rooms = new RoomRegistry<SignalConnection>();
  readonly #handlers = new Map<string, SignalHandler>();
  readonly #sockets = new Set<SignalConnection>();
  /** Authenticated connections by id, in connection order. */
  readonly #clients = new Map<string, SignalConnection>();
  readonly #onConnected = new Set<(client: SignalClientInfo) => void>();
  readonly #onDisconnected = new Set<(client: SignalClientInfo) => void>();

  private constructor(options: ResolvedSignalOptions, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#state = {
      options,
      logger,
      rooms: this.#rooms,
      handlers: this.#handlers,
      authenticated: (conn) => this.#authenticated(conn),
      publish: (room, event, data, except) => this.#publish(room, event, data, except),
    };
  }

  /**
   * Validates the options and imports the signing key.
   * @throws InvalidArgumentError / KeyFormatError for a bad option.
   */
  static async create(options: SignalServerOptions, logger: Logger): Promise<SignalEndpoint> {
    return new SignalEndpoint(await resolveSignalOptions(options), logger);
  }

  mount(routes: RouteTable): void {
    routes.addUpgrade(SIGNAL_PATH, this);
  }

  onConnection(ws: WebSocket, req: IncomingMessage): void {
    const label = `${req.socket.remoteAddress ?? 'unknown'}:${req.socket.remotePort ?? '?'}`;
    const { replayWindow, idleTimeout } = this.#options;
    const conn = new SignalConnection(
      ws,
      label,
      replayWindow,
      idleTimeout,
      () => conn.refuse(SIGNAL_ERRORS.idleTimeout, `silent for more than ${idleTimeout} ms`, SIGNAL_CLOSE.idle),
      (err) => this.#logger.error(`signal: frame from ${label} failed inside the server`, err),
    );
    this.#sockets.add(conn);
    listenToSocket(ws, {
      message: (data, isBinary) => this.#onFrame(conn, data, isBinary),
      error: (err) => this.#logger.warn(`signal: socket ${label} error: ${err.message}`),
      close: (code) => this.#onClose(conn, code),
    });
    this.#logger.debug(`signal: socket opened from ${label}`);
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
    conn.touch();
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
    if (!conn.closed) acceptFrame(this.#state, conn, rawToText(data));
  }

  #authenticated(conn: SignalConnection): void {
    const session = conn.session;
    if (!session) return;
    this.#clients.set(session.id, conn);
    this.#logger.debug(`signal: ${conn.label} authenticated as ${session.userId} (${session.id})`);
    this.#notify(this.#onConnected, infoOf(conn));
  }

  #onClose(conn: SignalConnection, code: number): void {
    const info = conn.session ? infoOf(conn) : null;
    this.#sockets.delete(conn);
    if (info) this.#clients.delete(info.id);
    this.#rooms.leaveAll(conn);
    conn.release();
    this.#logger.debug(`signal: socket ${conn.label} closed (${code})`);
    if (info) this.#notify(this.#onDisconnected, info);
  }

  async #publish(room: string, event: string, data: unknown, except?: SignalConnection): Promise<number> {
    const targets = this.#rooms.members(room).filter((member) => member !== except);
    const sent = await Promise.all(targets.map((member) => member.sendEncrypted(event, data)));
    return sent.filter(Boolean).length;
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
