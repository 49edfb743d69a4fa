/** `WSS_Connect`: binds the calling socket to its handshake and announces the new session. */
import { isRecord } from '../../protocol/guards.js';
import type { JoinOutcome } from './broker.js';
import { EncodedJson } from './encoded.js';
import { WSS_ERRORS, type WssErrorEntry } from './messages.js';
import { readTokens, type Tokens } from './params.js';
import { connectPush, disconnectPush } from './push.js';
import { derivePrivateId } from './private-id.js';
import { failure, success, type MethodHandler, type Outcome, type WssState } from './state.js';

const REFUSALS: Readonly<Record<Exclude<JoinOutcome, { ok: true }>['reason'], WssErrorEntry>> = {
  'no-handshake': WSS_ERRORS.noHandshake,
  'token-mismatch': WSS_ERRORS.tokenMismatch,
  bound: WSS_ERRORS.socketSessionExists,
  taken: WSS_ERRORS.cannotConnect,
};

export const handleConnect: MethodHandler = async (params, call, state) => {
  const conn = call.conn;
  if (conn === null) return failure(WSS_ERRORS.connectNotSocket);
  if (!isRecord(params) || !isRecord(params.options)) return failure(WSS_ERRORS.badConnectOptions);
  const tokens = readTokens(params);
  if (!tokens) return failure(WSS_ERRORS.noHandshake);
  if (conn.session || conn.closed) return refuseSecondSession(state, call.ipKey, tokens);
  const optionsJson = JSON.stringify(params.options);
  const privateId = derivePrivateId(tokens.serverToken, tokens.userToken);
  conn.hold();
  const joined = await state.broker.join({
    ipKey: call.ipKey,
    userToken: tokens.userToken,
    serverToken: tokens.serverToken,
    privateId,
    optionsJson,
    mailbox: conn,
    announce: connectPush(privateId, optionsJson),
  });
  if (!joined.ok) {
    conn.release();
    return failure(REFUSALS[joined.reason]);
  }
  conn.session = { privateId, userToken: tokens.userToken, serverToken: tokens.serverToken };
  conn.pendingHandshakes?.delete(tokens.userToken);
  if (conn.pendingHandshakes?.size === 0) conn.pendingHandshakes = null;
  if (conn.closed) {
    // The socket went away while the broker was binding it: end the session at once.
    conn.session = null;
    conn.release();
    await state.broker.leave(privateId, disconnectPush(privateId));
    return failure(WSS_ERRORS.cannotConnect);
  }
  state.local.set(privateId, conn);
  state.logger.info(`wss: ${privateId.slice(0, 12)}… connected from ${conn.label} (${joined.peers.count} peers)`);
  const { ids, options } = joined.peers;
  return success(
    new EncodedJson([
      `{"message":"open","private_id":${JSON.stringify(privateId)},"connect":[`,
      ids,
      '],"options":[',
      options,
      ']}',
    ]),
  );
};

/** A socket that already carries a session (or is gone) gets the error the legacy server gave, checked in its order. */
async function refuseSecondSession(state: WssState, ipKey: string, tokens: Tokens): Promise<Outcome> {
  const record = await state.broker.findHandshake(ipKey, tokens.userToken);
  if (!record) return failure(WSS_ERRORS.noHandshake);
  if (record.serverToken !== tokens.serverToken) return failure(WSS_ERRORS.tokenMismatch);
  if (record.privateId !== null) return failure(WSS_ERRORS.socketSessionExists);
  return failure(WSS_ERRORS.cannotConnect);
}
