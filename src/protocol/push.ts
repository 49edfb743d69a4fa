/**
 * Server pushes in the library's own terms: each is the name of the client
 * event it becomes and that event's payload, so the client only emits it.
 */
import type { ConnectOptions, PushMessage } from './wss.js';

/** A peer's broadcast or direct message. */
export interface MessageEvent {
  type: 'broadcast' | 'direct';
  /** Sender's private ID at the time it sent. */
  from: string;
  data: unknown;
  /** The JSON-RPC push as received. */
  raw: PushMessage;
}

/** A server-originated update. */
export interface UpdateEvent {
  from?: string;
  data: unknown;
  raw: PushMessage;
}

/** A peer connected. */
export interface PeerConnectEvent {
  privateId: string;
  /** The peer's `WSS_Connect` options, as it published them. */
  options: ConnectOptions;
  raw: PushMessage;
}

/** A peer's socket closed. */
export interface PeerDisconnectEvent {
  privateId: string;
  raw: PushMessage;
}

/** A peer changed its private ID. */
export interface PeerPidEvent {
  oldPrivateId: string;
  newPrivateId: string;
  raw: PushMessage;
}

/** A validated server push: the client event it becomes, with its payload. */
export type Push =
  | { event: 'message'; payload: MessageEvent }
  | { event: 'update'; payload: UpdateEvent }
  | { event: 'peerconnect'; payload: PeerConnectEvent }
  | { event: 'peerdisconnect'; payload: PeerDisconnectEvent }
  | { event: 'peerpid'; payload: PeerPidEvent };
