/**
 * The route table of the shared HTTP port. Each endpoint (the WSS protocol on
 * '/', and any later one such as a Signal endpoint or a demo page) registers
 * its WebSocket path and HTTP method + path pairs here; `createServer` routes
 * every request and upgrade by URL pathname.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { InvalidArgumentError } from '../errors.js';
import type { RequestClient } from './transport/client.js';

/** Serves every WebSocket accepted on one path. */
export interface UpgradeRoute {
  /**
   * Called once per accepted socket; the route owns its listeners from then on.
   * `socket` is the connection under `ws`, for routes that write pre-framed
   * bytes to it themselves (see transport/outbox.ts). `client` is who sent the
   * upgrade, as admission resolved it (behind `trustProxy` too), so that a
   * route keys its limits on the same address the per-IP socket cap counted.
   */
  onConnection(ws: WebSocket, req: IncomingMessage, socket: Duplex, client: RequestClient): void;
}

/** Serves one HTTP method on one path. A rejection or throw becomes a 500 reply and an error log line. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * Something served on the shared port: it registers its routes when the
 * server starts and is closed (after every socket) when the server closes.
 */
export interface ServerComponent {
  mount(routes: RouteTable): void;
  close(): void | Promise<void>;
}

/** What an HTTP request matched. */
export type HttpMatch =
  | { readonly kind: 'handler'; readonly handler: HttpHandler }
  | { readonly kind: 'wrong-method'; readonly allow: string }
  | { readonly kind: 'not-found' };

/** Paths and their handlers. Registering a path twice is a programming error. */
export class RouteTable {
  readonly #upgrades = new Map<string, UpgradeRoute>();
  readonly #http = new Map<string, Map<string, HttpHandler>>();

  /** Serves WebSocket upgrades on `path` (an exact pathname such as '/stream'). */
  addUpgrade(path: string, route: UpgradeRoute): void {
    checkPath(path);
    if (this.#upgrades.has(path)) throw new InvalidArgumentError(`WebSocket path '${path}' is already registered`);
    this.#upgrades.set(path, route);
  }

  /** Serves `method` (such as 'GET') on `path`. */
  addHttp(method: string, path: string, handler: HttpHandler): void {
    checkPath(path);
    const verb = method.toUpperCase();
    const byMethod = this.#http.get(path) ?? new Map<string, HttpHandler>();
    if (byMethod.has(verb)) throw new InvalidArgumentError(`HTTP route ${verb} '${path}' is already registered`);
    byMethod.set(verb, handler);
    this.#http.set(path, byMethod);
  }

  upgradeRoute(path: string): UpgradeRoute | undefined {
    return this.#upgrades.get(path);
  }

  /** Finds the handler for a method and path; HEAD falls back to GET. */
  matchHttp(method: string, path: string): HttpMatch {
    const byMethod = this.#http.get(path);
    if (!byMethod) return { kind: 'not-found' };
    const handler = byMethod.get(method) ?? (method === 'HEAD' ? byMethod.get('GET') : undefined);
    if (handler) return { kind: 'handler', handler };
    return { kind: 'wrong-method', allow: [...byMethod.keys(), 'OPTIONS'].join(', ') };
  }

  /** Whether anything (HTTP or WebSocket) is served on `path`. */
  hasPath(path: string): boolean {
    return this.#http.has(path) || this.#upgrades.has(path);
  }
}

function checkPath(path: string): void {
  if (!path.startsWith('/')) throw new InvalidArgumentError(`Route path must start with '/'; got '${path}'`);
}
