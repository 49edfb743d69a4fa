/** `WSS_Send`: relays a broadcast or a direct message as pushes from the sender's private ID. */
import type { SendResult } from '../../protocol/wss.js';
import { isRecord } from '../../protocol/guards.js';
import { WSS_ERRORS } from './messages.js';
import { readSendTarget, readTokens, type SendTarget } from './params.js';
import { messagePush } from './push.js';
import { failure, success, type MethodHandler, type WssState } from './state.js';

const OK: SendResult = Object.freeze({ message: 'ok' });

export const handleSend: MethodHandler = (params, call, state) => {
  const conn = call.conn;
  if (conn === null) return failure(WSS_ERRORS.sendNotSocket);
  if (!isRecord(params)) return failure(WSS_ERRORS.paramsNotObject);
  const tokens = readTokens(params);
  const record = tokens && state.registry.findHandshake(call.ipKey, tokens.userToken);
  if (!tokens || !record || record.serverToken !== tokens.serverToken) return failure(WSS_ERRORS.sendNoHandshake);
  const session = record.session;
  if (session === null || session.conn !== conn) return failure(WSS_ERRORS.sessionNotEstablished);
  const target = readSendTarget(params);
  if (!target.ok) return failure(target.error);
  relay(state, session.privateId, target.value, params.data);
  return success(OK);
};

function relay(state: WssState, from: string, target: SendTarget, data: unknown): void {
  const frame = messagePush(target.type, from, data);
  if (target.type === 'broadcast') {
    for (const peer of state.registry.sessions()) {
      if (peer.privateId !== from && !target.exclude.has(peer.privateId)) state.deliver(peer.conn, frame);
    }
    return;
  }
  for (const id of target.to) {
    const peer = state.registry.findSession(id);
    if (peer) state.deliver(peer.conn, frame);
    else state.logger.debug(`wss: direct message from ${from} to unknown private ID ${id.slice(0, 128)} dropped`);
  }
}

