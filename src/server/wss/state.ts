/** What the WSS method handlers share: the broker, the node's own sessions, the options and a logger. */
import type { Logger } from '../../util/logger.js';
import type { ServerMetrics } from '../ops/metrics.js';
import type { ResolvedServerOptions } from '../options.js';
import type { Broker } from './broker.js';
import type { WssConnection } from './connection.js';
import type { WssErrorEntry } from './messages.js';

/** Where a request came from. */
export interface CallContext {
  readonly transport: 'socket' | 'http';
  /** Family + IP of the client. */
  readonly ipKey: string;
  /** The socket, for socket requests. */
  readonly conn: WssConnection | null;
}

/** The state every handler works on. */
export interface WssState {
  /** Where handshakes, sessions and deliveries live (this process, or a cluster). */
  readonly broker: Broker;
  /** Sessions whose sockets are on this node, by private ID, in connection order. */
  readonly local: Map<string, WssConnection>;
  readonly options: ResolvedServerOptions;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** `true` once the server drains: sessions then end without announcing it to every peer. */
  draining: boolean;
}

/** What a handler returns: a result, or one of the table's errors (plus optional `data`). */
export type Outcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: WssErrorEntry; readonly data?: unknown };

/** A WSS method handler. Handlers never throw for bad input; they return an error outcome. */
export type MethodHandler = (params: unknown, call: CallContext, state: WssState) => Outcome | Promise<Outcome>;

export const success = (result: unknown): Outcome => ({ ok: true, result });
export const failure = (error: WssErrorEntry, data?: unknown): Outcome =>
  data === undefined ? { ok: false, error } : { ok: false, error, data };
