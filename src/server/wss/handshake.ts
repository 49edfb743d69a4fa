/** `WSS_Handshake`: registers a user token for the client's IP and hands out a server token. */
import type { HandshakeResult } from '../../protocol/wss.js';
import { isRecord } from '../../protocol/guards.js';
import { WSS_ERRORS } from './messages.js';
import { readUserToken } from './params.js';
import { failure, success, type MethodHandler } from './state.js';

export const handleHandshake: MethodHandler = (params, call, state) => {
  const { registry, options, logger } = state;
  if (call.transport === 'socket' && options.httpOnlyHandshake) return failure(WSS_ERRORS.handshakeHttpOnly);
  if (!isRecord(params)) return failure(WSS_ERRORS.badUserToken);
  const token = readUserToken(params);
  if (!token.ok) return failure(token.error);
  if (registry.findHandshake(call.ipKey, token.value)) return failure(WSS_ERRORS.tokenExists);
  const count = registry.countForIp(call.ipKey);
  if (count >= options.maxConnectionsPerIp) {
    logger.info(`wss: handshake refused for ${call.ipKey}: ${count} of ${options.maxConnectionsPerIp} in use`);
    return failure(WSS_ERRORS.tooManyConnections, {
      numconnections: count,
      maxconnections: options.maxConnectionsPerIp,
    });
  }
  const record = registry.addHandshake(call.ipKey, token.value, call.conn);
  if (call.conn) {
    call.conn.pendingHandshakes.add(record);
  } else if (options.handshakeTimeout > 0) {
    registry.expireLater(record, options.handshakeTimeout, () =>
      logger.debug(`wss: HTTP handshake from ${call.ipKey} expired without WSS_Connect`),
    );
  }
  const result: HandshakeResult = {
    message: 'accept',
    numconnections: count + 1,
    maxconnections: options.maxConnectionsPerIp,
    peerconnections: registry.sessionCount,
    server_token: record.serverToken,
  };
  return success(result);
};
