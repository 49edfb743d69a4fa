import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket as MockWebSocket } from 'mock-socket';
import { WebSocketServer, WebSocket as WsWebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { coalescingWebSocket, MAX_CHARS, MAX_FRAMES } from '../../src/node/coalesce.js';
import { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from '../../src/transport/websocket.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A `ws` server that records the frames it receives. */
async function recordingServer() {
  const http: Server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  const frames: string[] = [];
  let onFrame = (): void => {};
  http.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      ws.on('message', (data) => {
        frames.push(String(data));
        onFrame();
      });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () => new Promise((resolve) => http.close(resolve)),
    () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  );
  const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const frameCount = (count: number) =>
    new Promise<void>((resolve) => {
      onFrame = () => frames.length >= count && resolve();
      onFrame();
    });
  return { url, frames, frameCount };
}

/** Opens an adapted `ws` socket and hands back the TCP socket under it (ws's documented `upgrade` event). */
async function openWithSocket(url: string): Promise<{ ws: WebSocketLike; socket: Socket }> {
  const Ctor = coalescingWebSocket(WsWebSocket as unknown as WebSocketConstructor);
  let socket: Socket | undefined;
  const ws = new Ctor(url);
  (ws as unknown as WsWebSocket).once('upgrade', (response) => {
    socket = response.socket;
  });
  cleanups.push(() => ws.close());
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  if (!socket) throw new Error('no upgrade event before open');
  return { ws, socket };
}

describe('coalesced writes on Node (ws)', () => {
  it('holds the frames of one synchronous run, writing every MAX_FRAMES frames, and lets go when the run ends', async () => {
    const server = await recordingServer();
    const { ws, socket } = await openWithSocket(server.url);
    const sent = Array.from({ length: MAX_FRAMES + 1 }, (_, i) => JSON.stringify({ n: i, text: 'x'.repeat(i) }));
    for (const frame of sent.slice(0, MAX_FRAMES)) ws.send(frame);
    // All held in the stream, none written yet.
    expect(socket.writableCorked).toBeGreaterThan(0);
    const held = socket.writableLength;
    expect(held).toBeGreaterThan(sent.slice(0, MAX_FRAMES).join('').length);
    ws.send(sent[MAX_FRAMES] as string);
    // The first MAX_FRAMES went out in one write; only the last frame is held.
    expect(socket.writableLength).toBeLessThan(held);
    expect(socket.writableLength).toBeGreaterThan(0);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(socket.writableCorked).toBe(0);
    await server.frameCount(sent.length);
    expect(server.frames).toEqual(sent);
  });

  it('writes at once past MAX_CHARS characters; a lone send waits only for the end of its run', async () => {
    const server = await recordingServer();
    const { ws, socket } = await openWithSocket(server.url);
    const big = 'y'.repeat(MAX_CHARS);
    ws.send(big);
    ws.send(big);
    // The first was written when the second came: it had reached MAX_CHARS.
    expect(socket.writableLength).toBeLessThan(2 * MAX_CHARS);
    ws.send('small');
    await server.frameCount(3);
    expect(server.frames).toEqual([big, big, 'small']);
    await new Promise((resolve) => setImmediate(resolve));
    ws.send('later');
    expect(socket.writableCorked).toBe(1);
    await server.frameCount(4);
    expect(server.frames[3]).toBe('later');
  });

  it('closes cleanly with frames held in the same run: they arrive before the close', async () => {
    const server = await recordingServer();
    const { ws } = await openWithSocket(server.url);
    const closed = new Promise<{ code: number }>((resolve) => {
      ws.onclose = resolve;
    });
    ws.send('last words');
    ws.close(1000, 'bye');
    expect((await closed).code).toBe(1000);
    expect(server.frames).toEqual(['last words']);
  });

  it('adapts ws once per constructor and leaves other WebSocket constructors alone', async () => {
    const Ctor = WsWebSocket as unknown as WebSocketConstructor;
    const adapted = coalescingWebSocket(Ctor);
    expect(coalescingWebSocket(Ctor)).toBe(adapted);
    expect(adapted.prototype).toBeInstanceOf(WsWebSocket);
    const Mock = MockWebSocket as unknown as WebSocketConstructor;
    expect(coalescingWebSocket(Mock)).toBe(Mock);
    // The Node entry's resolution goes through the adapter, for an injected `ws` too.
    expect(await resolveWebSocket(Ctor)).toBe(adapted);
    expect(await resolveWebSocket(Mock)).toBe(Mock);
  });
});
