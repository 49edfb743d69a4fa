/**
 * `wss-sessions/secure`: end-to-end encrypted peer sessions over any WebSocket
 * Sessions server, with reconnect and session restore. Keys travel in the
 * `WSS_Connect` options, so the server needs no change.
 *
 * @example
 * import { SecureSession } from 'wss-sessions/secure';
 * const s = new SecureSession({ url: 'ws://127.0.0.1:8090', info: 'my-app-e2e' });
 * s.on('message', ({ type, from, data }) => console.log(type, from, data));
 * s.on('decrypt_error', ({ reason, from }) => console.warn('dropped', reason, 'from', from));
 * await s.connect();
 * await s.broadcast({ text: 'hello' }, { exclude: [] });
 * @packageDocumentation
 */
export { SecureSession } from './secure-session.js';
export type {
  SecureConnectInfo,
  SecureConnectOptions,
  SecureBroadcastOptions,
  SecureSendOptions,
  BroadcastResult,
  DeliveredBroadcast,
} from './secure-session.js';
export type { RequestHandler, RequestContext, PeerRequestOptions } from './requests.js';
export { secureSessionDefaults, backoffDelay } from './options.js';
export type { SecureSessionOptions, ReconnectOptions, ResolvedReconnect, PeerIdentityInfo } from './options.js';
export type * from './events.js';
export type { E2eAdvert } from './scheme.js';
export { identityFingerprint } from './scheme.js';
export { generateSigningKeyPair, exportVerifyKeyRaw } from '../crypto/signing.js';
export type { WSSClientOptions } from '../client/options.js';
export type { CloseEvent, UpdateEvent, ClientState } from '../client/events.js';
export type { RequestOptions } from '../transport/rpc-channel.js';
export * from '../errors.js';
