/** What the WSS method handlers share: the registry, the options and a way to send. */
import type { Logger } from '../../util/logger.js';
import type { ResolvedServerOptions } from '../options.js';
import type { WssConnection } from './connection.js';
import type { WssErrorEntry } from './messages.js';
import type { SessionRegistry } from './registry.js';

/** Where a request came from. */
export interface CallContext {
  readonly transport: 'socket' | 'http';
  /** Family + IP of the client. */
  readonly ipKey: string;
  /** The socket, for socket requests. */
  readonly conn: WssConnection | null;
}

/** The endpoint state every handler works on. */
export interface WssState {
  readonly registry: SessionRegistry<WssConnection>;
  readonly options: ResolvedServerOptions;
  readonly logger: Logger;
  /** Sends one frame to a session's socket (through the outgoing hook). */
  deliver(conn: WssConnection, frame: string): void;
}

/** What a handler returns: a result, or one of the table's errors (plus optional `data`). */
export type Outcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: WssErrorEntry; readonly data?: unknown };

/** A WSS method handler. Handlers never throw for bad input; they return an error outcome. */
export type MethodHandler = (params: unknown, call: CallContext, state: WssState) => Outcome;

export const success = (result: unknown): Outcome => ({ ok: true, result });
export const failure = (error: WssErrorEntry, data?: unknown): Outcome =>
  data === undefined ? { ok: false, error } : { ok: false, error, data };
