/**
 * `wss-sessions`: a typed client for WebSocket Sessions (JSON-RPC 2.0) servers.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './protocol/wss.js';
export type { Logger } from './util/logger.js';
