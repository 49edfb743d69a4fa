// Client process of the server benchmarks: holds many cheap WebSocket clients
// (server-wire.mjs) and counts what they receive, driven by its parent over IPC.
//   { cmd: 'open', kind: 'wss' | 'raw' | 'sio', url, count, peers }  -> { opened }
//       opens `count` clients (WSS ones handshake and connect); `peers` (WSS only) is
//       the number of peers each must end up knowing, from its connect answer plus
//       connect pushes: { settled } is sent once every client knows that many.
//   { cmd: 'expect', frames, latency }  -> { armed }, then { done, latencies }
//       resets the counters; answers once every client received `frames` broadcasts.
//   { cmd: 'close' }  -> { closed }
import { WireClient } from './server-wire.mjs';

const CONCURRENCY = 200;
const PID_ENTRY = 67; // "<64 hex>", — one entry of a WSS_Connect peer list
const BROADCAST_AT = '{"jsonrpc":"2.0","result":{"type":"'.length;
const T_KEY = Buffer.from('"t":');

let clients = [];
let expectation = null;
let peersWanted = 0;
let settledCount = 0;
let target = 0;

const send = (message) => process.send(message);

/** Microseconds on the monotonic clock all processes of the machine share. */
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

/** The `"t":<µs>` stamp a sender put in a broadcast, or NaN. */
function stampOf(buf, start, end) {
  const at = buf.indexOf(T_KEY, start);
  if (at === -1 || at >= end) return Number.NaN;
  let value = 0;
  for (let i = at + T_KEY.length; i < end; i++) {
    const digit = buf[i] - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  return value;
}

function isBroadcast(kind, buf, start) {
  if (kind === 'sio') return buf[start] === 0x34 && buf[start + 1] === 0x32; // 42[...
  return buf[start + BROADCAST_AT] === 0x62; // "broadcast", not "session"
}

function countBroadcast(state, buf, start, end) {
  const e = expectation;
  if (!e || !isBroadcast(state.kind, buf, start)) return;
  if (e.latency) e.latencies.push(nowMicros() - stampOf(buf, start, end));
  state.received++;
  if (state.received === e.frames && ++e.complete === clients.length) {
    expectation = null;
    send({ done: true, latencies: e.latencies });
  }
}

/** Peers listed in a WSS_Connect answer, from the byte length of its `connect` array (server-made IDs). */
function listedPeers(buf, start, end) {
  const open = buf.indexOf('"connect":[', start) + '"connect":['.length;
  const close = buf.indexOf(0x5d, open);
  if (open < start || close === -1 || close > end) throw new Error('WSS_Connect answer without a peer list');
  return close === open ? 0 : (close - open + 1) / PID_ENTRY;
}

function peerSeen(state, count) {
  state.peers += count;
  if (peersWanted > 0 && state.peers === peersWanted && ++settledCount === target) send({ settled: true });
}

/** The WSS handshake and connect, then counting: one small state machine per client. */
function onWssText(client, buf, start, end) {
  const state = client.state;
  if (state.step === 'handshake') {
    const at = buf.indexOf('"server_token":"', start) + '"server_token":"'.length;
    state.serverToken = buf.toString('latin1', at, at + 64);
    state.step = 'connect';
    client.send(
      `{"jsonrpc":"2.0","method":"WSS_Connect","id":2,"params":{"user_token":"${state.token}","server_token":"${state.serverToken}","options":{"wss":true}}}`,
    );
    return;
  }
  if (state.step === 'connect') {
    state.step = 'joined';
    peerSeen(state, listedPeers(buf, start, end));
    state.onJoined();
    return;
  }
  if (buf[start + BROADCAST_AT] === 0x73 && buf[start + BROADCAST_AT + 11] === 0x6f) {
    peerSeen(state, 1); // {"type":"session","connect":... (not "change" or "disconnect")
    return;
  }
  countBroadcast(state, buf, start, end);
}

function onOtherText(client, buf, start, end) {
  const state = client.state;
  if (state.kind === 'sio' && state.step === 'handshake') {
    if (buf[start] === 0x30)
      client.send('40'); // engine.io open -> socket.io connect
    else if (buf[start] === 0x34 && buf[start + 1] === 0x30) {
      state.step = 'joined';
      state.onJoined();
    }
    return;
  }
  countBroadcast(state, buf, start, end);
}

async function openOne(kind, url, token) {
  const state = { kind, token, step: 'handshake', peers: 0, received: 0, onJoined: null };
  const joined = new Promise((resolve) => {
    state.onJoined = resolve;
  });
  const client = await WireClient.open(url, kind === 'wss' ? onWssText : onOtherText, state);
  if (kind === 'wss') {
    client.send(`{"jsonrpc":"2.0","method":"WSS_Handshake","id":1,"params":{"user_token":"${token}"}}`);
  } else if (kind === 'raw') {
    state.step = 'joined';
    state.onJoined();
  }
  await joined;
  return client;
}

async function open({ kind, url, count, peers = 0, prefix }) {
  peersWanted = peers;
  settledCount = 0;
  target = count;
  const opened = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      opened.push(await openOne(kind, url, `${prefix}-${i}`));
    }
  };
  clients = opened;
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  send({ opened: clients.length });
}

process.on('message', async (message) => {
  if (message.cmd === 'open') await open(message);
  if (message.cmd === 'expect') {
    for (const client of clients) client.state.received = 0;
    expectation = { frames: message.frames, latency: message.latency, latencies: [], complete: 0 };
    send({ armed: true });
  }
  if (message.cmd === 'close') {
    for (const client of clients) client.destroy();
    clients = [];
    send({ closed: true });
  }
});
send({ ready: true });
