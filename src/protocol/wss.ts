/**
 * WebSocket Sessions (WSS) wire types: the JSON-RPC 2.0 methods, results,
 * server pushes and error codes of PROTOCOL.md §1, exactly as they travel.
 */

/** JSON-RPC error codes used by WSS servers. */
export const WssErrorCodes = {
  PARSE_ERROR: -32700,
  REQUEST_ERROR: -32600,
  METHOD_NOT_FOUND_ERROR: -32601,
  INVALID_PARAMS_ERROR: -32602,
  INTERNAL_ERROR: -32603,
  SESSION_CLOSE: -32001,
  WRONG_TRANSPORT: -32002,
  ACTION_DISALLOWED: -32003,
  AUTH_FAILED: -32004,
} as const;

/** One of the {@link WssErrorCodes} values. */
export type WssErrorCodeNumber = (typeof WssErrorCodes)[keyof typeof WssErrorCodes];

/** The WSS method names. */
export const WssMethods = {
  HANDSHAKE: 'WSS_Handshake',
  CONNECT: 'WSS_Connect',
  SEND: 'WSS_Send',
  SESSION: 'WSS_Session',
} as const;

/** A JSON-RPC request id as WSS clients send it (the legacy client uses strings). */
export type RpcId = string | number;

/** Connection options published with `WSS_Connect` and relayed verbatim to peers. */
export interface ConnectOptions {
  wss?: boolean;
  webrtc?: boolean;
  ortc?: boolean;
  /** Servers store and relay the whole object, so applications may add members. */
  [key: string]: unknown;
}

/** `WSS_Handshake` params. */
export interface HandshakeParams {
  user_token: string;
}

/** `WSS_Handshake` result. */
export interface HandshakeResult {
  message: 'accept';
  numconnections: number;
  maxconnections: number;
  peerconnections: number;
  server_token: string;
}

/** Tokens every post-handshake request carries. */
export interface SessionTokens {
  user_token: string;
  server_token: string;
}

/** `WSS_Connect` params. */
export interface ConnectParams extends SessionTokens {
  options: ConnectOptions;
}

/** `WSS_Connect` result: `options[i]` belongs to `connect[i]`. */
export interface ConnectResult {
  message: 'open';
  private_id: string;
  connect: string[];
  options: ConnectOptions[];
}

/** Recipient list as WSS puts it on the wire. */
export interface RecipientList {
  rcp: string[];
}

/** `WSS_Send` params for a broadcast. */
export interface BroadcastParams extends SessionTokens {
  type: 'broadcast';
  data: unknown;
  exclude?: RecipientList;
}

/** `WSS_Send` params for a direct message. */
export interface DirectParams extends SessionTokens {
  type: 'direct';
  to: RecipientList;
  data: unknown;
}

/** `WSS_Send` result. */
export interface SendResult {
  message: 'ok';
}

/** `WSS_Session` params. */
export type SessionParams =
  | (SessionTokens & { action: 'setPID'; privateID: string })
  | (SessionTokens & { action: 'getPID' });

/** `WSS_Session` result. */
export interface SessionResult {
  privateID: string;
}

/** The `result` of a server push (a message with `result.type` and no `id`). */
export type PushResult =
  | { type: 'broadcast'; from: string; data: unknown }
  | { type: 'direct'; from: string; data: unknown }
  | { type: 'update'; data: unknown; from?: string }
  | { type: 'session'; connect: string; options: ConnectOptions }
  | { type: 'session'; disconnect: string }
  | { type: 'session'; change: { oldPrivateID: string; newPrivateID: string } };

/** A server push as it arrives: `{"jsonrpc":"2.0","result":{...}}`, no `id`. */
export interface PushMessage {
  jsonrpc: '2.0';
  result: PushResult;
}

/** A JSON-RPC error object. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** A JSON-RPC response (success or error). */
export type RpcResponse =
  | { jsonrpc: '2.0'; id: RpcId | null; result: unknown }
  | { jsonrpc: '2.0'; id: RpcId | null; error: RpcErrorObject };

/** A JSON-RPC request. */
export interface RpcRequest {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
  id?: RpcId | null;
}
