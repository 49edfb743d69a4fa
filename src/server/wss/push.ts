/**
 * Server pushes. On the WSS wire a push is `{"jsonrpc":"2.0","result":{...}}`
 * with no `id` member at all (not a JSON-RPC notification), so they are
 * built here rather than by the JSON-RPC library.
 */
import type { PushResult } from '../../protocol/wss.js';

/** Serialises one push frame. */
export function pushFrame(result: PushResult): string {
  return JSON.stringify({ jsonrpc: '2.0', result });
}

export const connectPush = (privateId: string, options: Record<string, unknown>): string =>
  pushFrame({ type: 'session', connect: privateId, options });

export const disconnectPush = (privateId: string): string => pushFrame({ type: 'session', disconnect: privateId });

export const changePush = (oldPrivateID: string, newPrivateID: string): string =>
  pushFrame({ type: 'session', change: { oldPrivateID, newPrivateID } });

/** A peer message; a missing `data` travels as `null` so the member is always present. */
export const messagePush = (type: 'broadcast' | 'direct', from: string, data: unknown): string =>
  pushFrame({ type, from, data: data === undefined ? null : data });
