/** Listening, and the drain that `close()` runs: stop accepting, say "going away" to every socket, cut what lingers. */
import type { Server as HttpServer } from 'node:http';
import type { WebSocket } from 'ws';
import type { ServerCore } from './core.js';

/** Close code and reason every socket gets when the server drains (reconnecting clients move on). */
export const GOING_AWAY = Object.freeze({ code: 1001, reason: 'going away' });

/** Starts listening; resolves with the port actually bound. */
export function listen(http: HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    http.once('error', onError);
    http.listen(port, host, () => {
      http.off('error', onError);
      const address = http.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

function closedOf(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === ws.CLOSED) resolve();
    else ws.once('close', () => resolve());
  });
}

/**
 * Drains and closes: no new sockets or requests; every socket gets 1001
 * "going away" after what is already queued for it; sockets that have not
 * finished the closing handshake after `drainMs` are cut. Resolves once
 * nothing is left open (within `drainMs` plus the time to close components).
 */
export async function drain(core: ServerCore, http: HttpServer, drainMs: number): Promise<void> {
  core.draining = true;
  const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
  const clients = [...core.sockets.clients];
  const socketsClosed = Promise.all(clients.map(closedOf));
  core.wss.closeAll(GOING_AWAY.code, GOING_AWAY.reason);
  for (const ws of clients) if (ws.readyState === ws.OPEN) ws.close(GOING_AWAY.code, GOING_AWAY.reason);
  const deadline = setTimeout(() => {
    for (const ws of core.sockets.clients) ws.terminate();
    http.closeAllConnections();
  }, drainMs);
  await socketsClosed;
  clearTimeout(deadline);
  await new Promise<void>((resolve) => core.sockets.close(() => resolve()));
  for (const component of [...core.components].reverse()) await component.close();
  http.closeIdleConnections();
  await httpClosed;
  core.options.logger.info('server: closed');
}
