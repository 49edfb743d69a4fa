// SecureSession benchmarks: direct-message throughput with 1 KiB payloads and
// a broadcast to 50 peers, each end-to-end encrypted vs plaintext
// (`encryption: false`, same session code). Sends are issued in windows, so
// an encrypted session coalesces each burst to the same recipients into one
// envelope (plaintext sends cannot be coalesced: they are the server's own
// messages); the one-at-a-time figures show the cost without that. The reference server runs in its
// own process, as a relay does; all sessions share this one, so every
// encryption and decryption is counted. Run alone with `node bench/secure.mjs`
// after a build (`npx tsc -p tsconfig.json && npx rollup -c --silent`).
import { SecureSession } from '../dist/esm/node/secure.js';
import { alternate, median, perRound, result } from './measure.mjs';
import { figure, perSecond, spawnServer, timed } from './util.mjs';

const DIRECT_MESSAGES = 5_000;
const WINDOW = 250;
const SEQUENTIAL_MESSAGES = 1_000;
const PEERS = 50;
const BROADCASTS = 200;
const BROADCAST_WINDOW = 20;
const PAYLOAD = 'x'.repeat(1024);

function session(url, encryption) {
  return new SecureSession({ url, encryption, info: 'bench', requestTimeout: 120_000, reconnect: { enabled: false } });
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

async function directThroughput(url, encryption, window = WINDOW, messages = DIRECT_MESSAGES) {
  const sender = session(url, encryption);
  const receiver = session(url, encryption);
  await receiver.connect();
  const keyed = new Promise((resolve) => receiver.once('peerconnect', resolve));
  await sender.connect();
  await keyed;
  const to = receiver.privateId;
  const received = receiveCount(receiver, messages);
  const ms = await timed(async () => {
    for (let sent = 0; sent < messages; sent += window) {
      const batch = [];
      for (let i = 0; i < window; i++) batch.push(sender.send(to, { seq: sent + i, text: PAYLOAD }));
      await Promise.all(batch);
    }
    await received;
  });
  await Promise.all([sender.disconnect(), receiver.disconnect()]);
  return ms;
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

/** Runs the SecureSession benchmarks and returns their figures. */
export async function benchSecure() {
  console.log('\nSecure: SecureSession through the reference server (its own process, loopback)');
  const server = await spawnServer();
  try {
    const direct = await alternate(variants((enc) => directThroughput(server.url, enc)));
    figure(
      `(a) plaintext SecureSession, ${DIRECT_MESSAGES} direct 1 KiB msgs, ${WINDOW} in flight`,
      perSecond(DIRECT_MESSAGES, median(direct.plain)),
      'msg/s',
    );
    figure(
      `(b) encrypted SecureSession, ${DIRECT_MESSAGES} direct 1 KiB msgs, ${WINDOW} in flight`,
      perSecond(DIRECT_MESSAGES, median(direct.encrypted)),
      'msg/s',
    );
    const single = await alternate(variants((enc) => directThroughput(server.url, enc, 1, SEQUENTIAL_MESSAGES)));
    figure(
      `(a1) plaintext, ${SEQUENTIAL_MESSAGES} direct 1 KiB msgs one at a time`,
      perSecond(SEQUENTIAL_MESSAGES, median(single.plain)),
      'msg/s',
    );
    figure(
      `(b1) encrypted, ${SEQUENTIAL_MESSAGES} direct 1 KiB msgs one at a time`,
      perSecond(SEQUENTIAL_MESSAGES, median(single.encrypted)),
      'msg/s',
    );
    const fanout = await alternate(variants((enc) => broadcastThroughput(server.url, enc)));
    figure(
      `(c) plaintext broadcast to ${PEERS} peers, ${BROADCASTS} x 1 KiB`,
      perSecond(BROADCASTS, median(fanout.plain)),
      'broadcasts/s',
    );
    figure(
      `(d) encrypted broadcast to ${PEERS} peers, ${BROADCASTS} x 1 KiB`,
      perSecond(BROADCASTS, median(fanout.encrypted)),
      'broadcasts/s',
    );
    figure(
      'broadcast throughput encrypted / plaintext (d/c), median',
      `${median(perRound(fanout.plain, fanout.encrypted)).toFixed(2)}x`,
    );
    return [
      result({
        id: 'P3-secure-window',
        label: `SecureSession encrypted / plaintext direct throughput, ${WINDOW} in flight`,
        samples: perRound(direct.plain, direct.encrypted),
        goal: 0.8,
      }),
      result({
        id: 'P3-secure-single',
        label: 'SecureSession encrypted / plaintext direct throughput, one at a time',
        samples: perRound(single.plain, single.encrypted),
        goal: 0.5,
      }),
    ];
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSecure();
