/**
 * The WSS protocol endpoint: WebSockets on '/', the HTTP POST handshake on
 * '/', session pushes on close, and the test hooks on every frame.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { listenToSocket } from '../socket-events.js';
import { snippet } from '../../protocol/guards.js';
import type { Logger } from '../../util/logger.js';
import { CORS_HEADERS, readBody, reply } from '../http.js';
import type { ResolvedServerOptions } from '../options.js';
import type { RouteTable, ServerComponent, UpgradeRoute } from '../routes.js';
import { WssConnection } from './connection.js';
import { WSS_ERRORS } from './messages.js';
import { disconnectPush } from './push.js';
import { ipKeyOf, SessionRegistry } from './registry.js';
import { WssRpc } from './rpc.js';
import type { CallContext, WssState } from './state.js';

/** The WSS path on the shared port. */
export const WSS_PATH = '/';

const JSON_RPC_TYPE = 'application/json-rpc';

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function clientOf(req: IncomingMessage): { ipKey: string; label: string } {
  const address = req.socket.remoteAddress ?? 'unknown';
  const family = req.socket.remoteFamily ?? 'unknown';
  return { ipKey: ipKeyOf({ family, address }), label: `${address}:${req.socket.remotePort ?? '?'}` };
}

/** The WSS protocol as a server component. */
export class WssEndpoint implements ServerComponent, UpgradeRoute {
  readonly #options: ResolvedServerOptions;
  readonly #logger: Logger;
  readonly #registry = new SessionRegistry<WssConnection>();
  readonly #rpc: WssRpc;

  constructor(options: ResolvedServerOptions) {
    this.#options = options;
    this.#logger = options.logger;
    const state: WssState = {
      registry: this.#registry,
      options,
      logger: this.#logger,
      deliver: (conn, frame) => this.#send(conn, frame),
    };
    this.#rpc = new WssRpc(state);
  }

  mount(routes: RouteTable): void {
    routes.addUpgrade(WSS_PATH, this);
    routes.addHttp('POST', WSS_PATH, (req, res) => this.#handleHttp(req, res));
  }

  /** Private IDs of the connected sessions, in connection order. */
  sessionIds(): string[] {
    return Array.from(this.#registry.sessions(), (s) => s.privateId);
  }

  /** Sends a frame to a session as is, bypassing the outgoing hook. */
  sendRaw(privateId: string, frame: string): boolean {
    const session = this.#registry.findSession(privateId);
    if (!session || session.conn.ws.readyState !== session.conn.ws.OPEN) return false;
    session.conn.ws.send(frame);
    return true;
  }

  onConnection(ws: WebSocket, req: IncomingMessage): void {
    const { ipKey, label } = clientOf(req);
    const conn = new WssConnection(ws, ipKey, label);
    const call: CallContext = { transport: 'socket', ipKey, conn };
    listenToSocket(ws, {
      message: (data) => this.#onFrame(conn, call, rawToText(data)),
      error: (err) => this.#logger.warn(`wss: socket ${label} error: ${err.message}`),
      close: (code) => this.#onClose(conn, code),
    });
    this.#logger.debug(`wss: socket opened from ${label}`);
  }

  close(): void {
    this.#registry.clear();
  }

  #onFrame(conn: WssConnection, call: CallContext, raw: string): void {
    const text = this.#applyIncoming(conn, raw);
    if (text === null) return;
    this.#rpc.handle(text, call).then(
      (answer) => {
        if (answer !== null) this.#send(conn, answer);
      },
      (err: unknown) => this.#logger.error(`wss: request from ${conn.label} failed inside the server`, err),
    );
  }

  #applyIncoming(conn: WssConnection, raw: string): string | null {
    const hook = this.#options.hooks.incoming;
    if (!hook) return raw;
    try {
      const out = hook(raw, { privateId: conn.privateId });
      if (out === null) this.#logger.debug(`wss: incoming hook dropped a frame from ${conn.label}`);
      return out;
    } catch (err) {
      this.#logger.error('wss: incoming hook threw; frame dropped', err);
      return null;
    }
  }

  #send(conn: WssConnection, frame: string): void {
    const frames = this.#applyOutgoing(conn, frame);
    const ws = conn.ws;
    if (ws.readyState !== ws.OPEN) {
      if (frames.length > 0)
        this.#logger.debug(`wss: socket ${conn.label} is closing; frame not sent: ${snippet(frame, 80)}`);
      return;
    }
    for (const out of frames) ws.send(out);
  }

  #applyOutgoing(conn: WssConnection, frame: string): string[] {
    const hook = this.#options.hooks.outgoing;
    if (!hook) return [frame];
    try {
      const out = hook(frame, { privateId: conn.privateId });
      if (out === null) this.#logger.debug(`wss: outgoing hook dropped a frame to ${conn.label}`);
      return out === null ? [] : Array.isArray(out) ? out : [out];
    } catch (err) {
      this.#logger.error('wss: outgoing hook threw; frame dropped', err);
      return [];
    }
  }

  #onClose(conn: WssConnection, code: number): void {
    conn.closed = true;
    for (const record of conn.pendingHandshakes) this.#registry.removeHandshake(record);
    conn.pendingHandshakes.clear();
    const session = conn.session;
    conn.session = null;
    if (session) {
      this.#registry.removeHandshake(session.handshake);
      const frame = disconnectPush(session.privateId);
      for (const peer of this.#registry.sessions()) this.#send(peer.conn, frame);
    }
    this.#logger.debug(
      `wss: socket ${conn.label} closed (${code})${session ? `, session ${session.privateId} ended` : ''}`,
    );
  }

  async #handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const headers: Record<string, string> = { 'Content-Type': JSON_RPC_TYPE };
    if (this.#options.cors) Object.assign(headers, CORS_HEADERS);
    const body = await readBody(req, this.#options.maxPayload);
    if (!body.ok) {
      if (body.reason === 'aborted') return;
      const error = { code: WSS_ERRORS.tooLarge.code, message: WSS_ERRORS.tooLarge.message };
      reply(res, 413, JSON.stringify({ jsonrpc: '2.0', id: null, error }), headers, true);
      return;
    }
    const { ipKey } = clientOf(req);
    const answer = await this.#rpc.handle(body.text, { transport: 'http', ipKey, conn: null });
    if (answer === null) reply(res, 204, '', headers);
    else reply(res, 200, answer, headers);
  }
}
