// One server under test, in a process of its own (run with --expose-gc):
//   node --expose-gc bench/server-host.mjs <wss|raw|sio> '<options JSON>'
// prints {"url": ...} once listening, then answers IPC requests:
//   'memory'     -> { rss, peak } once the heap settled (peak: VmHWM, the highest RSS since the last reset)
//   'reset-peak' -> clears VmHWM (Linux /proc/self/clear_refs)
// 'raw' is a plain `ws` broadcast loop and 'sio' a socket.io 4 server, both answering the
// same broadcast requests as the WSS server does, so the benchmark compares relays, not clients.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';

const [kind, optionsJson = '{}'] = process.argv.slice(2);
const options = JSON.parse(optionsJson);

/** A `ws` server that relays WSS_Send broadcasts as a hand-written loop would: serialise once, `send` per client. */
async function rawLoop() {
  const { WebSocketServer } = await import('ws');
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http, maxPayload: 1024 * 1024 });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const request = JSON.parse(String(data));
      const push = JSON.stringify({
        jsonrpc: '2.0',
        result: { type: 'broadcast', from: 'sender', data: request.params.data },
      });
      for (const client of wss.clients) if (client !== ws && client.readyState === 1) client.send(push);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: { message: 'ok' } }));
    });
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${http.address().port}`;
}

/** socket.io 4 over WebSocket only: `b` events from a client are broadcast to every other client. */
async function socketIo() {
  const { Server } = await import('socket.io');
  const http = createHttpServer();
  const io = new Server(http, { transports: ['websocket'], pingInterval: 3_600_000, pingTimeout: 3_600_000 });
  io.on('connection', (socket) => {
    socket.on('b', (data) => socket.broadcast.emit('broadcast', { from: socket.id, data }));
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${http.address().port}/socket.io/?EIO=4&transport=websocket`;
}

async function ours() {
  const { createServer } = await import('../dist/esm/server.js');
  const server = await createServer({ port: 0, host: '127.0.0.1', demo: false, ...options });
  return server.url;
}

const starters = { wss: ours, raw: rawLoop, sio: socketIo };
const url = await starters[kind]();

/**
 * RSS once the heap has settled: full GCs until RSS stops falling (V8 hands the pages a collection freed
 * back to the system from a background thread, some time after the collection; read at once, RSS still
 * counts them). At most 20 tries, 100 ms apart.
 */
async function memory() {
  let last = Number.POSITIVE_INFINITY;
  for (let tries = 0; tries < 20; tries++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rss = process.memoryUsage.rss();
    if (rss > last * 0.99) break;
    last = rss;
  }
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: process.memoryUsage.rss(), peak: kb('VmHWM') };
}

process.on('message', async (message) => {
  if (message === 'memory') process.send({ memory: await memory() });
  if (message === 'reset-peak') {
    writeFileSync('/proc/self/clear_refs', '5');
    process.send({ reset: true });
  }
});
process.send({ url });
// The benchmark is gone (or done with this server): leave, so --cpu-prof can write its profile.
process.on('disconnect', () => process.exit(0));
