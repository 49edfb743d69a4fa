/**
 * Runtime validators for everything a WSS client receives. Nothing from the
 * wire reaches the rest of the library before it passes through here.
 */
import { ProtocolError } from '../errors.js';
import { hasOwn, isNonEmptyString, isRecord, isStringArray } from './guards.js';
import type { Push } from './push.js';
import type { ConnectOptions, HandshakeResult, PushMessage, RpcErrorObject, RpcId } from './wss.js';

export type { Push } from './push.js';

/** A validated JSON-RPC response, exactly one of `result` and `error` present. */
export interface Response {
  jsonrpc: '2.0';
  id: RpcId | null;
  result?: unknown;
  error?: RpcErrorObject;
}

/** One validated incoming message: a server push, or a response to a request (which alone has an `id`). */
export type Incoming = Push | Response;

/** A validated `WSS_Connect` result: `options[i]` (maybe missing) belongs to `connect[i]`. */
export interface ConnectResultIn {
  private_id: string;
  connect: string[];
  options: Array<ConnectOptions | null | undefined>;
}

/** The one way validation fails: `ProtocolError` "received <problem>", with the offending input. */
function fail(problem: string, raw: unknown, cause?: unknown): never {
  let frame = raw;
  try {
    if (typeof raw !== 'string') frame = JSON.stringify(raw);
  } catch {
    // A cycle or BigInt: the message alone must do.
  }
  throw new ProtocolError(`received ${problem}`, { cause, frame: frame as string | undefined });
}

/**
 * The text of one WebSocket message.
 * @throws {ProtocolError} when it is binary or over `maxChars`.
 */
export function textFrame(data: unknown, maxChars: number): string {
  if (typeof data !== 'string') fail('a binary frame, not JSON text', undefined);
  if (data.length > maxChars) fail(`a ${data.length}-character frame, over maxFrameSize ${maxChars}`, data);
  return data;
}

/**
 * Parses one text frame into validated messages (a batch gives several).
 * @throws {ProtocolError} when it is not JSON or breaks the protocol.
 */
export function parseFrame(frame: string): Incoming[] {
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch (cause) {
    fail('a frame that is not JSON', frame, cause);
  }
  if (!Array.isArray(value)) return [parseMessage(value)];
  if (!value.length) fail('an empty batch', frame);
  return value.map(parseMessage);
}

/** Validates one JSON-RPC message object. */
export function parseMessage(value: unknown): Incoming {
  if (!isRecord(value) || value.jsonrpc !== '2.0') fail('a message that is not a JSON-RPC 2.0 object', value);
  const { id, result, error } = value;
  // PROTOCOL.md: a push has a result with a type and no `id` member at all.
  if (!hasOwn(value, 'id')) {
    if (isRecord(result) && typeof result.type === 'string') return parsePush(value as unknown as PushMessage);
    fail('a message with neither id nor result.type', value);
  }
  const isError = hasOwn(value, 'error');
  if (
    (id !== null && typeof id !== 'string' && typeof id !== 'number') ||
    hasOwn(value, 'result') === isError ||
    (isError && !(isRecord(error) && Number.isInteger(error.code) && typeof error.message === 'string'))
  ) {
    fail('a response that is not {id, result} or {id, error: {code, message}}', value);
  }
  return value as unknown as Response;
}

/** Validates the `result` of a push. */
export function parsePush(raw: PushMessage): Push {
  const r = raw.result as unknown as Record<string, unknown>;
  const { type, from, data, connect, disconnect, options } = r;
  if (type === 'session') {
    if (isNonEmptyString(connect) && isRecord(options))
      return { event: 'peerconnect', payload: { privateId: connect, options, raw } };
    if (isNonEmptyString(disconnect)) return { event: 'peerdisconnect', payload: { privateId: disconnect, raw } };
    // The server nests the ids under `change`; the 0.4.1 client read them flat under `result`.
    const { oldPrivateID, newPrivateID } = isRecord(r.change) ? r.change : r;
    if (
      connect === undefined &&
      disconnect === undefined &&
      isNonEmptyString(oldPrivateID) &&
      isNonEmptyString(newPrivateID)
    ) {
      return { event: 'peerpid', payload: { oldPrivateId: oldPrivateID, newPrivateId: newPrivateID, raw } };
    }
    fail('a session push that is not connect+options, disconnect or change', raw);
  }
  const update = type === 'update';
  if (!update && type !== 'broadcast' && type !== 'direct')
    fail(`a push of unknown type '${String(type).slice(0, 40)}'`, raw);
  if (!isNonEmptyString(from) && !(update && from === undefined)) fail(`a ${type} push without a string 'from'`, raw);
  return update
    ? { event: 'update', payload: from === undefined ? { data, raw } : { from, data, raw } }
    : { event: 'message', payload: { type, from: from as string, data, raw } };
}

/** The one way a result fails: names the method and the shape it needs. */
function check(ok: unknown, method: string, shape: string, result: unknown): asserts ok {
  if (!ok) fail(`a ${method} result that is not ${shape}`, result);
}

const COUNTS = ['numconnections', 'maxconnections', 'peerconnections'];

/** Validates a `WSS_Handshake` result. */
export function parseHandshakeResult(result: unknown): HandshakeResult {
  const r = result as Record<string, unknown>;
  check(
    isRecord(r) &&
      isNonEmptyString(r.server_token) &&
      COUNTS.every((k) => r[k] === undefined || typeof r[k] === 'number'),
    'WSS_Handshake',
    '{server_token: string, *connections?: number}',
    result,
  );
  return r as unknown as HandshakeResult;
}

/** Validates a `WSS_Connect` result; a missing peer list means no peers. */
export function parseConnectResult(result: unknown): ConnectResultIn {
  const { private_id, connect = [], options = [] } = isRecord(result) ? result : {};
  check(
    isNonEmptyString(private_id) &&
      isStringArray(connect) &&
      Array.isArray(options) &&
      options.every((o) => o == null || isRecord(o)),
    'WSS_Connect',
    '{private_id: string, connect?: string[], options?: object[]}',
    result,
  );
  return { private_id, connect, options } as ConnectResultIn;
}

/** Validates a `WSS_Session` result; gives its private ID. */
export function parseSessionResult(result: unknown): string {
  const id = isRecord(result) ? result.privateID : undefined;
  check(isNonEmptyString(id), 'WSS_Session', '{privateID: string}', result);
  return id;
}

/** Validates a `WSS_Send` result: an object (the legacy server says `{message: "ok"}`). */
export function parseSendResult(result: unknown): void {
  check(isRecord(result), 'WSS_Send', 'an object', result);
}
