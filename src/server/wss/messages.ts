/**
 * Every error the WSS endpoint sends, in one table: JSON-RPC code and exact
 * message text. The texts PROTOCOL.md quotes are the original CypherPoker.JS
 * server's, byte for byte, because clients in the field show or log them, and
 * so are the unknown-method and "rpc:" texts; the rest are this server's own
 * wording (README, "Wire compatibility", lists where the original's differ).
 */
import { WssErrorCodes } from '../../protocol/wss.js';

/** Error codes this server adds to PROTOCOL.md's table. */
export const SERVER_ERROR_CODES = Object.freeze({
  /** A request over the connection's rate limit (`requestRate`, `requestBurst`). */
  RATE_LIMITED: -32005,
});

/** One error as it goes on the wire (`data` is added per call where needed). */
export interface WssErrorEntry {
  readonly code: number;
  readonly message: string;
}

const entry = (code: number, message: string): WssErrorEntry => Object.freeze({ code, message });
const C = WssErrorCodes;

/** The fixed errors of the WSS endpoint. */
export const WSS_ERRORS = Object.freeze({
  // Framing and JSON-RPC 2.0 envelope.
  parse: entry(C.PARSE_ERROR, 'Request empty or malformed.'),
  notAnObject: entry(C.REQUEST_ERROR, 'Request must be a JSON object or an array of JSON objects.'),
  emptyBatch: entry(C.REQUEST_ERROR, 'Batch request is empty.'),
  // batchTooLarge: see batchTooLargeMessage() below (code -32600).
  missingJsonrpc: entry(C.REQUEST_ERROR, 'Missing "jsonrpc" property.'),
  wrongJsonrpc: entry(C.REQUEST_ERROR, 'Expecting JSON-RPC version "2.0" (exactly).'),
  missingMethod: entry(C.REQUEST_ERROR, 'Missing "method" property.'),
  badMethod: entry(C.REQUEST_ERROR, 'Property "method" must be a non-empty string.'),
  badId: entry(C.REQUEST_ERROR, 'Property "id" must be a string, a number or null.'),
  badParams: entry(C.REQUEST_ERROR, 'Property "params" must be an object or an array.'),
  tooLarge: entry(C.REQUEST_ERROR, "Request body exceeds the server's size limit (maxPayload)."),
  systemExtension: entry(C.REQUEST_ERROR, 'System extensions ("rpc:") are not implemented.'),
  rateLimited: entry(
    SERVER_ERROR_CODES.RATE_LIMITED,
    'Too many requests on this connection (requestRate / requestBurst); slow down and retry.',
  ),
  internal: entry(C.INTERNAL_ERROR, 'An internal server error occurred while processing your request.'),

  // Method-independent parameter checks.
  paramsNotObject: entry(C.INVALID_PARAMS_ERROR, 'Parameters must be a JSON object.'),
  // tooDeep: see tooDeepMessage() below (code -32602).

  // WSS_Handshake
  badUserToken: entry(
    C.INVALID_PARAMS_ERROR,
    'Parameter "user_token" must be a non-empty string of at most 256 characters.',
  ),
  tokenExists: entry(C.SESSION_CLOSE, 'User token already exists for your IP.'),
  tooManyConnections: entry(C.SESSION_CLOSE, 'Too many connections from your IP.'),
  handshakeHttpOnly: entry(C.WRONG_TRANSPORT, 'Session handshake must be made through HTTP / HTTPS service.'),

  // WSS_Connect
  connectNotSocket: entry(C.WRONG_TRANSPORT, 'Session must be created through a WebSocket connection.'),
  badConnectOptions: entry(C.INVALID_PARAMS_ERROR, 'Connection options not supplied or not an object.'),
  noHandshake: entry(C.SESSION_CLOSE, 'Session handshake not established.'),
  socketSessionExists: entry(C.SESSION_CLOSE, 'Socket session exists.'),
  tokenMismatch: entry(C.SESSION_CLOSE, 'Token mismatch.'),
  cannotConnect: entry(C.SESSION_CLOSE, "Socket session can't be established at this time."),

  // WSS_Send
  sendNotSocket: entry(C.WRONG_TRANSPORT, 'Messages must be sent through a WebSocket connection.'),
  sendNoHandshake: entry(C.SESSION_CLOSE, 'Handshake not established.'),
  missingType: entry(C.INVALID_PARAMS_ERROR, 'Message "type" not specified.'),
  unknownType: entry(C.INVALID_PARAMS_ERROR, 'Unrecognized message "type".'),
  missingTo: entry(C.INVALID_PARAMS_ERROR, 'Recipient(s) "to" not specified.'),
  toNotObject: entry(C.INVALID_PARAMS_ERROR, 'Recipient(s) "to" must be an object.'),
  // dataTooLarge: see dataTooLargeMessage() below (code -32602).
  rcpNotArray: entry(C.INVALID_PARAMS_ERROR, 'Recipient(s) "to.rcp" must be an array.'),
  rcpNotStrings: entry(C.INVALID_PARAMS_ERROR, 'Recipient(s) "to.rcp" must contain only private ID strings.'),
  badExclude: entry(
    C.INVALID_PARAMS_ERROR,
    'Exclusions "exclude" must be an object with an "rcp" array of private ID strings.',
  ),

  // WSS_Session
  sessionNotSocket: entry(C.WRONG_TRANSPORT, 'Session actions must be made through a WebSocket connection.'),
  invalidTokens: entry(C.INVALID_PARAMS_ERROR, 'Invalid tokens.'),
  unknownAction: entry(C.INVALID_PARAMS_ERROR, 'Unrecognized session "action"; expected "setPID" or "getPID".'),
  badPrivateId: entry(
    C.INVALID_PARAMS_ERROR,
    'Parameter "privateID" must be a non-empty string of at most 128 characters without control characters.',
  ),
  privateIdTaken: entry(C.INVALID_PARAMS_ERROR, 'Parameter "privateID" is already in use by another session.'),
  sessionNotEstablished: entry(C.ACTION_DISALLOWED, 'Session not established.'),
});

/** Name of one entry of {@link WSS_ERRORS}. */
export type WssErrorName = keyof typeof WSS_ERRORS;

/** `-32601` text for an unknown method (the legacy server's wording). */
export function methodNotFoundMessage(method: string): string {
  return `Method "${method.slice(0, 64)}" does not exist.`;
}

/** `-32600` text for a batch over the size limit (the original sent -32603 without a message). */
export function batchTooLargeMessage(max: number, got: number): string {
  return `No more than ${max} batched requests allowed. Request has ${got} methods.`;
}

/** `-32602` text for params nested deeper than `maxDepth`. */
export function tooDeepMessage(maxDepth: number): string {
  return `Parameters are nested deeper than the server allows (maxDepth: ${maxDepth} levels).`;
}

/** `-32602` text for `WSS_Send` data whose message to peers would pass `maxPayload`. */
export function dataTooLargeMessage(maxPayload: number, size: number): string {
  return `Parameter "data" is too large: the message to peers would be ${size} bytes, over the server's maxPayload of ${maxPayload} bytes.`;
}
