import type { ProtocolError } from '../errors.js';
import type { Push } from '../protocol/validate.js';
import { RpcChannel } from '../transport/rpc-channel.js';
import type { CloseInfo } from '../transport/transport.js';
import { WebSocketTransport, type WebSocketConstructor } from '../transport/websocket.js';
import type { Logger } from '../util/logger.js';

/** What a connection reports to its client. */
export interface ConnectionEvents {
  push(push: Push): void;
  protocolError(error: ProtocolError): void;
  close(info: CloseInfo): void;
}

/** One socket and its JSON-RPC channel; a client makes a new one for every connect. */
export interface Connection {
  transport: WebSocketTransport;
  channel: RpcChannel;
}

/** Wires a WebSocket transport to a JSON-RPC channel. */
export function createConnection(
  url: string,
  Ctor: WebSocketConstructor,
  settings: { maxFrameSize: number; requestTimeout: number; logger: Logger },
  events: ConnectionEvents,
): Connection {
  const transport: WebSocketTransport = new WebSocketTransport(
    url,
    Ctor,
    {
      message: (frame) => channel.receive(frame),
      protocolError: (error) => events.protocolError(error as ProtocolError),
      close: (info) => {
        channel.close(info);
        events.close(info);
      },
    },
    settings.maxFrameSize,
  );
  const channel: RpcChannel = new RpcChannel({
    send: (frame) => transport.send(frame),
    timeoutMs: settings.requestTimeout,
    onPush: events.push,
    onProtocolError: events.protocolError,
    logger: settings.logger,
  });
  return { transport, channel };
}
