// Core benchmarks: WSSClient direct-message throughput against raw `ws` clients
// sending the same pre-serialised WSS_Send frames, and the client's cost per
// request in one paced stream of requests while 10 or 10,000 other requests are
// pending. The server runs in its own process, as a relay does; the clients
// share this one. Run alone with `node bench/core.mjs`.
import { performance } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { WSSClient } from '../dist/esm/node/index.js';
import { alternate, perRound, result, spread } from './measure.mjs';
import { figure, rateFigure, SHARED_CORES, spawnServer, timed } from './util.mjs';

const MESSAGES = 20_000;
const WINDOW = 500;

/** A raw `ws` session: handshake and connect by hand, then frames only. */
async function rawSession(url, n) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const call = (method, params) =>
    new Promise((resolve) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data)).result));
      ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id: `${method}-${n}` }));
    });
  const user_token = `raw-${n}-${Math.random().toString(16).slice(2)}`;
  const { server_token } = await call('WSS_Handshake', { user_token });
  const { private_id } = await call('WSS_Connect', { user_token, server_token, options: { wss: true } });
  return { ws, user_token, server_token, privateId: private_id };
}

/**
 * Resolves once `count` frames matching `match` arrived on a raw socket. Each
 * frame is parsed, as any real consumer must; that is the floor a client adds to.
 */
function countFrames(ws, count, match) {
  return new Promise((resolve) => {
    let seen = 0;
    const onMessage = (data) => {
      if (match(JSON.parse(String(data))) && ++seen === count) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
  });
}

async function rawThroughput(server) {
  const sender = await rawSession(server.url, 1);
  const receiver = await rawSession(server.url, 2);
  const frames = Array.from({ length: WINDOW }, (_, i) =>
    JSON.stringify({
      jsonrpc: '2.0',
      method: 'WSS_Send',
      id: String(i),
      params: {
        user_token: sender.user_token,
        server_token: sender.server_token,
        type: 'direct',
        to: { rcp: [receiver.privateId] },
        data: { seq: i, text: 'hello' },
      },
    }),
  );
  const received = countFrames(receiver.ws, MESSAGES, (m) => m.result?.type === 'direct');
  const ms = await timed(async () => {
    for (let sent = 0; sent < MESSAGES; sent += WINDOW) {
      const acked = countFrames(sender.ws, WINDOW, (m) => m.result?.message === 'ok');
      for (const frame of frames) sender.ws.send(frame);
      await acked;
    }
    await received;
  });
  sender.ws.close();
  receiver.ws.close();
  return ms;
}

async function clientThroughput(server) {
  const sender = new WSSClient({ url: server.url, requestTimeout: 60_000 });
  const receiver = new WSSClient({ url: server.url });
  await sender.connect();
  const { privateId } = await receiver.connect();
  let got = 0;
  const received = new Promise((resolve) =>
    receiver.on('message', () => {
      if (++got === MESSAGES) resolve();
    }),
  );
  const ms = await timed(async () => {
    for (let sent = 0; sent < MESSAGES; sent += WINDOW) {
      const batch = [];
      for (let i = 0; i < WINDOW; i++) batch.push(sender.send(privateId, { seq: i, text: 'hello' }));
      await Promise.all(batch);
    }
    await received;
  });
  await Promise.all([sender.disconnect(), receiver.disconnect()]);
  return ms;
}

/** The paced stream P2 measures: PER_TICK requests every TICK_MS, TICKS times (4,000 requests/s for 1 s). */
const STREAM = { ticks: 200, perTick: 20, tickMs: 5 };

/**
 * Offers STREAM's requests at its fixed rate, whatever the answers do, and
 * resolves with each request's round trip (ms) once all are answered.
 */
function pacedStream(client) {
  const latencies = [];
  const answered = [];
  return new Promise((resolve, reject) => {
    let tick = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < STREAM.perTick; i++) {
        const sent = performance.now();
        answered.push(client.getPrivateId().then(() => latencies.push(performance.now() - sent)));
      }
      if (++tick === STREAM.ticks) {
        clearInterval(timer);
        Promise.all(answered).then(() => resolve(latencies), reject);
      }
    }, STREAM.tickMs);
  });
}

/**
 * One sample of P2: a client with `pending` requests the server withholds
 * (bench/withholding.mjs), then the paced stream. The cost per request is the
 * CPU time this process (the client; the server has its own) spends on the
 * stream, divided by its requests; the wall time is fixed by the pace.
 * @returns { cpu: µs per request, latency: median round trip in ms }
 */
async function pendingCost(server, pending) {
  const client = new WSSClient({ url: server.url, requestTimeout: 600_000 });
  await client.connect();
  await server.command(`hold ${pending}`);
  const held = Array.from({ length: pending }, () => client.getPrivateId().catch(() => {}));
  await server.nextLine(); // {"held": pending}: every one is withheld, so pending in the client
  const before = process.cpuUsage();
  const latencies = await pacedStream(client);
  const { user, system } = process.cpuUsage(before);
  await client.disconnect(); // rejects the withheld requests
  await Promise.all(held);
  latencies.sort((a, b) => a - b);
  return { cpu: (user + system) / latencies.length, latency: latencies[latencies.length >> 1] };
}

/** P2: the stream's cost per request with 10 and with 10,000 other requests pending. */
async function benchPending() {
  const server = await spawnServer({}, 'withholding.mjs');
  try {
    const runs = await alternate({
      few: () => pendingCost(server, 10),
      many: () => pendingCost(server, 10_000),
    });
    const rate = (STREAM.perTick * 1000) / STREAM.tickMs;
    const cpu = (samples) => samples.map((s) => s.cpu);
    for (const [name, pending] of [
      ['few', 10],
      ['many', 10_000],
    ]) {
      const others = `${pending.toLocaleString('en-US')} others pending`;
      figure(`client CPU per request, ${rate}/s, ${others}`, spread(cpu(runs[name])), 'µs');
      figure(`median round trip, ${others}`, spread(runs[name].map((s) => s.latency)), 'ms');
    }
    return result({
      id: 'P2-inflight',
      label: `client CPU per request in one paced stream (${rate}/s), 10,000 / 10 other requests pending`,
      samples: perRound(cpu(runs.many), cpu(runs.few)),
      goal: 1.5,
      higherIsBetter: false,
    });
  } finally {
    await server.close();
  }
}

/** Runs the core benchmarks and returns their figures. */
export async function benchCore() {
  console.log(`\nCore: WSSClient through the reference server (loopback; ${SHARED_CORES})`);
  const server = await spawnServer();
  let direct;
  try {
    const runs = await alternate({ raw: () => rawThroughput(server), client: () => clientThroughput(server) });
    rateFigure(`(a) raw ws, pre-serialised frames, ${MESSAGES} direct msgs`, MESSAGES, runs.raw, 'msg/s');
    rateFigure(`(b) WSSClient.send, ${MESSAGES} direct msgs`, MESSAGES, runs.client, 'msg/s');
    direct = result({
      id: 'P1-direct',
      label: 'WSSClient / raw ws direct throughput',
      samples: perRound(runs.raw, runs.client),
      goal: 0.9,
    });
  } finally {
    await server.close();
  }
  return [direct, await benchPending()];
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCore();
