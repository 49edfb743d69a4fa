import type {
  MessageEvent,
  PeerConnectEvent,
  PeerDisconnectEvent,
  PeerPidEvent,
  UpdateEvent,
} from '../protocol/push.js';

export type { MessageEvent, PeerConnectEvent, PeerDisconnectEvent, PeerPidEvent, UpdateEvent };

/** Connection state of a {@link WSSClient}. */
export type ClientState = 'disconnected' | 'connecting' | 'connected' | 'disconnecting';

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
  /**
   * On `'connected'`, `peers`, `privateId` and the tokens already hold the
   * `WSS_Connect` result; pushes that arrived meanwhile are emitted right after.
   */
  state: (event: StateEvent) => void;
  close: (event: CloseEvent) => void;
  /** Bad input from the network (`ProtocolError`) and other failures that have no caller to reject. */
  error: (error: Error) => void;
}
