import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { WebSocketServer, WebSocket as WsWebSocket } from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortError, ConnectionClosedError, ProtocolError } from '../../src/index.js';
import type { CloseInfo } from '../../src/transport/transport.js';
import { WebSocketTransport, type WebSocketConstructor, type WebSocketLike } from '../../src/transport/websocket.js';

let counter = 0;
const servers: Server[] = [];

/** A mock-socket server and a transport to it, with the sockets it made and what it reported. */
function setup(maxFrameSize = 100) {
  const url = `ws://transport-${++counter}.test:8090`;
  const server = new Server(url);
  servers.push(server);
  const sockets: WebSocketLike[] = [];
  const Ctor = class extends (MockWebSocket as unknown as WebSocketConstructor) {
    constructor(address: string) {
      super(address);
      sockets.push(this);
    }
  };
  const frames: string[] = [];
  const errors: ProtocolError[] = [];
  const closes: CloseInfo[] = [];
  let closed!: () => void;
  const closedOnce = new Promise<void>((resolve) => (closed = resolve));
  const transport = new WebSocketTransport(
    Ctor,
    { url, maxFrameSize },
    {
      message: (frame) => frames.push(frame),
      error: (error) => errors.push(error),
      close: (info) => {
        closes.push(info);
        closed();
      },
    },
  );
  return { server, transport, sockets, frames, errors, closes, closedOnce };
}

/** Nothing of the transport is left on a socket but the error handler `ws` needs. */
function expectDetached(socket: WebSocketLike | undefined): void {
  expect(socket).toMatchObject({ onopen: null, onmessage: null, onclose: null, onerror: expect.any(Function) });
}

afterEach(() => {
  for (const server of servers.splice(0)) server.stop();
});

describe('WebSocketTransport over mock-socket', () => {
  it('passes text frames on, reports binary and oversized ones, and sends only while open', async () => {
    const { server, transport, frames, errors } = setup(10);
    expect(() => transport.send('early')).toThrow(ConnectionClosedError);
    let arrived!: (data: unknown) => void;
    const received = new Promise((resolve) => (arrived = resolve));
    server.on('connection', (socket) => {
      socket.on('message', arrived);
      for (const data of ['{"a":1}', new ArrayBuffer(2), 'x'.repeat(11), 'ping']) socket.send(data);
    });
    await transport.open();
    transport.send('hello');
    expect(await received).toBe('hello');
    // The server's frames went out before its client's one came back.
    expect(frames).toEqual(['{"a":1}', 'ping']);
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toBeInstanceOf(ProtocolError);
  });

  it("close() reports the socket's close event once, and leaves nothing on the socket", async () => {
    const { transport, sockets, closes, closedOnce } = setup();
    await transport.open();
    transport.close(4000, 'done');
    await closedOnce;
    expect(closes).toEqual([{ code: 4000, reason: 'done' }]);
    expectDetached(sockets[0]);
    expect(() => transport.send('late')).toThrow(ConnectionClosedError);
  });

  it("close(code, reason, true) reports at once; the socket's later events reach no one", async () => {
    const { server, transport, sockets, frames, closes } = setup();
    let serverSide: { send(data: string): void } | undefined;
    server.on('connection', (socket) => (serverSide = socket));
    await transport.open();
    transport.close(1000, 'connect failed', true);
    expect(closes).toEqual([{ code: 1000, reason: 'connect failed' }]);
    expectDetached(sockets[0]);
    serverSide?.send('ghost');
    expect(frames).toEqual([]);
    expect(closes).toHaveLength(1);
  });

  it('an AbortSignal cancels open(): AbortError, the socket closed and detached, no close reported', async () => {
    const { transport, sockets, closes } = setup();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const opening = transport.open(controller.signal);
    controller.abort();
    await expect(opening).rejects.toBeInstanceOf(AbortError);
    expectDetached(sockets[0]);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    expect(closes).toEqual([]);
    await expect(setup().transport.open(AbortSignal.abort())).rejects.toBeInstanceOf(AbortError);
  });

  it('open() rejects with ConnectionClosedError when the socket cannot be made or closes first', async () => {
    const cause = new SyntaxError('bad url');
    const refusing = new WebSocketTransport(
      class {
        constructor() {
          throw cause;
        }
      } as unknown as WebSocketConstructor,
      { url: 'ws://nowhere.test', maxFrameSize: 1 },
      { message: vi.fn(), error: vi.fn(), close: vi.fn() },
    );
    await expect(refusing.open()).rejects.toMatchObject({ constructor: ConnectionClosedError, cause });
    const { server, transport, sockets, closes } = setup();
    server.stop();
    // Like a browser, mock-socket tells nothing but a close code: the message says what to check.
    const error = await transport.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error).toMatchObject({ closeCode: expect.any(Number), httpStatus: undefined });
    expect((error as Error).message).toMatch(
      /^opening ws:\/\/transport-\d+\.test:8090 failed: the connection closed before it opened \(code \d+\); check the URL and that the server is running$/,
    );
    expectDetached(sockets[0]);
    expect(closes).toEqual([]);
  });

  it('a close code the socket refuses (as browsers refuse 1001) falls back to a plain close, which is then reported', async () => {
    const { transport, sockets, closes, closedOnce } = setup();
    await transport.open();
    const socket = sockets[0] as WebSocketLike;
    const close = socket.close.bind(socket);
    const calls: unknown[][] = [];
    socket.close = (...args: [number?, string?]) => {
      calls.push(args);
      if (args.length) throw new DOMException('code not allowed', 'InvalidAccessError');
      close();
    };
    transport.close(1001, 'going away');
    await closedOnce;
    expect(calls).toEqual([[1001, 'going away'], []]);
    expect(closes).toHaveLength(1);
    expectDetached(socket);
  });
});

describe('WebSocketTransport over ws', () => {
  it("listens for ws's 'unexpected-response' only until the socket opens", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((done) => server.once('listening', done));
    const sockets: WsWebSocket[] = [];
    const Ctor = class extends WsWebSocket {
      constructor(address: string) {
        super(address);
        sockets.push(this);
      }
    };
    const closed = new Promise((done) => server.once('connection', (socket) => socket.once('close', done)));
    const transport = new WebSocketTransport(
      Ctor as unknown as WebSocketConstructor,
      { url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`, maxFrameSize: 100 },
      { message: vi.fn(), error: vi.fn(), close: vi.fn() },
    );
    const opening = transport.open();
    expect(sockets[0]?.listenerCount('unexpected-response')).toBe(1);
    await opening;
    expect(sockets[0]?.listenerCount('unexpected-response')).toBe(0);
    transport.close(1000, 'done');
    await closed;
    await new Promise((done) => server.close(done));
  });
});
