/** `WSS_Send`: relays a broadcast or a direct message as pushes from the sender's private ID. */
import { WssErrorCodes, type SendResult } from '../../protocol/wss.js';
import { callingSession } from './caller.js';
import { dataTooLargeMessage, WSS_ERRORS } from './messages.js';
import { readSendTarget } from './params.js';
import { messagePush } from './push.js';
import { failure, success, type MethodHandler } from './state.js';

const OK: SendResult = Object.freeze({ message: 'ok' });

export const handleSend: MethodHandler = async (raw, call, state) => {
  const caller = await callingSession(raw, call, state, {
    notSocket: WSS_ERRORS.sendNotSocket,
    badTokens: WSS_ERRORS.sendNoHandshake,
  });
  if (!caller.ok) return caller.outcome;
  const { session, params } = caller;
  const target = readSendTarget(params);
  if (!target.ok) return failure(target.error);
  const from = session.privateId;
  // Serialised and framed once, whatever the number of recipients.
  const frame = messagePush(target.value.type, from, params.data);
  // From here on only the frame holds the data's buffer, so it is freed as soon as the frame is written, not
  // after the JSON-RPC layer is done: a large buffer still held at two young-generation collections moves to
  // the old generation, and waits there for a full collection.
  params.data = null;
  const max = state.options.maxPayload;
  if (frame.payloadSize > max) {
    return failure({ code: WssErrorCodes.INVALID_PARAMS_ERROR, message: dataTooLargeMessage(max, frame.payloadSize) });
  }
  if (target.value.type === 'broadcast') {
    await state.broker.broadcast(from, frame, target.value.exclude);
    return success(OK);
  }
  const unknown = await state.broker.direct(target.value.to, frame);
  for (const id of unknown) {
    state.logger.debug(`wss: direct message from ${from} to unknown private ID ${id.slice(0, 128)} dropped`);
  }
  return success(OK);
};
