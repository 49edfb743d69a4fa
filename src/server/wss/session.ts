/** `WSS_Session`: reads or changes the calling session's private ID. */
import type { SessionResult } from '../../protocol/wss.js';
import { callingSession } from './caller.js';
import type { LocalSession } from './connection.js';
import { WSS_ERRORS } from './messages.js';
import { isValidPrivateId } from './params.js';
import { changePush } from './push.js';
import { failure, success, type MethodHandler, type Outcome, type WssState } from './state.js';

export const handleSession: MethodHandler = async (raw, call, state) => {
  const caller = await callingSession(raw, call, state, {
    notSocket: WSS_ERRORS.sessionNotSocket,
    badTokens: WSS_ERRORS.invalidTokens,
  });
  if (!caller.ok) return caller.outcome;
  const { session, params } = caller;
  if (params.action === 'getPID') return success({ privateID: session.privateId } satisfies SessionResult);
  if (params.action === 'setPID') return setPrivateId(state, session, params.privateID);
  return failure(WSS_ERRORS.unknownAction);
};

async function setPrivateId(state: WssState, session: LocalSession, next: unknown): Promise<Outcome> {
  if (!isValidPrivateId(next)) return failure(WSS_ERRORS.badPrivateId);
  const old = session.privateId;
  if (next === old) return success({ privateID: next } satisfies SessionResult);
  const renamed = await state.broker.rename(old, next, changePush(old, next));
  if (renamed === 'taken') return failure(WSS_ERRORS.privateIdTaken);
  if (renamed === 'gone') return failure(WSS_ERRORS.sessionNotEstablished);
  const conn = state.local.get(old);
  session.privateId = next;
  if (conn) {
    state.local.delete(old);
    state.local.set(next, conn);
  }
  state.logger.debug(`wss: session ${old} is now ${next}`);
  return success({ privateID: next } satisfies SessionResult);
}
