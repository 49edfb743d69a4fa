/**
 * Runtime validators for everything a WSS client receives. Nothing from the
 * wire reaches the rest of the library before it passes through here.
 */
import { ProtocolError } from '../errors.js';
import { hasOwn, isNonEmptyString, isRecord, isStringArray } from './guards.js';
import type { Push } from './push.js';
import type { ConnectOptions, ConnectResult, HandshakeResult, PushMessage, RpcErrorObject, RpcId, SessionResult } from './wss.js';

export type { Push } from './push.js';

/** A validated JSON-RPC response. */
export type Response =
  | { kind: 'result'; id: RpcId | null; result: unknown }
  | { kind: 'error'; id: RpcId | null; error: RpcErrorObject };

/** One validated incoming message. */
export type Incoming = { kind: 'push'; push: Push } | { kind: 'response'; response: Response };

const fail = (message: string, raw?: unknown): never => {
  throw new ProtocolError(message, { frame: raw === undefined ? undefined : safeStringify(raw) });
};

function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)?.slice(0, 200);
  } catch {
    return undefined;
  }
}

/**
 * Parses one text frame into validated messages (a batch gives several).
 * @throws {ProtocolError} when the frame is not JSON or breaks the protocol.
 */
export function parseFrame(frame: string): Incoming[] {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch (cause) {
    throw new ProtocolError('received a frame that is not JSON', { cause, frame });
  }
  if (Array.isArray(value)) {
    if (value.length === 0) fail('received an empty JSON-RPC batch', value);
    return value.map(parseMessage);
  }
  return [parseMessage(value)];
}

/** Validates one JSON-RPC message object. */
export function parseMessage(value: unknown): Incoming {
  if (!isRecord(value) || value.jsonrpc !== '2.0') return fail('received a message that is not a JSON-RPC 2.0 object', value);
  // PROTOCOL.md: a push has a result with a type and no `id` member at all.
  if (!hasOwn(value, 'id')) {
    if (isRecord(value.result) && typeof value.result.type === 'string') {
      return { kind: 'push', push: parsePush(value as unknown as PushMessage) };
    }
    return fail('received a message with no id that is not a session push (result.type missing)', value);
  }
  return { kind: 'response', response: parseResponse(value) };
}

function parseResponse(value: Record<string, unknown>): Response {
  const id = value.id;
  if (id !== null && typeof id !== 'string' && typeof id !== 'number') return fail('received a response whose id is not a string, number or null', value);
  const hasResult = hasOwn(value, 'result');
  const hasError = hasOwn(value, 'error');
  if (hasResult === hasError) return fail('received a response with both or neither of result and error', value);
  if (hasResult) return { kind: 'result', id, result: value.result };
  const error = value.error;
  if (!isRecord(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
    return fail('received an error response whose error is not {code: integer, message: string}', value);
  }
  const out: RpcErrorObject = { code: error.code as number, message: error.message };
  if (hasOwn(error, 'data')) out.data = error.data;
  return { kind: 'error', id, error: out };
}

/** Validates the `result` of a push. */
export function parsePush(raw: PushMessage): Push {
  const r = raw.result as unknown as Record<string, unknown>;
  switch (r.type) {
    case 'broadcast':
    case 'direct':
      if (!isNonEmptyString(r.from)) return fail(`received a ${r.type} push without a string 'from'`, raw);
      return { event: 'message', payload: { type: r.type, from: r.from, data: r.data, raw } };
    case 'update':
      if (r.from !== undefined && !isNonEmptyString(r.from)) return fail("received an update push whose 'from' is not a string", raw);
      return { event: 'update', payload: r.from === undefined ? { data: r.data, raw } : { from: r.from, data: r.data, raw } };
    case 'session':
      return parseSessionPush(r, raw);
    default:
      return fail(`received a push of unknown type '${String(r.type).slice(0, 40)}'`, raw);
  }
}

function parseSessionPush(r: Record<string, unknown>, raw: PushMessage): Push {
  if (typeof r.connect === 'string') {
    if (!isNonEmptyString(r.connect) || !isRecord(r.options)) return fail('received a session connect push without a private id and an options object', raw);
    return { event: 'peerconnect', payload: { privateId: r.connect, options: r.options, raw } };
  }
  if (typeof r.disconnect === 'string') {
    if (!isNonEmptyString(r.disconnect)) return fail('received a session disconnect push with an empty private id', raw);
    return { event: 'peerdisconnect', payload: { privateId: r.disconnect, raw } };
  }
  // The server nests the ids under `change`; the 0.4.1 client read them flat under `result`.
  const change = isRecord(r.change) ? r.change : r;
  if (isNonEmptyString(change.oldPrivateID) && isNonEmptyString(change.newPrivateID)) {
    return { event: 'peerpid', payload: { oldPrivateId: change.oldPrivateID, newPrivateId: change.newPrivateID, raw } };
  }
  return fail('received a session push that is none of connect, disconnect or change', raw);
}

/** Validates a `WSS_Handshake` result. */
export function parseHandshakeResult(result: unknown): HandshakeResult {
  if (!isRecord(result) || !isNonEmptyString(result.server_token)) return fail('WSS_Handshake result has no server_token string', result);
  for (const key of ['numconnections', 'maxconnections', 'peerconnections'] as const) {
    if (result[key] !== undefined && typeof result[key] !== 'number') return fail(`WSS_Handshake result member '${key}' is not a number`, result);
  }
  return result as unknown as HandshakeResult;
}

/** Validates a `WSS_Connect` result; a missing peer list means no peers. */
export function parseConnectResult(result: unknown): ConnectResult {
  if (!isRecord(result) || !isNonEmptyString(result.private_id)) return fail('WSS_Connect result has no private_id string', result);
  const connect = result.connect ?? [];
  const options = result.options ?? [];
  if (!isStringArray(connect)) return fail("WSS_Connect result member 'connect' is not an array of private ids", result);
  if (!Array.isArray(options) || !options.every((o) => o === null || o === undefined || isRecord(o))) {
    return fail("WSS_Connect result member 'options' is not an array of objects", result);
  }
  return {
    message: 'open',
    private_id: result.private_id,
    connect,
    options: connect.map((_, i) => (options[i] as ConnectOptions | null | undefined) ?? {}),
  };
}

/** Validates a `WSS_Session` result. */
export function parseSessionResult(result: unknown): SessionResult {
  if (!isRecord(result) || !isNonEmptyString(result.privateID)) return fail('WSS_Session result has no privateID string', result);
  return { privateID: result.privateID };
}

/** Validates a `WSS_Send` result (an object; the legacy server says `{message: "ok"}`). */
export function parseSendResult(result: unknown): { message: string } {
  if (!isRecord(result)) return fail('WSS_Send result is not an object', result);
  return { message: String(result.message ?? '') };
}
