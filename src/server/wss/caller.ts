/** Who is calling a session method: a socket whose tokens name the session bound to that socket. */
import { isRecord } from '../../protocol/guards.js';
import type { LocalSession } from './connection.js';
import { WSS_ERRORS, type WssErrorEntry } from './messages.js';
import { readTokens } from './params.js';
import { failure, type CallContext, type Outcome, type WssState } from './state.js';

/** The method's own errors for a call that is not over a socket, and for tokens that name no handshake. */
export interface CallerErrors {
  notSocket: WssErrorEntry;
  badTokens: WssErrorEntry;
}

/** The calling session and its params, or the error outcome the method returns. */
export type Caller =
  | { ok: true; session: LocalSession; params: Record<string, unknown> }
  | { ok: false; outcome: Outcome };

/**
 * Checks, in the legacy server's order: transport, params object, tokens,
 * session bound to this socket. The socket knows its own session's tokens, so
 * a valid call needs no broker lookup; only a refusal asks the broker which
 * error applies.
 */
export async function callingSession(
  params: unknown,
  call: CallContext,
  state: WssState,
  errors: CallerErrors,
): Promise<Caller> {
  const refuse = (error: WssErrorEntry): Caller => ({ ok: false, outcome: failure(error) });
  const conn = call.conn;
  if (conn === null) return refuse(errors.notSocket);
  if (!isRecord(params)) return refuse(WSS_ERRORS.paramsNotObject);
  const tokens = readTokens(params);
  if (!tokens) return refuse(errors.badTokens);
  const session = conn.session;
  if (session && session.userToken === tokens.userToken && session.serverToken === tokens.serverToken) {
    return { ok: true, session, params };
  }
  const record = await state.broker.findHandshake(call.ipKey, tokens.userToken);
  if (!record || record.serverToken !== tokens.serverToken) return refuse(errors.badTokens);
  return refuse(WSS_ERRORS.sessionNotEstablished);
}
