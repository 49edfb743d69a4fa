/** `WSS_Handshake`: registers a user token for the client's IP and hands out a server token. */
import { randomBytes } from 'node:crypto';
import type { HandshakeResult } from '../../protocol/wss.js';
import { isRecord } from '../../protocol/guards.js';
import { WSS_ERRORS } from './messages.js';
import { readUserToken } from './params.js';
import { failure, success, type MethodHandler } from './state.js';

export const handleHandshake: MethodHandler = async (params, call, state) => {
  const { broker, options, logger } = state;
  if (call.transport === 'socket' && options.httpOnlyHandshake) return failure(WSS_ERRORS.handshakeHttpOnly);
  if (!isRecord(params)) return failure(WSS_ERRORS.badUserToken);
  const token = readUserToken(params);
  if (!token.ok) return failure(token.error);
  const serverToken = randomBytes(32).toString('hex');
  const opened = await broker.openHandshake({
    ipKey: call.ipKey,
    userToken: token.value,
    serverToken,
    maxPerIp: options.maxConnectionsPerIp,
    ttlMs: options.handshakeTimeout,
  });
  if (!opened.ok && opened.reason === 'exists') return failure(WSS_ERRORS.tokenExists);
  if (!opened.ok) {
    logger.info(`wss: handshake refused for ${call.ipKey}: ${opened.perIp} of ${options.maxConnectionsPerIp} in use`);
    return failure(WSS_ERRORS.tooManyConnections, {
      numconnections: opened.perIp,
      maxconnections: options.maxConnectionsPerIp,
    });
  }
  if (call.conn) {
    call.conn.pendingHandshakes ??= new Set();
    call.conn.pendingHandshakes.add(token.value);
  }
  state.metrics.handshakes++;
  const result: HandshakeResult = {
    message: 'accept',
    numconnections: opened.perIp,
    maxconnections: options.maxConnectionsPerIp,
    // The original server's count: every record (the new one included) for an IP's first record,
    // else that IP's records (its code shadows the total with the per-IP count there).
    peerconnections: opened.perIp === 1 ? opened.total : opened.perIp,
    server_token: serverToken,
  };
  return success(result);
};
