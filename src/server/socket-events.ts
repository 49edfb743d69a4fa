import type { RawData, WebSocket } from 'ws';

/** What an endpoint wants to hear from one server-side socket. */
export interface SocketEvents {
  message(data: RawData, isBinary: boolean): void;
  error(err: Error): void;
  close(code: number): void;
}

/** Subscribes to a socket's message, error and close events; all three are removed when it closes. */
export function listenToSocket(ws: WebSocket, events: SocketEvents): void {
  const onMessage = (data: RawData, isBinary: boolean): void => events.message(data, isBinary);
  const onError = (err: Error): void => events.error(err);
  const onClose = (code: number): void => {
    ws.off('message', onMessage);
    ws.off('error', onError);
    ws.off('close', onClose);
    events.close(code);
  };
  ws.on('message', onMessage);
  ws.on('error', onError);
  ws.on('close', onClose);
}
