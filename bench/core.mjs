// Core benchmarks: WSSClient direct-message throughput against raw `ws` clients
// sending the same pre-serialised WSS_Send frames, and request settle cost at
// 10 vs 10,000 requests in flight. The server runs in its own process, as a
// relay does; both clients share this one. Run alone with `node bench/core.mjs`.
import { WebSocket } from 'ws';
import { WSSClient } from '../dist/esm/node/index.js';
import { alternate, median, perRound, result } from './measure.mjs';
import { figure, perSecond, spawnServer, timed } from './util.mjs';

const MESSAGES = 10_000;
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

async function settleCost(server, inFlight, rounds) {
  const client = new WSSClient({ url: server.url, requestTimeout: 120_000 });
  await client.connect();
  await Promise.all(Array.from({ length: 100 }, () => client.getPrivateId())); // warm up
  const ms = await timed(async () => {
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: inFlight }, () => client.getPrivateId()));
  });
  await client.disconnect();
  return ms / (inFlight * rounds);
}

/** Runs the core benchmarks and returns their figures. */
export async function benchCore() {
  console.log('\nCore: WSSClient through the reference server (its own process, loopback)');
  const server = await spawnServer();
  try {
    const runs = await alternate({ raw: () => rawThroughput(server), client: () => clientThroughput(server) });
    figure(
      `(a) raw ws, pre-serialised frames, ${MESSAGES} direct msgs`,
      perSecond(MESSAGES, median(runs.raw)),
      'msg/s',
    );
    figure(`(b) WSSClient.send, ${MESSAGES} direct msgs`, perSecond(MESSAGES, median(runs.client)), 'msg/s');
    const figures = [
      result({
        id: 'P1-direct',
        label: 'WSSClient / raw ws direct throughput',
        samples: perRound(runs.raw, runs.client),
        goal: 0.9,
      }),
    ];
    const costs = await alternate({
      small: () => settleCost(server, 10, 1000),
      large: () => settleCost(server, 10_000, 2),
    });
    figure('getPrivateId settle cost, 10 in flight', (median(costs.small) * 1000).toFixed(1), 'µs/request');
    figure('getPrivateId settle cost, 10,000 in flight', (median(costs.large) * 1000).toFixed(1), 'µs/request');
    figures.push(
      result({
        id: 'P2-inflight',
        label: 'per-request cost, 10,000 / 10 in flight',
        samples: perRound(costs.large, costs.small),
        goal: 1.5,
        higherIsBetter: false,
      }),
    );
    return figures;
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchCore();
