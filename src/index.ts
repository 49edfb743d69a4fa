/**
 * `wss-sessions`: a typed client for WebSocket Sessions (JSON-RPC 2.0) servers.
 * @packageDocumentation
 */
export { WSSClient } from './client/wss-client.js';
export type { ConnectInfo, ConnectCallOptions, BroadcastOptions, RawRequestOptions } from './client/wss-client.js';
export { wssClientDefaults } from './client/options.js';
export type { WSSClientOptions } from './client/options.js';
export type * from './client/events.js';
export type { RequestOptions } from './transport/rpc-channel.js';
export type { WebSocketConstructor, WebSocketLike } from './transport/websocket-like.js';
export type { FetchFunction } from './transport/http.js';
export * from './errors.js';
export * from './protocol/wss.js';
export type { Logger } from './util/logger.js';
