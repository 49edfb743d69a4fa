/**
 * `wss-sessions/legacy`: a drop-in replacement for the 0.4.1 `WSSClient` class,
 * built on the typed client. See legacy-compat/README.md for the migration guide.
 *
 * @example
 * import { WSSClient } from 'wss-sessions/legacy';
 * const client = new WSSClient('ws://127.0.0.1:8090');
 * await client.connect();
 * @packageDocumentation
 */
export { WSSClient } from './wss-client-compat.js';
export type {
  LegacyClientEnvironment,
  LegacyConnectData,
  LegacyRecipients,
  LegacyRequest,
} from './wss-client-compat.js';
export { EventDispatcher } from './event-dispatcher.js';
export type { LegacyListener, ListenerErrorHandler } from './event-dispatcher.js';
export type * from './events.js';
