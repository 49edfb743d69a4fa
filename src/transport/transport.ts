/**
 * The small seam between the JSON-RPC layer and a concrete socket: open, send,
 * close, and three events. Anything that moves text frames can implement it.
 */
import type { ProtocolError } from '../errors.js';

/** Why a socket closed. */
export interface CloseInfo {
  /** WebSocket close code (1006 when the connection dropped without a close frame). */
  code: number;
  /** Close reason text, possibly empty. */
  reason: string;
}

/** What a transport reports to its owner. */
export interface TransportEvents {
  /** A text frame arrived. */
  message(frame: string): void;
  /** A frame was binary or too large; it was dropped. */
  error(error: ProtocolError): void;
  /** The connection closed after it had opened; called once. */
  close(info: CloseInfo): void;
}

/** One connection that carries text frames; opened once. */
export interface Transport {
  /** Opens the connection; rejects with `ConnectionClosedError` (or `AbortError`) when it cannot. */
  open(signal?: AbortSignal): Promise<void>;
  /** Sends one text frame; throws when the connection is not open. */
  send(frame: string): void;
  /**
   * Closes the connection; the close is reported once the peer confirms it, or
   * at once with `now` (the connection's later events are then ignored).
   */
  close(code: number, reason: string, now?: boolean): void;
}
