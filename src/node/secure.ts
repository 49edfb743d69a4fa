/** `wss-sessions/secure` for Node: the same exports, with Node's base64 and WebSocket (see ./setup.ts). @packageDocumentation */
import './setup.js';
export * from '../secure/index.js';
