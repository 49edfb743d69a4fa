/** The events of the 0.4.1 client, built from the typed client's events. */
import type { ConnectOptions } from '../src/protocol/wss.js';
import { setEventTarget } from './event-dispatcher.js';

/** `result` of a server push as the old events carried it; which members exist depends on `type`. */
export interface LegacyPushResult {
  type: string;
  from?: string;
  data?: unknown;
  connect?: string;
  disconnect?: string;
  options?: ConnectOptions;
  change?: { oldPrivateID: string; newPrivateID: string };
}

/** A parsed JSON-RPC push, as `event.data` of the old events. */
export interface LegacyPushData {
  jsonrpc: '2.0';
  result: LegacyPushResult;
}

/** `message`, `update`, `peerconnect`, `peerdisconnect`: `data` is the push as received. */
export type LegacyPushEvent = Event & { readonly data: LegacyPushData };

/** `peerpid`: the push plus the peer's old and new private ID. */
export type LegacyPeerPidEvent = LegacyPushEvent & { readonly oldPrivateID: string; readonly newPrivateID: string };

/** `privateid`: this session's new private ID. */
export type LegacyPrivateIdEvent = Event & { readonly privateID: string };

/** `close`: the socket closed without `disconnect()` being called. */
export type LegacyCloseEvent = Event & { readonly code: number; readonly reason: string };

/** `error`: bad input from the network; the connection stays up. */
export type LegacyErrorEvent = Event & { readonly error: Error };

/** Event types of the compatibility client and their event objects. */
export interface LegacyEventMap {
  message: LegacyPushEvent;
  update: LegacyPushEvent;
  peerconnect: LegacyPushEvent;
  peerdisconnect: LegacyPushEvent;
  peerpid: LegacyPeerPidEvent;
  privateid: LegacyPrivateIdEvent;
  close: LegacyCloseEvent;
  error: LegacyErrorEvent;
}

/** A plain `Event` of `type` carrying `props` as own properties, as the old client built them. */
export function legacyEvent<T extends Event>(type: string, props: Omit<T, keyof Event>): T {
  return Object.assign(new Event(type), props) as T;
}

/** A JSON-RPC response in the shape the old `RPC` helper resolved with. */
export type LegacyResponse =
  | { jsonrpc: '2.0'; id: string | number | null; result: unknown }
  | { jsonrpc: '2.0'; id: string | number | null; error: { code: number; message: string; data?: unknown } };

/** What `connect`, `broadcast`, `send` and `request` resolve with: a `message` event whose `data` is the response's JSON text. */
export type LegacyResultEvent = MessageEvent<string>;

/**
 * A `message` event carrying `response` as JSON text, so that `JSON.parse(result.data)` works
 * as it did; `target` is the socket the response came in on.
 */
export function responseEvent(response: LegacyResponse, socket: unknown): LegacyResultEvent {
  const event = new MessageEvent('message', { data: JSON.stringify(response) });
  setEventTarget(event, socket);
  return event;
}
