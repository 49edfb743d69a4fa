/** What every endpoint does with a `ws` socket: read a message's text, bytes and size, and close after what is queued. */
import { isUtf8 } from 'node:buffer';
import type { RawData, WebSocket } from 'ws';
import type { Outbox } from './outbox.js';

/** A received message's bytes in one buffer (copied only when `ws` handed over fragments). */
function bufferOf(data: RawData): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** A received message as UTF-8 text. */
export function rawText(data: RawData): string {
  return bufferOf(data).toString('utf8');
}

/**
 * A received message as UTF-8 bytes. Text messages are valid UTF-8 (`ws`
 * closes the socket with 1007 otherwise); a binary one that is not is decoded
 * as {@link rawText} would, each bad sequence becoming U+FFFD, so what is relayed is always valid.
 */
export function rawBytes(data: RawData, isBinary: boolean): Buffer {
  const bytes = bufferOf(data);
  return isBinary && !isUtf8(bytes) ? Buffer.from(bytes.toString('utf8'), 'utf8') : bytes;
}

/** A received message's size in bytes (for the traffic counters). */
export function rawSize(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

/**
 * Writes what `outbox` holds, closes it, then starts the closing handshake
 * with `code`: the close frame must be the last frame on the wire, and `ws`
 * writes it straight to the socket, past the outbox. What cannot be written
 * now (the socket is over its high-water mark: the client is not reading) is dropped.
 */
export function closeAfterQueued(ws: WebSocket, outbox: Outbox, code: number, reason: string): void {
  if (ws.readyState === ws.OPEN && !outbox.closed) outbox.flush();
  outbox.close();
  if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
}
