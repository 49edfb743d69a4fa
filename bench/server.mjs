// Server benchmarks: the reference server under load, against a raw `ws` broadcast
// loop and socket.io 4 doing the same relay work. Every server runs in a process of
// its own and the receiving clients in two more (bench/server-clients.mjs, cheap
// clients that count frames without parsing them); the sender sits in this process.
// All of them share the machine's cores, so the figures compare variants measured
// in the same run, never absolute speeds. Run alone with `node bench/server.mjs`, or some of its
// parts with `node bench/server.mjs slow` (parts: fanout, connects, slow).
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { alternate, median, perRound, result, spread } from './measure.mjs';
import { figure } from './util.mjs';
import { WireClient } from './server-wire.mjs';

export const RECEIVERS = 1000;
export const BURST = 200;
export const PACED = 60;
export const PACE_MS = 50;
const PACED_ROUNDS = 9;
const CONNECT_SIZES = [1000, 5000, 10_000];
const SLOW_MESSAGES = 400;
const SLOW_DATA = 'x'.repeat(512 * 1024);
export const WIDE_LIMITS = { maxConnectionsPerIp: 20_000, maxSocketsPerIp: 20_000 };
const MiB = 1024 * 1024;

const here = (file) => new URL(file, import.meta.url).pathname;

/** A child process spoken to over IPC: `ask(message, key)` sends and waits for the next reply carrying `key`. */
function child(script, args = [], execArgv = []) {
  const proc = fork(here(script), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  proc.on('message', (message) => {
    const i = waiting.findIndex((w) => w.key in message);
    if (i !== -1) waiting.splice(i, 1)[0].resolve(message);
  });
  const next = (key) => new Promise((resolve) => waiting.push({ key, resolve }));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    next,
    ask(message, key) {
      const reply = next(key);
      proc.send(message);
      return reply;
    },
    async stop() {
      proc.kill();
      await exited;
    },
  };
}

export async function startHost(kind, options = {}) {
  const host = child('./server-host.mjs', [kind, JSON.stringify(options)], ['--expose-gc']);
  const { url } = await host.next('url');
  return { ...host, url };
}

async function startClients(count) {
  const workers = Array.from({ length: count }, () => child('./server-clients.mjs'));
  await Promise.all(workers.map((w) => w.next('ready')));
  return workers;
}

const micros = () => Number(process.hrtime.bigint() / 1000n);

/** The sender: a wire client that can handshake, connect and broadcast in the variant's own dialect. */
async function sender(kind, url, name = 'sender') {
  const replies = [];
  let wake = null;
  const client = await WireClient.open(url, (_c, buf, start, end) => {
    replies.push(buf.toString('utf8', start, end));
    wake?.();
  });
  const nextReply = async () => {
    while (replies.length === 0) await new Promise((resolve) => (wake = resolve));
    return replies.shift();
  };
  let tokens = {};
  if (kind === 'wss') {
    client.send(JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', id: 'h', params: { user_token: name } }));
    tokens = { user_token: name, server_token: JSON.parse(await nextReply()).result.server_token };
    client.send(JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Connect', id: 'c', params: { ...tokens, options: {} } }));
    await nextReply();
  } else if (kind === 'sio') {
    await nextReply(); // engine.io open
    client.send('40');
    await nextReply(); // socket.io connect
  }
  const frame = (data) =>
    kind === 'sio'
      ? `42["b",${JSON.stringify(data)}]`
      : JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Send', id: 1, params: { ...tokens, type: 'broadcast', data } });
  return {
    client,
    replies,
    broadcast: (data) => client.send(frame(data)),
    nextReply,
    drop: () => replies.splice(0),
  };
}

/**
 * One relay (server process, its receivers in two client processes, and a sender) for the fan-out
 * runs. With `hosts` (cluster nodes, bench/cluster.mjs) the receivers are spread over them, one
 * client process per host, and the sender talks to the first.
 */
export async function relay(kind, hosts = null) {
  const servers = hosts ?? [await startHost(kind, WIDE_LIMITS)];
  const workers = await startClients(Math.max(2, servers.length));
  const peers = kind === 'wss' ? RECEIVERS : 0;
  const opened = workers.map((w, i) => {
    const count = Math.floor(RECEIVERS / workers.length) + (i < RECEIVERS % workers.length ? 1 : 0);
    const url = servers[i % servers.length].url;
    return w.ask({ cmd: 'open', kind, url, count, peers, prefix: `r${i}` }, 'opened');
  });
  await Promise.all(opened);
  const settled = peers ? Promise.all(workers.map((w) => w.next('settled'))) : null;
  const send = await sender(kind, servers[0].url);
  await settled;
  /** Arms the receivers for `frames` broadcasts each and resolves with their latencies once all arrived. */
  const expect = async (frames, latency) => {
    await Promise.all(workers.map((w) => w.ask({ cmd: 'expect', frames, latency }, 'armed')));
    return Promise.all(workers.map((w) => w.next('done')));
  };
  const stop = async () => {
    send.client.destroy();
    await Promise.all([...workers.map((w) => w.stop()), ...(hosts ? [] : servers.map((h) => h.stop()))]);
  };
  return { send, expect, stop };
}

export async function burst(r) {
  const done = r.expect(BURST, false);
  const start = performance.now();
  for (let i = 0; i < BURST; i++) r.send.broadcast({ t: 0, text: 'hello everyone' });
  await done;
  const seconds = (performance.now() - start) / 1000;
  r.send.drop();
  return (BURST * RECEIVERS) / seconds;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export async function paced(r, p50s) {
  const done = r.expect(PACED, true);
  for (let i = 0; i < PACED; i++) {
    r.send.broadcast({ t: micros(), text: 'hello everyone' });
    await new Promise((resolve) => setTimeout(resolve, PACE_MS));
  }
  const latencies = (await done)
    .flatMap((w) => w.latencies)
    .map((us) => us / 1000)
    .sort((a, b) => a - b);
  r.send.drop();
  p50s.push(percentile(latencies, 0.5));
  return percentile(latencies, 0.99);
}

async function fanout() {
  console.log(`\nFan-out to ${RECEIVERS.toLocaleString('en-US')} peers: our server, a raw ws loop, socket.io 4`);
  const relays = { ours: await relay('wss'), raw: await relay('raw'), sio: await relay('sio') };
  try {
    const rates = await alternate(Object.fromEntries(Object.entries(relays).map(([n, r]) => [n, () => burst(r)])));
    const p50 = { ours: [], raw: [], sio: [] };
    // A tail figure from 60 broadcasts swings by milliseconds between rounds on a shared machine: more rounds.
    const p99 = await alternate(
      Object.fromEntries(Object.entries(relays).map(([n, r]) => [n, () => paced(r, p50[n])])),
      { rounds: PACED_ROUNDS },
    );
    for (const name of Object.keys(relays)) {
      figure(
        `${name}: burst of ${BURST} broadcasts, deliveries/s`,
        Math.round(median(rates[name])).toLocaleString('en-US'),
      );
      figure(
        `${name}: one broadcast / ${PACE_MS} ms, p50 / p99`,
        `${median(p50[name]).toFixed(2)} / ${median(p99[name]).toFixed(2)}`,
        'ms',
      );
    }
    return [
      result({
        id: 'S1-fanout-vs-sio',
        label: 'fan-out deliveries/s, ours / socket.io 4',
        samples: perRound(rates.ours, rates.sio),
        goal: 1.0,
      }),
      result({
        id: 'S2-fanout-vs-raw',
        label: 'fan-out deliveries/s, ours / raw ws loop',
        samples: perRound(rates.ours, rates.raw),
        goal: 0.95,
      }),
      result({
        id: 'S3-fanout-p99-ms',
        label: `paced fan-out p99 (goal: the raw ws loop's median p99)`,
        samples: p99.ours,
        goal: Number(median(p99.raw).toFixed(2)),
        higherIsBetter: false,
        unit: 'ms',
      }),
    ];
  } finally {
    await Promise.all(Object.values(relays).map((r) => r.stop()));
  }
}

/** Connects `n` sessions from two client processes; resolves with seconds until every peer knows every other, and the server's RSS growth per session. */
async function connectRun(n) {
  const host = await startHost('wss', WIDE_LIMITS);
  const workers = await startClients(2);
  try {
    const before = (await host.ask('memory', 'memory')).memory.rss;
    const start = performance.now();
    const settled = Promise.all(workers.map((w) => w.next('settled')));
    await Promise.all(
      workers.map((w, i) =>
        w.ask({ cmd: 'open', kind: 'wss', url: host.url, count: n / 2, peers: n - 1, prefix: `c${i}` }, 'opened'),
      ),
    );
    await settled;
    const seconds = (performance.now() - start) / 1000;
    const after = (await host.ask('memory', 'memory')).memory.rss;
    const kbPerSession = (after - before) / n / 1024;
    console.log(`    (round: ${n} sessions in ${seconds.toFixed(2)} s, ${kbPerSession.toFixed(1)} KB each)`);
    return { seconds, kbPerSession };
  } finally {
    await Promise.all([...workers.map((w) => w.stop()), host.stop()]);
  }
}

async function connects() {
  console.log('\nConnect N sessions (every peer announced to every peer), from two client processes');
  const rss = [];
  const variants = Object.fromEntries(
    CONNECT_SIZES.map((n) => [
      n,
      async () => {
        const run = await connectRun(n);
        if (n === 10_000) rss.push(run.kbPerSession);
        return run.seconds;
      },
    ]),
  );
  const times = await alternate(variants, { warmup: false });
  for (const n of CONNECT_SIZES)
    figure(`connect ${n.toLocaleString('en-US')} sessions`, median(times[n]).toFixed(2), 's');
  return [
    result({
      id: 'S4-connect-10k-s',
      label: 'connect 10,000 sessions',
      samples: times[10_000],
      goal: 60,
      higherIsBetter: false,
      unit: 's',
    }),
    result({
      id: 'S5-rss-per-session-kb',
      label: 'server RSS per session at 10,000',
      samples: rss,
      goal: 20,
      higherIsBetter: false,
      unit: 'KB',
    }),
  ];
}

/**
 * A peer broadcasts 200 MiB to one receiver; resolves with the server's peak RSS
 * growth in MB. With `stalled` the receiver stops reading first (the slow
 * consumer); without, it reads everything (the control: what relaying 200 MiB
 * at full speed costs by itself, garbage the collector has not caught up with).
 */
async function relayPeak(stalled) {
  const host = await startHost('wss');
  try {
    const receiver = await sender('wss', host.url, 'receiver');
    const fast = await sender('wss', host.url, 'fast');
    if (stalled) receiver.client.pause();
    await host.ask('memory', 'memory');
    await host.ask('reset-peak', 'reset');
    const base = (await host.ask('memory', 'memory')).memory.rss;
    for (let i = 0; i < SLOW_MESSAGES; i++) fast.broadcast({ t: i, text: SLOW_DATA });
    for (let oks = 0; oks < SLOW_MESSAGES; ) if ((await fast.nextReply()).includes('"message":"ok"')) oks++;
    const { peak } = (await host.ask('memory', 'memory')).memory;
    receiver.client.destroy();
    fast.client.destroy();
    return (peak - base) / MiB;
  } finally {
    await host.stop();
  }
}

async function slowConsumer() {
  console.log(`\nSlow consumer: ${(SLOW_MESSAGES * SLOW_DATA.length) / MiB} MiB broadcast in 512 KiB messages`);
  const peaks = await alternate({ stalled: () => relayPeak(true), reading: () => relayPeak(false) }, { warmup: false });
  figure('control: the same with a receiver that reads, peak RSS growth', spread(peaks.reading), 'MB');
  return result({
    id: 'S6-slow-consumer-peak-mb',
    label: 'slow consumer: server peak RSS growth',
    samples: peaks.stalled,
    goal: 64,
    higherIsBetter: false,
    unit: 'MB',
  });
}

/** Every server figure (S1-S6). */
export async function benchServer() {
  console.log("\nServer (each server and the clients in separate processes, all sharing this machine's 2 cores)");
  return [...(await fanout()), ...(await connects()), await slowConsumer()];
}

/** The parts `node bench/server.mjs [part ...]` can run on their own (all of them without an argument). */
const PARTS = { fanout, connects, slow: slowConsumer };

if (import.meta.url === `file://${process.argv[1]}`) {
  const parts = process.argv.slice(2);
  const unknown = parts.filter((part) => !(part in PARTS));
  if (unknown.length) throw new Error(`no part ${unknown.join(', ')}; parts: ${Object.keys(PARTS).join(', ')}`);
  if (parts.length === 0) await benchServer();
  for (const part of parts) await PARTS[part]();
}
