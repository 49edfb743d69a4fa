/** Why a socket closed. */
export interface CloseInfo {
  /** WebSocket close code (1006 when the connection dropped without a close frame). */
  code: number;
  /** Close reason text, possibly empty. */
  reason: string;
}
