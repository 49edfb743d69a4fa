/**
 * Server pushes. On the WSS wire a push is `{"jsonrpc":"2.0","result":{...}}`
 * with no `id` member at all (not a JSON-RPC notification), so they are
 * built here rather than by the JSON-RPC library, each serialised and framed
 * once for all of its recipients.
 */
import { Frame } from '../transport/frame.js';
import { RawJson } from '../transport/raw-json.js';

/** A push frame around an already serialised `result` object. */
function pushOf(resultJson: string): Frame {
  return Frame.text(`{"jsonrpc":"2.0","result":${resultJson}}`);
}

/** `session`/`connect`: `optionsJson` is the peer's connect options, serialised once at connect. */
export const connectPush = (privateId: string, optionsJson: string): Frame =>
  pushOf(`{"type":"session","connect":${JSON.stringify(privateId)},"options":${optionsJson}}`);

export const disconnectPush = (privateId: string): Frame =>
  pushOf(JSON.stringify({ type: 'session', disconnect: privateId }));

export const changePush = (oldPrivateID: string, newPrivateID: string): Frame =>
  pushOf(JSON.stringify({ type: 'session', change: { oldPrivateID, newPrivateID } }));

/**
 * A peer message; a missing `data` travels as `null` so the member is always
 * present. Data received over a socket ({@link RawJson}) goes out as the
 * sender's bytes, unparsed; any other value is serialised.
 */
export function messagePush(type: 'broadcast' | 'direct', from: string, data: unknown): Frame {
  if (data instanceof RawJson) {
    return Frame.around(
      `{"jsonrpc":"2.0","result":{"type":"${type}","from":${JSON.stringify(from)},"data":`,
      data.bytes,
      '}}',
    );
  }
  return Frame.text(JSON.stringify({ jsonrpc: '2.0', result: { type, from, data: data === undefined ? null : data } }));
}
