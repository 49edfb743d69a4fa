import type { ConnectOptions, PushMessage } from '../protocol/wss.js';

/** Connection state of a {@link WSSClient}. */
export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

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

/** This session's private ID changed. */
export interface PrivateIdEvent {
  privateId: string;
}

/** The connection state changed. */
export interface StateEvent {
  state: ClientState;
  previous: ClientState;
}

/** The socket closed. */
export interface CloseEvent {
  code: number;
  reason: string;
  /** True when `disconnect()` asked for the close. */
  requested: boolean;
}

/** Events of {@link WSSClient}: one payload object each. */
export interface WSSClientEvents {
  message: (event: MessageEvent) => void;
  update: (event: UpdateEvent) => void;
  peerconnect: (event: PeerConnectEvent) => void;
  peerdisconnect: (event: PeerDisconnectEvent) => void;
  peerpid: (event: PeerPidEvent) => void;
  privateid: (event: PrivateIdEvent) => void;
  state: (event: StateEvent) => void;
  close: (event: CloseEvent) => void;
  /** Bad input from the network (`ProtocolError`) and other failures that have no caller to reject. */
  error: (error: Error) => void;
}
