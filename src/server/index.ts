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
import { createServer as createHttpServer } from 'node:http';
// The server runs in Node: Buffer base64 and `ws` for the client classes it shares.
import '../node/setup.js';
import { InvalidArgumentError } from '../errors.js';
import { buildCore, type ServerCore } from './core.js';
import { drain, listen } from './lifecycle.js';
import { resolveServerOptions, type ServerOptions } from './options.js';
import { serveRequests, serveUpgrades } from './serve.js';
import type { SignalServer } from './signal/index.js';

export { serverDefaults } from './options.js';
export type { FrameParty, ServerHooks, ServerOptions } from './options.js';
export { SERVER_ERROR_CODES, WSS_ERRORS } from './wss/messages.js';
export { GOING_AWAY } from './lifecycle.js';
export { OPS_PATHS } from './ops/routes.js';
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
  /**
   * Drains and stops: no new sockets or requests, every socket is closed with
   * 1001 "going away" (after what is queued for it), sockets that have not
   * answered within `drainMs` are cut, then the HTTP server closes. Resolves
   * once nothing is left open. Safe to call twice (the second call gets the
   * first one's promise).
   */
  close(options?: CloseOptions): Promise<void>;
}

/** Options of {@link WssSessionsServer.close}. */
export interface CloseOptions {
  /** Milliseconds clients get to finish the closing handshake. Default: the server's `drainMs` option (5000). */
  drainMs?: number;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Close codes RFC 6455 lets an endpoint put in a close frame. */
function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return (
    (code >= 3000 && code <= 4999) || (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006)
  );
}

/** The test helper behind {@link WssSessionsServer.dropConnections}. */
function dropConnections(core: ServerCore, code?: number): void {
  if (code !== undefined && !isSendableCloseCode(code)) {
    throw new InvalidArgumentError(
      `dropConnections(code): ${code} is not a close code a server may send (1000-1014 or 3000-4999)`,
    );
  }
  for (const ws of core.sockets.clients) {
    if (code !== undefined && ws.readyState === ws.OPEN) ws.close(code);
    ws.terminate();
  }
}

function checkDrainMs(value: unknown): number | undefined {
  if (value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= 0)) return value;
  throw new InvalidArgumentError(
    `close({ drainMs }): drainMs must be a whole number of milliseconds >= 0; got ${value}`,
  );
}

/**
 * Starts the server and resolves once it listens.
 * @throws InvalidArgumentError for a bad option (the message names it).
 * @example
 * const server = await createServer({ port: 0, host: '127.0.0.1' });
 */
export async function createServer(options: ServerOptions = {}): Promise<WssSessionsServer> {
  const opts = resolveServerOptions(options);
  const core = await buildCore(opts);
  const http = createHttpServer();
  serveRequests(http, core);
  serveUpgrades(http, core);
  const port = await listen(http, opts.port, opts.host);
  const hostPart = `${formatHost(opts.host)}:${port}`;
  opts.logger.info(`server: WebSocket ws://${hostPart} and HTTP http://${hostPart}`);
  let closing: Promise<void> | null = null;
  return {
    url: `ws://${hostPart}`,
    httpUrl: `http://${hostPart}`,
    port,
    signal: core.signal,
    get sessions() {
      return core.wss.sessionIds();
    },
    sendRaw: (privateId, frame) => core.wss.sendRaw(privateId, frame),
    dropConnections: (code) => dropConnections(core, code),
    close(closeOptions) {
      const drainMs = checkDrainMs(closeOptions?.drainMs) ?? opts.drainMs;
      closing ??= drain(core, http, drainMs);
      return closing;
    },
  };
}
