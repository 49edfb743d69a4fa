/** Per-socket state of the WSS endpoint. */
import type { WebSocket } from 'ws';
import type { HandshakeRecord, SessionRecord } from './registry.js';

/** One WebSocket on the WSS path and what it has done so far. */
export class WssConnection {
  /** The session this socket carries once `WSS_Connect` succeeded. */
  session: SessionRecord<WssConnection> | null = null;
  /** Handshakes made over this socket and not yet connected; dropped when the socket closes. */
  readonly pendingHandshakes = new Set<HandshakeRecord<WssConnection>>();
  /** Set once the socket closed; nothing is bound to a closed connection. */
  closed = false;

  constructor(
    readonly ws: WebSocket,
    /** Family + IP of the client (see `ipKeyOf`). */
    readonly ipKey: string,
    /** `address:port` for log lines. */
    readonly label: string,
  ) {}

  /** The current private ID, or `null` before `WSS_Connect`. */
  get privateId(): string | null {
    return this.session?.privateId ?? null;
  }
}
