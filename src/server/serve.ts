/** The HTTP server's two entry points: requests (routed by path) and WebSocket upgrades (admitted, then routed). */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerCore } from './core.js';
import { CORS_HEADERS, PREFLIGHT_HEADERS, reply } from './http.js';
import { clientOf } from './transport/client.js';

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' };

/** The pathname of a request, without query or fragment. */
export function pathOf(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const end = raw.search(/[?#]/);
  return end === -1 ? raw : raw.slice(0, end);
}

/** Answers HTTP requests from the route table (404, 405 and CORS preflight included). */
export function serveRequests(http: HttpServer, core: ServerCore): void {
  const { routes, options } = core;
  http.on('request', (req, res) => {
    const path = pathOf(req);
    const cors = options.cors ? CORS_HEADERS : {};
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS' && options.cors && routes.hasPath(path)) {
      reply(res, 204, '', { ...CORS_HEADERS, ...PREFLIGHT_HEADERS });
      return;
    }
    const match = routes.matchHttp(method, path);
    if (match.kind === 'not-found') {
      reply(res, 404, `Nothing is served at ${path.slice(0, 200)}\n`, { ...TEXT, ...cors });
      return;
    }
    if (match.kind === 'wrong-method') {
      const body = `Method ${method} is not served at ${path}; use ${match.allow}\n`;
      reply(res, 405, body, { ...TEXT, Allow: match.allow, ...cors });
      return;
    }
    Promise.resolve()
      .then(() => match.handler(req, res))
      .catch((err: unknown) => {
        options.logger.error(`server: ${method} ${path} failed`, err);
        reply(res, 500, 'Internal server error\n', { ...TEXT, ...cors }, true);
      });
  });
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

/** Answers an upgrade with a plain HTTP error (the reason in the body) and closes the connection. */
function refuse(socket: Duplex, status: number, reason: string): void {
  socket.on('error', () => {});
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Counts a socket as open until it closes. A function of its own so that the
 * listener, which lives as long as the socket, holds only the IP key (a
 * closure in the upgrade handler would keep the whole request alive).
 */
function countOpen(core: ServerCore, socket: Duplex, ipKey: string): void {
  core.admission.opened(ipKey);
  core.metrics.sockets++;
  socket.once('close', () => {
    core.admission.released(ipKey);
    core.metrics.sockets--;
  });
}

/** Admits WebSocket upgrades (draining, route, Origin, per-IP cap) and hands each socket to its route. */
export function serveUpgrades(http: HttpServer, core: ServerCore): void {
  const { routes, admission, sockets, options } = core;
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (core.draining) return refuse(socket, 503, 'The server is shutting down');
    const route = routes.upgradeRoute(pathOf(req));
    if (!route) return refuse(socket, 404, `No WebSocket is served at ${pathOf(req).slice(0, 200)}`);
    const client = clientOf(req, options.trustProxy);
    const refusal = admission.check(req, client.ipKey);
    if (refusal) {
      options.logger.info(`server: socket from ${client.label} refused (${refusal.status}): ${refusal.reason}`);
      return refuse(socket, refusal.status, refusal.reason);
    }
    countOpen(core, socket, client.ipKey);
    sockets.handleUpgrade(req, socket, head, (ws) => route.onConnection(ws, req, socket, client));
  });
}
