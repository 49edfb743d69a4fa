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
import { figure, median, perSecond, ratio, spawnServer, timed } from './util.mjs';

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

/** Alternates the two variants and keeps medians, so one slow run on a shared box does not decide. */
async function compare(run, rounds) {
  await run(true);
  await run(false);
  const encrypted = [];
  const plain = [];
  for (let i = 0; i < rounds; i++) {
    encrypted.push(await run(true));
    plain.push(await run(false));
  }
  return { encryptedMs: median(encrypted), plainMs: median(plain) };
}

/** Runs the SecureSession benchmarks and returns their verdicts. */
export async function benchSecure() {
  console.log('\nSecure: SecureSession through the reference server (its own process, loopback)');
  const server = await spawnServer();
  try {
    const direct = await compare((enc) => directThroughput(server.url, enc), 3);
    figure(
      `(a) plaintext SecureSession, ${DIRECT_MESSAGES} direct 1 KiB msgs`,
      perSecond(DIRECT_MESSAGES, direct.plainMs),
      'msg/s',
    );
    figure(
      `(b) encrypted SecureSession, ${DIRECT_MESSAGES} direct 1 KiB msgs`,
      perSecond(DIRECT_MESSAGES, direct.encryptedMs),
      'msg/s',
    );
    const verdicts = [ratio('direct throughput encrypted / plaintext (b/a)', direct.plainMs / direct.encryptedMs, 0.6)];
    const single = await compare((enc) => directThroughput(server.url, enc, 1, SEQUENTIAL_MESSAGES), 3);
    figure(
      `(a1) plaintext, ${SEQUENTIAL_MESSAGES} direct 1 KiB msgs one at a time`,
      perSecond(SEQUENTIAL_MESSAGES, single.plainMs),
      'msg/s',
    );
    figure(
      `(b1) encrypted, ${SEQUENTIAL_MESSAGES} direct 1 KiB msgs one at a time`,
      perSecond(SEQUENTIAL_MESSAGES, single.encryptedMs),
      'msg/s',
    );
    figure('one-at-a-time encrypted / plaintext (b1/a1)', `${(single.plainMs / single.encryptedMs).toFixed(2)}x`);

    const fanout = await compare((enc) => broadcastThroughput(server.url, enc), 1);
    figure(
      `(c) plaintext broadcast to ${PEERS} peers, ${BROADCASTS} x 1 KiB`,
      perSecond(BROADCASTS, fanout.plainMs),
      'broadcasts/s',
    );
    figure(
      `(d) encrypted broadcast to ${PEERS} peers, ${BROADCASTS} x 1 KiB`,
      perSecond(BROADCASTS, fanout.encryptedMs),
      'broadcasts/s',
    );
    figure(
      '    (messages delivered per second over all receivers, d)',
      perSecond(BROADCASTS * PEERS, fanout.encryptedMs),
      '/s',
    );
    figure('broadcast throughput encrypted / plaintext (d/c)', `${(fanout.plainMs / fanout.encryptedMs).toFixed(2)}x`);
    return verdicts;
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSecure();
