// SecureSession benchmarks: direct-message throughput with 1 KiB payloads and
// a broadcast to 50 peers, each end-to-end encrypted vs plaintext
// (`encryption: false`, same session code). Two shapes of direct messages:
// - one at a time (P3-secure-single): each send waits for the previous one, so
//   every message is its own frame, encrypted or not;
// - windowed (P3-secure-window): 250 sends in flight. An encrypted session
//   coalesces a burst to the same recipients into shared envelopes (a real
//   feature: fewer frames, fewer key wraps), while plaintext sends cannot be
//   coalesced (they are the server's own messages), so this compares batched
//   envelopes with one frame per message. The receiver counts the frames it
//   gets, and the messages per frame are printed beside the figure.
// The reference server runs in its own process, as a relay does; all sessions
// share this one, so every encryption and decryption is counted (the CPU time
// per message printed for one at a time is this process's: both sessions). Run alone with
// `node bench/secure.mjs` after `npm run build`.
import { WebSocket } from 'ws';
import { SecureSession } from '../dist/esm/node/secure.js';
import { alternate, perRound, result, spread } from './measure.mjs';
import { figure, rateFigure, SHARED_CORES, spawnServer, timed } from './util.mjs';

const DIRECT_MESSAGES = 5_000;
const WINDOW = 250;
const SEQUENTIAL_MESSAGES = 1_000;
const PEERS = 50;
const BROADCASTS = 200;
const BROADCAST_WINDOW = 20;
const PAYLOAD = 'x'.repeat(1024);

function session(url, encryption, WebSocketClass = WebSocket) {
  return new SecureSession({
    url,
    encryption,
    info: 'bench',
    requestTimeout: 120_000,
    reconnect: { enabled: false },
    WebSocket: WebSocketClass,
  });
}

/** A `ws` WebSocket class that counts the messages its sockets receive (`frames.count`). */
function countingWebSocket() {
  const frames = { count: 0 };
  class CountingWebSocket extends WebSocket {
    emit(event, ...args) {
      if (event === 'message') frames.count++;
      return super.emit(event, ...args);
    }
  }
  return { frames, CountingWebSocket };
}

/** Resolves once `session` has received `count` messages. */
function receiveCount(s, count) {
  let got = 0;
  return new Promise((resolve) => {
    const onMessage = () => {
      if (++got === count) {
        s.off('message', onMessage);
        resolve();
      }
    };
    s.on('message', onMessage);
  });
}

/**
 * @returns { ms, frames: WebSocket frames the receiver got while the messages arrived,
 *   cpuUs: CPU time of this process (both sessions, every thread) per message, in µs }
 */
async function directThroughput(url, encryption, window = WINDOW, messages = DIRECT_MESSAGES) {
  const { frames, CountingWebSocket } = countingWebSocket();
  const sender = session(url, encryption);
  const receiver = session(url, encryption, CountingWebSocket);
  await receiver.connect();
  const keyed = new Promise((resolve) => receiver.once('peerconnect', resolve));
  await sender.connect();
  await keyed;
  const to = receiver.privateId;
  const received = receiveCount(receiver, messages);
  const framesBefore = frames.count;
  const cpuBefore = process.cpuUsage();
  const ms = await timed(async () => {
    for (let sent = 0; sent < messages; sent += window) {
      const batch = [];
      for (let i = 0; i < window; i++) batch.push(sender.send(to, { seq: sent + i, text: PAYLOAD }));
      await Promise.all(batch);
    }
    await received;
  });
  const { user, system } = process.cpuUsage(cpuBefore);
  const framesGot = frames.count - framesBefore;
  await Promise.all([sender.disconnect(), receiver.disconnect()]);
  return { ms, frames: framesGot, cpuUs: (user + system) / messages };
}

async function broadcastThroughput(url, encryption) {
  const receivers = Array.from({ length: PEERS }, () => session(url, encryption));
  for (const r of receivers) await r.connect();
  const sender = session(url, encryption);
  const everyoneKnowsSender = receivers.map((r) => new Promise((resolve) => r.once('peerconnect', resolve)));
  await sender.connect();
  await Promise.all(everyoneKnowsSender);
  const received = Promise.all(receivers.map((r) => receiveCount(r, BROADCASTS)));
  const ms = await timed(async () => {
    for (let sent = 0; sent < BROADCASTS; sent += BROADCAST_WINDOW) {
      const batch = [];
      for (let i = 0; i < BROADCAST_WINDOW; i++) batch.push(sender.broadcast({ seq: sent + i, text: PAYLOAD }));
      const results = await Promise.all(batch);
      if (results[0].recipients.length !== PEERS)
        throw new Error(`broadcast reached ${results[0].recipients.length} peers, expected ${PEERS}`);
    }
    await received;
  });
  await Promise.all([sender, ...receivers].map((s) => s.disconnect()));
  return ms;
}

const variants = (run) => ({ encrypted: () => run(true), plain: () => run(false) });
const ms = (samples) => samples.map((s) => s.ms);
/** Messages per received frame, median and range. */
const perFrame = (messages, samples) => spread(samples.map((s) => messages / s.frames));
/** CPU µs per message in this process (sender and receiver; the server is another process), median and range. */
const cpuPerMessage = (samples) => spread(samples.map((s) => s.cpuUs));

/** Runs the SecureSession benchmarks and returns their figures. */
export async function benchSecure() {
  console.log(`\nSecure: SecureSession through the reference server (loopback; ${SHARED_CORES})`);
  const server = await spawnServer();
  try {
    const single = await alternate(variants((enc) => directThroughput(server.url, enc, 1, SEQUENTIAL_MESSAGES)));
    const one = `${SEQUENTIAL_MESSAGES} direct 1 KiB msgs one at a time`;
    rateFigure(`(a1) plaintext, ${one}`, SEQUENTIAL_MESSAGES, ms(single.plain), 'msg/s');
    rateFigure(`(b1) encrypted, ${one}`, SEQUENTIAL_MESSAGES, ms(single.encrypted), 'msg/s');
    figure('    client CPU per message, plaintext (a1)', cpuPerMessage(single.plain), 'µs');
    figure('    client CPU per message, encrypted (b1)', cpuPerMessage(single.encrypted), 'µs');
    const direct = await alternate(variants((enc) => directThroughput(server.url, enc)));
    const windowed = `${DIRECT_MESSAGES} direct 1 KiB msgs, ${WINDOW} in flight`;
    rateFigure(`(a) plaintext, ${windowed}`, DIRECT_MESSAGES, ms(direct.plain), 'msg/s');
    figure('    messages per frame received (one frame each)', perFrame(DIRECT_MESSAGES, direct.plain));
    rateFigure(`(b) encrypted, ${windowed}`, DIRECT_MESSAGES, ms(direct.encrypted), 'msg/s');
    figure('    messages per envelope received (batched)', perFrame(DIRECT_MESSAGES, direct.encrypted));
    const fanout = await alternate(variants((enc) => broadcastThroughput(server.url, enc)));
    const broadcasts = `broadcast to ${PEERS} peers, ${BROADCASTS} x 1 KiB`;
    rateFigure(`(c) plaintext ${broadcasts}`, BROADCASTS, fanout.plain, 'broadcasts/s');
    rateFigure(`(d) encrypted ${broadcasts}`, BROADCASTS, fanout.encrypted, 'broadcasts/s');
    const times = (n) => `${n.toFixed(2)}x`;
    figure('broadcast throughput encrypted / plaintext (d/c)', spread(perRound(fanout.plain, fanout.encrypted), times));
    return [
      result({
        id: 'P3-secure-single',
        label: 'SecureSession encrypted / plaintext direct throughput, one at a time (no batching possible)',
        samples: perRound(ms(single.plain), ms(single.encrypted)),
        goal: 0.5,
      }),
      result({
        id: 'P3-secure-window',
        label: `SecureSession encrypted / plaintext direct throughput, ${WINDOW} in flight (encrypted: batched envelopes; plaintext: a frame per message)`,
        samples: perRound(ms(direct.plain), ms(direct.encrypted)),
        goal: 0.8,
      }),
    ];
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSecure();
