/** `WSS_Connect`: binds the calling socket to its handshake and announces the new session. */
import type { ConnectResult } from '../../protocol/wss.js';
import { isRecord } from '../../protocol/guards.js';
import { WSS_ERRORS } from './messages.js';
import { readTokens } from './params.js';
import { connectPush } from './push.js';
import { derivePrivateId } from './registry.js';
import { failure, success, type MethodHandler } from './state.js';

export const handleConnect: MethodHandler = (params, call, state) => {
  const conn = call.conn;
  if (conn === null) return failure(WSS_ERRORS.connectNotSocket);
  if (!isRecord(params) || !isRecord(params.options)) return failure(WSS_ERRORS.badConnectOptions);
  const tokens = readTokens(params);
  const record = tokens && state.registry.findHandshake(call.ipKey, tokens.userToken);
  if (!tokens || !record) return failure(WSS_ERRORS.noHandshake);
  if (record.serverToken !== tokens.serverToken) return failure(WSS_ERRORS.tokenMismatch);
  if (record.session) return failure(WSS_ERRORS.socketSessionExists);
  const privateId = derivePrivateId(record.serverToken, record.userToken);
  // One session per socket, and a private ID nobody holds (another session may have chosen it with setPID).
  if (conn.session || conn.closed || state.registry.findSession(privateId)) return failure(WSS_ERRORS.cannotConnect);

  const options = params.options;
  const result: ConnectResult = { message: 'open', private_id: privateId, connect: [], options: [] };
  const announce = connectPush(privateId, options);
  for (const peer of state.registry.sessions()) {
    result.connect.push(peer.privateId);
    result.options.push(peer.options);
    state.deliver(peer.conn, announce);
  }
  conn.session = state.registry.bind(record, privateId, conn, options);
  conn.pendingHandshakes.delete(record);
  record.owner?.pendingHandshakes.delete(record);
  state.logger.debug(`wss: session ${privateId} connected from ${conn.label} (${result.connect.length} peers)`);
  return success(result);
};
