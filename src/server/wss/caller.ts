/** Who is calling a session method: a socket whose tokens name a handshake that is bound to that socket. */
import { isRecord } from '../../protocol/guards.js';
import type { WssConnection } from './connection.js';
import { WSS_ERRORS, type WssErrorEntry } from './messages.js';
import { readTokens } from './params.js';
import type { SessionRecord } from './registry.js';
import { failure, type CallContext, type Outcome, type WssState } from './state.js';

/** The method's own errors for a call that is not over a socket, and for tokens that name no handshake. */
export interface CallerErrors {
  notSocket: WssErrorEntry;
  badTokens: WssErrorEntry;
}

/** The calling session and its params, or the error outcome the method returns. */
export type Caller =
  | { ok: true; session: SessionRecord<WssConnection>; params: Record<string, unknown> }
  | { ok: false; outcome: Outcome };

/** Checks, in the legacy server's order: transport, params object, tokens, session bound to this socket. */
export function callingSession(params: unknown, call: CallContext, state: WssState, errors: CallerErrors): Caller {
  const refuse = (error: WssErrorEntry): Caller => ({ ok: false, outcome: failure(error) });
  const conn = call.conn;
  if (conn === null) return refuse(errors.notSocket);
  if (!isRecord(params)) return refuse(WSS_ERRORS.paramsNotObject);
  const tokens = readTokens(params);
  const record = tokens && state.registry.findHandshake(call.ipKey, tokens.userToken);
  if (!tokens || !record || record.serverToken !== tokens.serverToken) return refuse(errors.badTokens);
  const session = record.session;
  if (session === null || session.conn !== conn) return refuse(WSS_ERRORS.sessionNotEstablished);
  return { ok: true, session, params };
}
