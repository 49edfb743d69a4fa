import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import type { WebSocketConstructor } from '../../src/index.js';

let counter = 0;

/** The server socket as mock-socket hands it to a 'connection' listener. */
export interface MockSocket {
  send(data: string): void;
  close(options?: { code: number; reason: string }): void;
  on(event: 'message', listener: (data: string | Blob | ArrayBuffer | ArrayBufferView) => void): void;
}

/** A scripted WSS server on mock-socket, for edges the real server does not produce. */
export class MockWss {
  readonly url = `ws://mock-${++counter}.test:8090`;
  readonly server = new Server(this.url);
  readonly WebSocket = MockWebSocket as unknown as WebSocketConstructor;
  readonly received: Array<{ method: string; id: unknown; params: Record<string, unknown> }> = [];
  socket: MockSocket | null = null;
  /** Methods answered automatically; others wait for the test. */
  auto = new Set(['WSS_Handshake', 'WSS_Connect', 'WSS_Send', 'WSS_Session']);
  peers: Array<[string, object]> = [];
  #waiters: Array<() => void> = [];

  constructor() {
    this.server.on('connection', (socket) => {
      this.socket = socket as unknown as MockSocket;
      this.socket.on('message', (data) => this.#onMessage(String(data)));
    });
  }

  /** Resolves once `n` requests have arrived in total. */
  async waitForRequests(n: number): Promise<void> {
    while (this.received.length < n) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  push(result: object): void {
    this.socket?.send(JSON.stringify({ jsonrpc: '2.0', result }));
  }

  raw(frame: string): void {
    this.socket?.send(frame);
  }

  respond(id: unknown, result: unknown): void {
    this.socket?.send(JSON.stringify({ jsonrpc: '2.0', id, result }));
  }

  stop(): void {
    this.server.stop();
  }

  #onMessage(text: string): void {
    const request = JSON.parse(text) as { method: string; id: unknown; params: Record<string, unknown> };
    this.received.push(request);
    for (const wake of this.#waiters.splice(0)) wake();
    if (this.auto.has(request.method)) this.respond(request.id, this.#answer(request));
  }

  #answer(request: { method: string; params: Record<string, unknown> }): unknown {
    switch (request.method) {
      case 'WSS_Handshake':
        return {
          message: 'accept',
          numconnections: 1,
          maxconnections: 10,
          peerconnections: 1,
          server_token: 'a'.repeat(64),
        };
      case 'WSS_Connect':
        return {
          message: 'open',
          private_id: 'me',
          connect: this.peers.map(([id]) => id),
          options: this.peers.map(([, o]) => o),
        };
      case 'WSS_Session':
        return { privateID: request.params.privateID ?? 'me' };
      default:
        return { message: 'ok' };
    }
  }
}
