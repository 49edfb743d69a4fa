import { assertBytes, toBufferSource } from './bytes.js';
import { getSubtle } from './env.js';

/**
 * SHA-256 digest (32 bytes).
 *
 * @example
 * const digest = await sha256(utf8Encode(`${serverToken}:${userToken}`));
 */
export async function sha256(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  assertBytes(data, 'sha256 input');
  return new Uint8Array(await getSubtle().digest('SHA-256', toBufferSource(data)));
}
