/**
 * Runtime validators for everything a WSS client receives. Nothing from the
 * wire reaches the rest of the library before it passes through here.
 */
import { ProtocolError } from '../errors.js';
import { hasOwn, isNonEmptyString, isRecord, isStringArray } from './guards.js';
import type { Push } from './push.js';
import type { ConnectOptions, ConnectResult, HandshakeResult, PushMessage, RpcErrorObject, RpcId, SessionResult } from './wss.js';

export type { Push } from './push.js';

/** A validated JSON-RPC response, exactly one of `result` and `error` present. */
export interface Response {
  jsonrpc: '2.0';
  id: RpcId | null;
  result?: unknown;
  error?: RpcErrorObject;
}

/** One validated incoming message: a server push, or a response to a request. */
export type Incoming = { push: Push; response?: undefined } | { response: Response; push?: undefined };

function fail(problem: string, raw?: unknown): never {
  let frame: string | undefined;
  try {
    frame = JSON.stringify(raw);
  } catch {
    // A cycle or BigInt: the message alone must do.
  }
  throw new ProtocolError(`received ${problem}`, { frame });
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
  if (!Array.isArray(value)) return [parseMessage(value)];
  if (value.length === 0) fail('an empty JSON-RPC batch', value);
  return value.map(parseMessage);
}

/** Validates one JSON-RPC message object. */
export function parseMessage(value: unknown): Incoming {
  if (!isRecord(value) || value.jsonrpc !== '2.0') fail('a message that is not a JSON-RPC 2.0 object', value);
  // PROTOCOL.md: a push has a result with a type and no `id` member at all.
  if (hasOwn(value, 'id')) return { response: parseResponse(value) };
  if (isRecord(value.result) && typeof value.result.type === 'string') return { push: parsePush(value as unknown as PushMessage) };
  return fail('a message with neither an id nor a push type (result.type)', value);
}

function parseResponse(value: Record<string, unknown>): Response {
  const { id, error } = value;
  if (id !== null && typeof id !== 'string' && typeof id !== 'number') fail('a response whose id is not a string, number or null', value);
  if (hasOwn(value, 'result') === hasOwn(value, 'error')) fail('a response with both or neither of result and error', value);
  if (!hasOwn(value, 'error')) return { jsonrpc: '2.0', id, result: value.result };
  if (!isRecord(error) || !Number.isInteger(error.code) || typeof error.message !== 'string') {
    fail('an error response whose error is not {code: integer, message: string}', value);
  }
  const out: RpcErrorObject = { code: error.code as number, message: error.message };
  if (hasOwn(error, 'data')) out.data = error.data;
  return { jsonrpc: '2.0', id, error: out };
}

/** Validates the `result` of a push. */
export function parsePush(raw: PushMessage): Push {
  const r = raw.result as unknown as Record<string, unknown>;
  const { type, from, data } = r;
  if (type === 'broadcast' || type === 'direct') {
    if (!isNonEmptyString(from)) fail(`a ${type} push without a string 'from'`, raw);
    return { event: 'message', payload: { type, from, data, raw } };
  }
  if (type === 'update') {
    if (from === undefined) return { event: 'update', payload: { data, raw } };
    if (!isNonEmptyString(from)) fail("an update push whose 'from' is not a string", raw);
    return { event: 'update', payload: { from, data, raw } };
  }
  if (type === 'session') return parseSessionPush(r, raw);
  return fail(`a push of unknown type '${String(type).slice(0, 40)}'`, raw);
}

function parseSessionPush(r: Record<string, unknown>, raw: PushMessage): Push {
  const { connect, disconnect, options } = r;
  if (isNonEmptyString(connect) && isRecord(options)) return { event: 'peerconnect', payload: { privateId: connect, options, raw } };
  if (isNonEmptyString(disconnect)) return { event: 'peerdisconnect', payload: { privateId: disconnect, raw } };
  // The server nests the ids under `change`; the 0.4.1 client read them flat under `result`.
  const change = isRecord(r.change) ? r.change : r;
  const { oldPrivateID, newPrivateID } = change;
  if (connect === undefined && disconnect === undefined && isNonEmptyString(oldPrivateID) && isNonEmptyString(newPrivateID)) {
    return { event: 'peerpid', payload: { oldPrivateId: oldPrivateID, newPrivateId: newPrivateID, raw } };
  }
  return fail('a session push that is none of connect (with an options object), disconnect or change', raw);
}

/** Checks that `result` is an object whose member `key` is a non-empty string. */
function withString(method: string, result: unknown, key: string): Record<string, unknown> {
  if (!isRecord(result) || !isNonEmptyString(result[key])) fail(`a ${method} result without a '${key}' string`, result);
  return result as Record<string, unknown>;
}

/** Validates a `WSS_Handshake` result. */
export function parseHandshakeResult(result: unknown): HandshakeResult {
  const r = withString('WSS_Handshake', result, 'server_token');
  for (const key of ['numconnections', 'maxconnections', 'peerconnections']) {
    if (r[key] !== undefined && typeof r[key] !== 'number') fail(`a WSS_Handshake result whose '${key}' is not a number`, result);
  }
  return r as unknown as HandshakeResult;
}

/** Validates a `WSS_Connect` result; a missing peer list means no peers. */
export function parseConnectResult(result: unknown): ConnectResult {
  const r = withString('WSS_Connect', result, 'private_id');
  const { connect = [], options = [] } = r;
  if (!isStringArray(connect) || !Array.isArray(options) || !options.every((o) => o == null || isRecord(o))) {
    fail("a WSS_Connect result whose 'connect' is not an array of private IDs or 'options' not an array of objects", result);
  }
  return {
    message: 'open',
    private_id: r.private_id as string,
    connect,
    options: connect.map((_, i) => (options[i] as ConnectOptions | null | undefined) ?? {}),
  };
}

/** Validates a `WSS_Session` result. */
export function parseSessionResult(result: unknown): SessionResult {
  return { privateID: withString('WSS_Session', result, 'privateID').privateID as string };
}

/** Validates a `WSS_Send` result: an object (the legacy server says `{message: "ok"}`). */
export function parseSendResult(result: unknown): void {
  if (!isRecord(result)) fail('a WSS_Send result that is not an object', result);
}
