/**
 * `wss-sessions/server`: the Node reference server. One HTTP port carries the
 * WSS protocol (WebSocket and HTTP POST handshake on '/') and, when enabled,
 * the Signal endpoint and the chat page.
 *
 * @example
 * import { createServer } from 'wss-sessions/server';
 * const server = await createServer({ port: 0 });
 * console.log(server.url, server.httpUrl);
 * await server.close();
 * @packageDocumentation
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
// The server runs in Node: Buffer base64 and `ws` for the client classes it shares.
import '../node/setup.js';
import { InvalidArgumentError } from '../errors.js';
import { CORS_HEADERS, PREFLIGHT_HEADERS, reply } from './http.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options.js';
import { DemoPage } from './demo/index.js';
import { RouteTable, type ServerComponent } from './routes.js';
import { SignalEndpoint, type SignalServer } from './signal/index.js';
import { WssEndpoint } from './wss/endpoint.js';

export { serverDefaults } from './options.js';
export type { FrameParty, ServerHooks, ServerOptions } from './options.js';
export { WSS_ERRORS } from './wss/messages.js';
export {
  SIGNAL_PATH,
  SIGNAL_ERRORS,
  SIGNAL_CLOSE,
  signalServerDefaults,
  type SignalServerOptions,
  type SignalServer,
  type SignalClientInfo,
  type SignalContext,
  type SignalHandler,
  type SignalErrorCode,
  type PublishOptions,
} from './signal/index.js';

/** A running server. */
export interface WssSessionsServer {
  /** WebSocket address of the WSS protocol, e.g. `ws://127.0.0.1:8090`. */
  readonly url: string;
  /** HTTP address of the POST handshake (same port), e.g. `http://127.0.0.1:8090`. */
  readonly httpUrl: string;
  /** The port actually listened on (useful with `port: 0`). */
  readonly port: number;
  /** Private IDs of the connected WSS sessions, in connection order (a fresh copy). */
  readonly sessions: readonly string[];
  /** The Signal endpoint's application API (at `/stream`); present when the `signal` option was given. */
  readonly signal: SignalServer | undefined;
  /**
   * For tests: sends `frame` to the session as is (no outgoing hook).
   * Returns `false` when no open session has that private ID.
   */
  sendRaw(privateId: string, frame: string): boolean;
  /**
   * For tests: cuts every WebSocket without the closing handshake. Without a
   * code the TCP connection is destroyed (clients see 1006); with a code a
   * close frame with that code is written first and the connection destroyed
   * right after, without waiting for the client's answer.
   */
  dropConnections(code?: number): void;
  /** Closes every socket and the HTTP server; resolves once nothing is left open. Safe to call twice. */
  close(): Promise<void>;
}

/** Milliseconds a socket gets to answer the closing handshake before it is cut. */
const CLOSE_GRACE_MS = 2000;

/**
 * The components served on the shared port. A new endpoint is a
 * {@link ServerComponent} added to this list (for example, when its option is
 * set); its `mount` registers its WebSocket paths and HTTP routes.
 */
async function buildComponents(
  options: ResolvedServerOptions,
): Promise<{ components: ServerComponent[]; wss: WssEndpoint; signal: SignalEndpoint | undefined }> {
  const wss = new WssEndpoint(options);
  const signal = options.signal ? await SignalEndpoint.create(options.signal, options.logger) : undefined;
  const components: ServerComponent[] = [wss];
  if (signal) components.push(signal);
  if (options.demo) components.push(new DemoPage(options.logger));
  return { components, wss, signal };
}

function listen(http: HttpServer, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      resolve();
    });
  });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the server and resolves once it listens.
 * @throws InvalidArgumentError for a bad option (the message names it).
 * @example
 * const server = await createServer({ port: 0, host: '127.0.0.1' });
 */
export async function createServer(options: ServerOptions = {}): Promise<WssSessionsServer> {
  const opts = resolveServerOptions(options);
  const routes = new RouteTable();
  const { components, wss: endpoint, signal } = await buildComponents(opts);
  for (const component of components) component.mount(routes);

  const sockets = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload });
  const http = createHttpServer();
  let closing: Promise<void> | null = null;

  http.on('request', (req, res) => {
    const path = pathOf(req);
    const cors = opts.cors ? CORS_HEADERS : {};
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS' && opts.cors && routes.hasPath(path)) {
      reply(res, 204, '', { ...CORS_HEADERS, ...PREFLIGHT_HEADERS });
      return;
    }
    const match = routes.matchHttp(method, path);
    if (match.kind === 'not-found') {
      reply(res, 404, `Nothing is served at ${path.slice(0, 200)}\n`, {
        'Content-Type': 'text/plain; charset=utf-8',
        ...cors,
      });
      return;
    }
    if (match.kind === 'wrong-method') {
      reply(res, 405, `Method ${method} is not served at ${path}; use ${match.allow}\n`, {
        'Content-Type': 'text/plain; charset=utf-8',
        Allow: match.allow,
        ...cors,
      });
      return;
    }
    Promise.resolve()
      .then(() => match.handler(req, res))
      .catch((err: unknown) => {
        opts.logger.error(`server: ${method} ${path} failed`, err);
        reply(res, 500, 'Internal server error\n', { 'Content-Type': 'text/plain; charset=utf-8', ...cors }, true);
      });
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const route = closing ? undefined : routes.upgradeRoute(pathOf(req));
    if (!route) {
      socket.on('error', () => {});
      socket.end(
        `HTTP/1.1 ${closing ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => route.onConnection(ws, req));
  });

  await listen(http, opts.port, opts.host);
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const hostPart = `${formatHost(opts.host)}:${port}`;
  opts.logger.info(`server: WebSocket ws://${hostPart} and HTTP http://${hostPart}`);

  const shutdown = async (): Promise<void> => {
    const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
    const clients = [...sockets.clients];
    const socketsClosed = Promise.all(
      clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) resolve();
            else ws.once('close', () => resolve());
          }),
      ),
    );
    for (const ws of clients) ws.close(1001, 'Server closing');
    const grace = setTimeout(() => {
      for (const ws of sockets.clients) ws.terminate();
    }, CLOSE_GRACE_MS);
    grace.unref();
    await socketsClosed;
    clearTimeout(grace);
    await new Promise<void>((resolve) => sockets.close(() => resolve()));
    for (const component of [...components].reverse()) await component.close();
    http.closeIdleConnections();
    await httpClosed;
    opts.logger.info('server: closed');
  };

  return {
    url: `ws://${hostPart}`,
    httpUrl: `http://${hostPart}`,
    port,
    signal,
    get sessions() {
      return endpoint.sessionIds();
    },
    sendRaw: (privateId, frame) => endpoint.sendRaw(privateId, frame),
    dropConnections(code?: number) {
      if (code !== undefined && !isSendableCloseCode(code)) {
        throw new InvalidArgumentError(
          `dropConnections(code): ${code} is not a close code a server may send (1000-1014 or 3000-4999)`,
        );
      }
      for (const ws of sockets.clients) {
        if (code !== undefined && ws.readyState === ws.OPEN) ws.close(code);
        ws.terminate();
      }
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Close codes RFC 6455 lets an endpoint put in a close frame. */
function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return (
    (code >= 3000 && code <= 4999) || (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)
  );
}

function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const end = raw.search(/[?#]/);
  return end === -1 ? raw : raw.slice(0, end);
}
