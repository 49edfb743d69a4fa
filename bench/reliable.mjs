// Reliable delivery's cost: direct-message throughput with 1 KiB payloads between
// two SecureSessions with `delivery: 'reliable'` (sequence numbers, receipts, the
// store of unconfirmed messages) against the same with `delivery: 'at-most-once'`,
// both end-to-end encrypted, sends issued in windows of 250 and each window awaited
// as `send()` resolves by default (the relay accepted it); the time runs until the
// recipient has every message, so the receipts' traffic is counted. The reference
// server runs in its own process. Run alone with `node bench/reliable.mjs` after a
// build (`npx tsc -p tsconfig.json && npx rollup -c --silent`).
import { SecureSession } from '../dist/esm/node/secure.js';
import { alternate, median, perRound, result } from './measure.mjs';
import { figure, perSecond, spawnServer, timed } from './util.mjs';

const MESSAGES = 5_000;
const WINDOW = 250;
const PAYLOAD = 'x'.repeat(1024);

function session(url, delivery) {
  return new SecureSession({ url, delivery, info: 'bench', requestTimeout: 120_000, reconnect: { enabled: false } });
}

/** Resolves once `s` has received `count` messages. */
function receiveCount(s, count) {
  let got = 0;
  return new Promise((resolve) => {
    s.on('message', () => {
      if (++got === count) resolve();
    });
  });
}

/** Milliseconds to get MESSAGES direct messages across, WINDOW at a time; `confirmed`: each window awaits its receipts. */
async function directThroughput(url, delivery, confirmed = false) {
  const sender = session(url, delivery);
  const receiver = session(url, delivery);
  await receiver.connect();
  const keyed = new Promise((resolve) => receiver.once('peerconnect', resolve));
  await sender.connect();
  await keyed;
  const to = receiver.privateId;
  // One message each way first: reliable sessions have exchanged their session proofs.
  const warm = receiveCount(receiver, 1);
  await sender.send(to, 'warm-up');
  await warm;
  const received = receiveCount(receiver, MESSAGES);
  const options = confirmed ? { await: 'delivered' } : {};
  const ms = await timed(async () => {
    for (let sent = 0; sent < MESSAGES; sent += WINDOW) {
      const batch = [];
      for (let i = 0; i < WINDOW; i++) batch.push(sender.send(to, { seq: sent + i, text: PAYLOAD }, options));
      await Promise.all(batch);
    }
    await received;
  });
  await Promise.all([sender.disconnect(), receiver.disconnect()]);
  return ms;
}

/** Runs the reliable delivery benchmark and returns its figure. */
export async function benchReliable() {
  console.log('\nReliable: SecureSession delivery reliable vs at-most-once (server in its own process, loopback)');
  const server = await spawnServer();
  try {
    const runs = await alternate({
      reliable: () => directThroughput(server.url, 'reliable'),
      atMostOnce: () => directThroughput(server.url, 'at-most-once'),
      confirmed: () => directThroughput(server.url, 'reliable', true),
    });
    figure(
      `(a) at-most-once, ${MESSAGES} direct 1 KiB msgs, ${WINDOW} in flight`,
      perSecond(MESSAGES, median(runs.atMostOnce)),
      'msg/s',
    );
    figure(`(b) reliable, same`, perSecond(MESSAGES, median(runs.reliable)), 'msg/s');
    figure(
      `(c) reliable, each window awaited as delivered (receipts)`,
      perSecond(MESSAGES, median(runs.confirmed)),
      'msg/s',
    );
    figure(
      'reliable awaited as delivered / at-most-once (c/a), median',
      `${median(perRound(runs.atMostOnce, runs.confirmed)).toFixed(2)}x`,
    );
    return [
      result({
        id: 'R1-reliable-vs-at-most-once',
        label: `SecureSession reliable / at-most-once direct throughput, 1 KiB, ${WINDOW} in flight`,
        samples: perRound(runs.atMostOnce, runs.reliable),
        goal: 0.7,
      }),
    ];
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchReliable();
