/** The private ID of a session, as PROTOCOL.md defines it. */
import { createHash } from 'node:crypto';

/**
 * Lowercase hex SHA-256 of `server_token + ":" + user_token`. Synchronous
 * (node:crypto, not WebCrypto): it costs no turn of the event loop.
 */
export function derivePrivateId(serverToken: string, userToken: string): string {
  return createHash('sha256').update(`${serverToken}:${userToken}`, 'utf8').digest('hex');
}
