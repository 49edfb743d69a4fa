/**
 * The WSS protocol endpoint: WebSockets and the HTTP POST handshake on '/'.
 * Frames in (hooks, rate limit, one request at a time per socket), answers
 * and pushes out through each socket's {@link Outbox} (one write per turn,
 * bounded by `maxBufferedBytes`). What the calls mean is the session logic's
 * (the method handlers); where sessions live is the {@link Broker}'s.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { snippet } from '../../protocol/guards.js';
import type { Logger } from '../../util/logger.js';
import type { ServerMetrics } from '../ops/metrics.js';
import type { ResolvedServerOptions } from '../options.js';
import type { RouteTable, ServerComponent, UpgradeRoute } from '../routes.js';
import type { RequestClient } from '../transport/client.js';
import { DeadlineQueue } from '../transport/deadlines.js';
import { Frame } from '../transport/frame.js';
import type { FlushScheduler, Overflow } from '../transport/outbox.js';
import { RATE_LIMIT_CLOSE_AFTER } from '../transport/rate.js';
import { closeAfterQueued, rawBytes, rawSize } from '../transport/socket.js';
import type { TrafficStats } from '../transport/stats.js';
import type { Broker } from './broker.js';
import { type ConnectionContext, WssConnection } from './connection.js';
import { applyIncoming, applyOutgoing } from './hooks.js';
import { answerPost } from './http-handshake.js';
import { WSS_ERRORS } from './messages.js';
import { disconnectPush } from './push.js';
import { frameStart, parseFrame, requestIdOf } from './request-parse.js';
import { type Answer, WssRpc } from './rpc.js';
import type { WssState } from './state.js';

/** The WSS path on the shared port. */
export const WSS_PATH = '/';

/** Frames one socket may have waiting for their turn before reading from it pauses. */
const MAX_INBOX = 64;

const frameOf = (answer: Exclude<Answer, null>): Frame =>
  typeof answer === 'string' ? Frame.text(answer) : Frame.parts(answer.parts);

/** What the endpoint needs from the server around it. */
export interface WssEndpointContext {
  readonly options: ResolvedServerOptions;
  readonly broker: Broker;
  readonly metrics: ServerMetrics;
  readonly scheduler: FlushScheduler;
}

/** The WSS protocol as a server component. */
export class WssEndpoint implements ServerComponent, UpgradeRoute {
  readonly #options: ResolvedServerOptions;
  readonly #logger: Logger;
  readonly #state: WssState;
  readonly #rpc: WssRpc;
  readonly #stats: TrafficStats;
  readonly #scheduler: FlushScheduler;
  readonly #connections = new Set<WssConnection>();
  /** Sockets without a session yet, closed when `connectTimeout` passes. */
  readonly #noSession: DeadlineQueue<WssConnection>;
  readonly #connectionContext: ConnectionContext;

  constructor(context: WssEndpointContext) {
    const { options, broker, metrics, scheduler } = context;
    this.#options = options;
    this.#logger = options.logger;
    this.#scheduler = scheduler;
    this.#stats = metrics.endpoint('wss');
    this.#state = { broker, local: new Map(), options, logger: this.#logger, metrics, draining: false };
    this.#rpc = new WssRpc(this.#state);
    this.#noSession = new DeadlineQueue(options.connectTimeout, (conn) => {
      this.#logger.info(`wss: ${conn.label} made no WSS_Connect within ${options.connectTimeout} ms; closing`);
      this.#close(conn, 1008, 'no session (connectTimeout)');
    });
    metrics.countSessions('wss', () => this.#state.local.size);
    this.#connectionContext = {
      scheduler,
      stats: this.#stats,
      maxBufferedBytes: options.maxBufferedBytes,
      requestRate: options.requestRate,
      requestBurst: options.requestBurst,
      send: (conn, frame) => this.#send(conn, frame),
      overflowed: (conn, overflow) => this.#overflowed(conn, overflow),
    };
  }

  mount(routes: RouteTable): void {
    routes.addUpgrade(WSS_PATH, this);
    routes.addHttp('POST', WSS_PATH, (req, res) => answerPost(this.#rpc, this.#options, req, res));
  }

  /** Private IDs of the sessions on this node, in connection order. */
  sessionIds(): string[] {
    return [...this.#state.local.keys()];
  }

  /** Sends a frame to a session as is, bypassing the outgoing hook. */
  sendRaw(privateId: string, frame: string): boolean {
    const conn = this.#state.local.get(privateId);
    if (!conn || conn.ws.readyState !== conn.ws.OPEN) return false;
    return conn.outbox.push(Frame.text(frame), true);
  }

  onConnection(ws: WebSocket, _req: IncomingMessage, socket: Duplex, { ipKey, label }: RequestClient): void {
    const conn = new WssConnection(ws, socket, this.#connectionContext, ipKey, label);
    this.#connections.add(conn);
    this.#noSession.add(conn);
    // Three listeners sharing one small context: the least a socket can cost here.
    const onMessage = (data: RawData, isBinary: boolean): void => this.#onMessage(conn, data, isBinary);
    const onError = (err: Error): void => this.#logger.warn(`wss: socket ${conn.label} error: ${err.message}`);
    ws.on('message', onMessage);
    ws.on('error', onError);
    ws.once('close', (code: number) => {
      ws.off('message', onMessage);
      ws.off('error', onError);
      this.#onClose(conn, code);
    });
    this.#logger.debug(`wss: socket opened from ${label}`);
  }

  /**
   * Closes the socket of a session the broker has given up (a cluster node's
   * session whose private ID another node took while this one was cut off)
   * with 1012 "service restart": the client reconnects to a new session. Its
   * end is not announced again: the cluster has told every peer already.
   */
  evict(privateId: string): void {
    const conn = this.#state.local.get(privateId);
    if (!conn) return;
    this.#state.local.delete(privateId);
    conn.session = null;
    this.#logger.warn(`wss: ${privateId.slice(0, 12)}… is held by another node now; closing its socket (1012)`);
    this.#close(conn, 1012, 'session moved; reconnect');
  }

  /**
   * Starts draining: sessions that end from now on are not announced to
   * their peers (every peer is leaving too), and every socket gets `code`
   * after what is queued for it.
   */
  closeAll(code: number, reason: string): void {
    this.#state.draining = true;
    this.#scheduler.flushAll(true);
    for (const conn of this.#connections) this.#close(conn, code, reason);
  }

  async close(): Promise<void> {
    this.#noSession.clear();
    this.#scheduler.close();
    await this.#state.broker.close();
  }

  #onMessage(conn: WssConnection, data: RawData, isBinary: boolean): void {
    this.#stats.framesIn++;
    this.#stats.bytesIn += rawSize(data);
    const bytes = applyIncoming(this.#options.hooks, this.#logger, conn, rawBytes(data, isBinary));
    if (bytes === null || conn.closed) return;
    if (conn.inbox) {
      conn.inbox.push(bytes);
      if (conn.inbox.length >= MAX_INBOX) conn.ws.pause();
      return;
    }
    conn.inbox = [];
    this.#drainInbox(conn, bytes).catch((err: unknown) =>
      this.#logger.error(`wss: request from ${conn.label} failed inside the server`, err),
    );
  }

  /** Answers `first` and then every frame that queued meanwhile, one at a time, so answers keep request order. */
  async #drainInbox(conn: WssConnection, first: Buffer): Promise<void> {
    try {
      for (let frame: Buffer | undefined = first; frame !== undefined && !conn.closed; frame = conn.inbox?.shift()) {
        await this.#answer(conn, frame);
      }
    } finally {
      conn.inbox = null;
      if (conn.ws.isPaused) conn.ws.resume();
    }
  }

  async #answer(conn: WssConnection, bytes: Buffer): Promise<void> {
    if (!conn.bucket.take()) {
      this.#rateLimited(conn, bytes);
      return;
    }
    try {
      const answer = await this.#rpc.handle(bytes, { transport: 'socket', ipKey: conn.ipKey, conn });
      if (answer !== null) this.#send(conn, frameOf(answer), true);
    } finally {
      conn.release();
    }
    if (conn.session) this.#noSession.delete(conn);
  }

  #rateLimited(conn: WssConnection, bytes: Buffer): void {
    this.#stats.rateLimited++;
    const id = requestIdOf(parseFrame(bytes));
    this.#logger.debug(`wss: request from ${conn.label} refused by the rate limit: ${frameStart(bytes)}`);
    if (id !== undefined) {
      const { code, message } = WSS_ERRORS.rateLimited;
      this.#send(conn, Frame.text(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })), true);
    }
    if (conn.bucket.refusedInARow >= RATE_LIMIT_CLOSE_AFTER) {
      this.#logger.warn(`wss: ${conn.label} kept sending over the rate limit; closing`);
      this.#close(conn, 1008, 'request rate limit exceeded');
    }
  }

  /** Queues a frame for the socket (through the outgoing hook); `urgent` for answers, which never wait for a pause. */
  #send(conn: WssConnection, frame: Frame, urgent = false): void {
    // The path of every push: no hook, no allocation.
    if (!this.#options.hooks.outgoing && !conn.closed) {
      if (!conn.outbox.push(frame, urgent)) this.#logger.debug(`wss: socket ${conn.label} is closing; frame not sent`);
      return;
    }
    const frames = applyOutgoing(this.#options.hooks, this.#logger, conn, frame);
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) {
      if (frames.length > 0)
        this.#logger.debug(`wss: socket ${conn.label} is closing; frame not sent: ${snippet(frame.text(), 80)}`);
      return;
    }
    for (const out of frames) conn.outbox.push(out, urgent);
  }

  #overflowed(conn: WssConnection, overflow: Overflow): void {
    this.#stats.backpressureCloses++;
    this.#logger.warn(
      `wss: ${conn.label} is not reading: ${overflow.buffered} bytes would wait, over maxBufferedBytes ${overflow.limit}; closing (1013)`,
    );
    this.#endSession(conn, 1013);
    this.#close(conn, 1013, 'outbound buffer full (maxBufferedBytes)');
  }

  /** Writes what is queued for `conn`, then starts the closing handshake. */
  #close(conn: WssConnection, code: number, reason: string): void {
    closeAfterQueued(conn.ws, conn.outbox, code, reason);
  }

  #onClose(conn: WssConnection, code: number): void {
    conn.closed = true;
    conn.outbox.close();
    conn.inbox = null;
    this.#connections.delete(conn);
    this.#noSession.delete(conn);
    this.#endSession(conn, code);
    this.#logger.debug(`wss: socket ${conn.label} closed (${code})`);
  }

  /** Ends the socket's session and pending handshakes, for the whole deployment. */
  #endSession(conn: WssConnection, code: number): void {
    const { broker, local, draining } = this.#state;
    const fail = (err: unknown): void => this.#logger.error(`wss: ending ${conn.label}'s session failed`, err);
    for (const token of conn.pendingHandshakes ?? []) broker.dropHandshake(conn.ipKey, token).catch(fail);
    conn.pendingHandshakes = null;
    const session = conn.session;
    conn.session = null;
    if (!session) return;
    const privateId = session.privateId;
    if (local.get(privateId) === conn) local.delete(privateId);
    broker.leave(privateId, draining ? null : disconnectPush(privateId)).catch(fail);
    this.#logger.info(`wss: ${privateId.slice(0, 12)}… disconnected (${code}; ${local.size} sessions here)`);
  }
}
