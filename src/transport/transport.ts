/**
 * The small seam between the JSON-RPC layer and a concrete socket: open,
 * send, close, and two events. Anything that moves text frames can implement it.
 */

/** Why a transport closed. */
export interface CloseInfo {
  /** WebSocket close code (1006 when the connection dropped without a close frame). */
  code: number;
  /** Close reason text, possibly empty. */
  reason: string;
}

/** Callbacks a transport reports to. */
export interface TransportHandlers {
  /** A complete text frame arrived. */
  message(frame: string): void;
  /** The transport closed; called once, and never before `open()` settled. */
  close(info: CloseInfo): void;
  /** Something arrived that is not a text frame, or a frame was too large. */
  protocolError(error: Error): void;
}

/** A message transport (one WebSocket connection). */
export interface Transport {
  /** Opens the connection; rejects with a `ConnectionClosedError` when it cannot. */
  open(signal?: AbortSignal): Promise<void>;
  /** Sends one text frame; throws `ConnectionClosedError` when not open. */
  send(frame: string): void;
  /** Starts a close; `handlers.close` follows. Safe to call more than once. */
  close(code?: number, reason?: string): void;
}
