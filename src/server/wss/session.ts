/** `WSS_Session`: reads or changes the calling session's private ID. */
import type { SessionResult } from '../../protocol/wss.js';
import { callingSession } from './caller.js';
import { WSS_ERRORS } from './messages.js';
import { isValidPrivateId } from './params.js';
import { changePush } from './push.js';
import type { SessionRecord } from './registry.js';
import type { WssConnection } from './connection.js';
import { failure, success, type MethodHandler, type Outcome, type WssState } from './state.js';

export const handleSession: MethodHandler = (raw, call, state) => {
  const caller = callingSession(raw, call, state, {
    notSocket: WSS_ERRORS.sessionNotSocket,
    badTokens: WSS_ERRORS.invalidTokens,
  });
  if (!caller.ok) return caller.outcome;
  const { session, params } = caller;
  if (params.action === 'getPID') return success({ privateID: session.privateId } satisfies SessionResult);
  if (params.action === 'setPID') return setPrivateId(state, session, params.privateID);
  return failure(WSS_ERRORS.unknownAction);
};

function setPrivateId(state: WssState, session: SessionRecord<WssConnection>, next: unknown): Outcome {
  if (!isValidPrivateId(next)) return failure(WSS_ERRORS.badPrivateId);
  const old = session.privateId;
  if (next === old) return success({ privateID: next } satisfies SessionResult);
  if (state.registry.findSession(next)) return failure(WSS_ERRORS.privateIdTaken);
  state.registry.rename(session, next);
  const frame = changePush(old, next);
  for (const peer of state.registry.sessions()) {
    if (peer !== session) state.deliver(peer.conn, frame);
  }
  state.logger.debug(`wss: session ${old} is now ${next}`);
  return success({ privateID: next } satisfies SessionResult);
}
