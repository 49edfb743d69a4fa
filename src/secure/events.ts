import type { CloseEvent, ClientState, UpdateEvent } from '../client/events.js';
import type { ConnectOptions, PushMessage } from '../protocol/wss.js';

/** Connection state of a SecureSession: that of `WSSClient` plus `'reconnecting'`. */
export type SecureSessionState = ClientState | 'reconnecting';

/** A peer's message, authenticated and decrypted (or plaintext with `encryption: false`). */
export interface SecureMessageEvent {
  /** What the sender meant: on an encrypted session this comes from the authenticated envelope, not the relay. */
  type: 'broadcast' | 'direct';
  /** The sender's current private ID; on an encrypted session, the peer whose key authenticated the message. */
  from: string;
  data: unknown;
  /** Whether the message was end-to-end encrypted. */
  encrypted: boolean;
  /** The relay's push as received. */
  raw: PushMessage;
}

/** A peer connected (or, after a reconnect, is there again). */
export interface SecurePeerConnectEvent {
  privateId: string;
  /** Its `WSS_Connect` options as published (including its `e2e` key advert). */
  options: ConnectOptions;
}

/** A peer left (or, when this session's socket dropped, is out of reach until the reconnect). */
export interface SecurePeerDisconnectEvent {
  privateId: string;
}

/** A peer changed its private ID. */
export interface SecurePeerPidEvent {
  oldPrivateId: string;
  newPrivateId: string;
}

/** This session's private ID changed (`setPrivateId`, or a reconnect). */
export interface SecurePrivateIdEvent {
  privateId: string;
}

/** The session state changed. */
export interface SecureStateEvent {
  state: SecureSessionState;
  previous: SecureSessionState;
}

/** A peer's key became known or changed. */
export interface PeerKeyEvent {
  privateId: string;
  /** Pair safety number, the same at both ends; `null` when the peer has no usable key. */
  fingerprint: string | null;
  /** `true`: identity signature verified; `false`: identity failed or missing while required (the peer is unusable); `null`: no identity in play. */
  verified: boolean | null;
  /** Safety number of the peer's identity key, when it published one. */
  identityFingerprint: string | null;
  /** The pair safety number this peer had before, when its key changed under the same private ID. */
  previousFingerprint?: string | null;
  /** Why the peer cannot be used for encryption (`AuthenticationError`, `KeyFormatError`); absent when it can. */
  error?: Error;
}

/** Why an incoming message was dropped. */
export type DecryptErrorReason =
  /** Not an envelope on an encrypted session. */
  | 'plaintext'
  /** An envelope whose fields are malformed, or whose decrypted content is not JSON. */
  | 'malformed'
  /** The relay's `from` is not a current peer. */
  | 'unknown-sender'
  /** The envelope holds nothing for this session's key (includes this session's own messages reflected back). */
  | 'not-for-us'
  /** The sender has no usable key (identity check failed, no key published). */
  | 'untrusted-peer'
  /** The counter is not above the last accepted one: replayed, duplicated or reordered. */
  | 'replay'
  /** Authentication failed: tampered, wrong keys, a replaced key, or a `from` that is not the sender. */
  | 'authentication';

/** An incoming message was dropped; no `message` event follows for it. */
export interface DecryptErrorEvent {
  reason: DecryptErrorReason;
  /** The relay's `from` (unauthenticated). */
  from: string;
  /** The relay's push type (unauthenticated). */
  type: 'broadcast' | 'direct';
  /** `ProtocolError` (plaintext, malformed, unknown-sender, not-for-us), the peer's own `AuthenticationError` or `KeyFormatError` (untrusted-peer), `ReplayError` (replay) or `DecryptError` (authentication). */
  error: Error;
  raw: PushMessage;
}

/** A reconnect attempt is scheduled. */
export interface ReconnectingEvent {
  /** 1 for the first attempt of this outage. */
  attempt: number;
  /** Milliseconds until it starts. */
  delay: number;
}

/** The session is usable again after a reconnect. */
export interface ReconnectedEvent {
  /** Attempts it took. */
  attempts: number;
  privateId: string;
}

/** Reconnecting gave up (`reconnect.maxRetries`); the session is `'disconnected'`. */
export interface ReconnectFailedEvent {
  attempts: number;
  /** The last attempt's error. */
  error: Error;
}

/** A reliable message was given up for one recipient (one event per message and recipient). */
export interface UndeliveredEvent {
  /** The recipient's private ID, as last known. */
  to: string;
  /** What it was: a message (`'broadcast'`, `'direct'`), a request, or an answer to one. */
  type: 'broadcast' | 'direct' | 'request' | 'answer';
  /** The message's data (a request's data, an answer's value or error text). */
  data: unknown;
  /** `DeliveryTimeoutError` after `deliveryTimeout`; `ConnectionClosedError` when the session ended. */
  error: Error;
}

/** Events of `SecureSession`: one payload object each. */
export interface SecureSessionEvents {
  message: (event: SecureMessageEvent) => void;
  update: (event: UpdateEvent) => void;
  peerconnect: (event: SecurePeerConnectEvent) => void;
  peerdisconnect: (event: SecurePeerDisconnectEvent) => void;
  peerpid: (event: SecurePeerPidEvent) => void;
  privateid: (event: SecurePrivateIdEvent) => void;
  state: (event: SecureStateEvent) => void;
  /** The socket of a connected session closed (`requested` after `disconnect()`). */
  close: (event: CloseEvent) => void;
  error: (error: Error) => void;
  peerkey: (event: PeerKeyEvent) => void;
  reconnecting: (event: ReconnectingEvent) => void;
  reconnected: (event: ReconnectedEvent) => void;
  reconnect_failed: (event: ReconnectFailedEvent) => void;
  decrypt_error: (event: DecryptErrorEvent) => void;
  /** With `delivery: 'reliable'`: a message was given up for a recipient. Never a silent loss: every message is confirmed or reported here. */
  undelivered: (event: UndeliveredEvent) => void;
}

/** A peer as `SecureSession.peers` lists it. */
export interface SecurePeer {
  readonly privateId: string;
  readonly options: ConnectOptions;
  /** Pair safety number; `null` on a plaintext session or without a usable key. */
  readonly fingerprint: string | null;
  /** As in {@link PeerKeyEvent.verified}. */
  readonly verified: boolean | null;
  readonly identityFingerprint: string | null;
  /** Whether messages can be encrypted for (or, with `encryption: false`, sent to) this peer. */
  readonly usable: boolean;
  /** The delivery the peer advertised: `'reliable'` confirms receipt; `'at-most-once'` (or an older version) does not. */
  readonly delivery: 'reliable' | 'at-most-once';
}
