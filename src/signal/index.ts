/**
 * `wss-sessions/signal`: the client of the Signal encrypted event protocol
 * (PROTOCOL.md §2) — the original `EncryptedWebSocketClient` API, hardened
 * against downgrade, replay and reflection, with optional server
 * authentication.
 *
 * @example
 * import { EncryptedWebSocketClient } from 'wss-sessions/signal';
 * const client = new EncryptedWebSocketClient({ url, ecdhInfo: 'app-v1', token: jwt });
 * client.on('payment.success', (data) => console.log(data));
 * await client.connect();
 * await client.send('order.create', { items: [] });
 * client.destroy();
 * @packageDocumentation
 */
export { EncryptedWebSocketClient } from './client.js';
export type { SignalClientEvents } from './events.js';
export {
  type IEncryptedWSClientOptions,
  type IReconnectOptions,
  signalClientDefaults,
} from './options.js';
export {
  type TConnectionState,
  type IWSLogger,
  type TEventHandler,
  type TStateChangeHandler,
  type ISignalConnectedData,
  type ISignalConnectOptions,
  type ISignalSendOptions,
  CONTROL_EVENTS,
} from './types.js';
export { reconnectDelay } from './backoff.js';
export { ReplayGuard } from './replay-guard.js';
export { signalTranscript } from './handshake.js';
export type { WebSocketConstructor, WebSocketLike } from '../transport/websocket.js';
export {
  WssError,
  AbortError,
  AuthenticationError,
  ConnectionClosedError,
  DecryptError,
  InvalidArgumentError,
  InvalidStateError,
  KeyFormatError,
  NotConnectedError,
  ProtocolError,
  QueueFullError,
  ReplayError,
  TimeoutError,
} from '../errors.js';
