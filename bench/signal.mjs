// Signal benchmarks: encrypted `echo` round trips through EncryptedWebSocketClient
// against plaintext `echo` round trips from a raw `ws` client, on the same server,
// the same socket path, the same JSON framing and the same authenticated
// connection state. The server (in its own process) runs with
// `signal.allowPlaintextEcho`, a test-only route that answers a plaintext `echo`
// with a plaintext `echo`, so the only difference between the two is the
// encryption (client encrypt + server decrypt + server encrypt + client decrypt)
// and the client library's own validation and dispatch.
// Two shapes: sequential (one frame in flight: latency) and pipelined (a window
// of frames in flight: throughput). Run alone with `node bench/signal.mjs` after
// `npm run build`.
import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { generateECDHKeyPair } from '../dist/esm/node/crypto.js';
import { EncryptedWebSocketClient } from '../dist/esm/node/signal.js';
import { alternate, perRound, result } from './measure.mjs';
import { rateFigure, SHARED_CORES, spawnServer, timed } from './util.mjs';

const SECRET = 'benchmark-secret-at-least-32-bytes-long';
const ECDH_INFO = 'wss-sessions-bench';
const SEQUENTIAL = 1000;
const PIPELINED = 20_000;
const WINDOW = 200;
// Short rounds (under a second each) on a shared machine: more of them for a steadier median.
const ROUNDS = 9;
const PAYLOAD = { text: 'hello, this is a short chat message', n: 0 };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

const token = () =>
  new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('bench')
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));

/** Plaintext side: a raw `ws` socket that authenticates, then sends plaintext echo frames. */
async function rawEchoer(url) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const { publicKeyB64 } = await generateECDHKeyPair();
  const connected = new Promise((resolve) => ws.once('message', resolve));
  ws.send(
    JSON.stringify({
      event: 'authenticate',
      data: { type: 'Bearer', token: await token(), clientPublicKey: publicKeyB64 },
    }),
  );
  await connected;
  let onEcho = null;
  // Each reply is parsed, as any real consumer must.
  ws.on('message', (data) => {
    if (JSON.parse(String(data)).event === 'echo') onEcho?.();
  });
  return {
    send: (n) => ws.send(JSON.stringify({ event: 'echo', data: { ...PAYLOAD, n } })),
    onEcho: (fn) => {
      onEcho = fn;
    },
    close: () => ws.close(),
  };
}

/** Encrypted side: the library client. */
async function encryptedEchoer(url) {
  const client = new EncryptedWebSocketClient({
    url,
    ecdhInfo: ECDH_INFO,
    token: await token(),
    WebSocket,
    logger: silent,
  });
  await client.connect();
  let onEcho = null;
  client.on('echo', () => onEcho?.());
  return {
    send: (n) => client.send('echo', { ...PAYLOAD, n }),
    onEcho: (fn) => {
      onEcho = fn;
    },
    close: () => client.destroy(),
  };
}

/** `count` round trips, one in flight at a time. */
async function sequential(echoer, count) {
  return timed(async () => {
    for (let i = 0; i < count; i++) {
      const back = new Promise((resolve) => echoer.onEcho(resolve));
      await echoer.send(i);
      await back;
    }
  });
}

/** `count` round trips with up to `WINDOW` in flight. */
async function pipelined(echoer, count) {
  return timed(
    () =>
      new Promise((resolve, reject) => {
        let sent = 0;
        let received = 0;
        const pump = () => {
          while (sent < count && sent - received < WINDOW) Promise.resolve(echoer.send(sent++)).catch(reject);
        };
        echoer.onEcho(() => {
          if (++received === count) resolve();
          else pump();
        });
        pump();
      }),
  );
}

export async function benchSignal() {
  console.log(
    `\nSignal: encrypted echo (EncryptedWebSocketClient) vs plaintext echo (raw ws), same server (loopback; ${SHARED_CORES})`,
  );
  const server = await spawnServer({
    signal: { ecdhInfo: ECDH_INFO, jwtSecret: SECRET, allowPlaintextEcho: true },
    // Throughput is measured here: the per-connection frame rate limit (default 1000/s, bursts of 20000) would refuse it.
    requestRate: 1_000_000_000,
    requestBurst: 1_000_000_000,
  });
  const url = `${server.url}/stream`;
  try {
    const plain = await rawEchoer(url);
    const secure = await encryptedEchoer(url);
    const seq = await alternate(
      { plain: () => sequential(plain, SEQUENTIAL), secure: () => sequential(secure, SEQUENTIAL) },
      { rounds: ROUNDS },
    );
    const pipe = await alternate(
      { plain: () => pipelined(plain, PIPELINED), secure: () => pipelined(secure, PIPELINED) },
      { rounds: ROUNDS },
    );
    plain.close();
    secure.close();
    rateFigure(`plaintext round trips/s, sequential (${SEQUENTIAL})`, SEQUENTIAL, seq.plain);
    rateFigure(`encrypted round trips/s, sequential (${SEQUENTIAL})`, SEQUENTIAL, seq.secure);
    rateFigure(`plaintext round trips/s, ${WINDOW} in flight (${PIPELINED})`, PIPELINED, pipe.plain);
    rateFigure(`encrypted round trips/s, ${WINDOW} in flight (${PIPELINED})`, PIPELINED, pipe.secure);
    return [
      result({
        id: 'P4-signal-seq',
        label: 'Signal encrypted / plaintext echo rate, sequential',
        samples: perRound(seq.plain, seq.secure),
        goal: 0.3,
      }),
      result({
        id: 'P4-signal-pipelined',
        label: `Signal encrypted / plaintext echo rate, ${WINDOW} in flight`,
        samples: perRound(pipe.plain, pipe.secure),
        goal: 0.5,
      }),
    ];
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSignal();
