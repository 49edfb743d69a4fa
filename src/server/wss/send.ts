/** `WSS_Send`: relays a broadcast or a direct message as pushes from the sender's private ID. */
import type { SendResult } from '../../protocol/wss.js';
import { callingSession } from './caller.js';
import { WSS_ERRORS } from './messages.js';
import { readSendTarget, type SendTarget } from './params.js';
import { messagePush } from './push.js';
import { failure, success, type MethodHandler, type WssState } from './state.js';

const OK: SendResult = Object.freeze({ message: 'ok' });

export const handleSend: MethodHandler = (raw, call, state) => {
  const caller = callingSession(raw, call, state, {
    notSocket: WSS_ERRORS.sendNotSocket,
    badTokens: WSS_ERRORS.sendNoHandshake,
  });
  if (!caller.ok) return caller.outcome;
  const { session, params } = caller;
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
