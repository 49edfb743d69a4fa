/**
 * EncryptedWebSocketClient's bounded queues against a scripted hostile server: frames are
 * decrypted as they arrive and delivered in arrival order; a flood past `maxBacklogFrames` or
 * `maxBacklogBytes` closes the connection (1008) with a QueueFullError, keeps memory bounded,
 * delivers every frame accepted below the cap, and the client reconnects; a send past
 * `maxPendingSends` is refused.
 *
 * On Node a frame of up to 1 MiB is decrypted (and a message encrypted) synchronously, so a
 * frame with nothing waiting before it is delivered as it arrives: a backlog forms only behind
 * work that waits, such as the key agreement or WebCrypto's work on a larger frame (in
 * browsers, every frame's). The floods below therefore arrive while the key agreement is held.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { decrypt } from '../../src/crypto/index.js';
import { SYNC_AES_GCM_LIMIT } from '../../src/node/aes-gcm.js';
import { QueueFullError, type EncryptedWebSocketClient } from '../../src/signal/index.js';
import {
  barrier,
  connectHostile,
  envelope,
  honestHandshake,
  holdSubtle,
  nextEvent,
  RecordingWebSocket,
  serverOffer,
  type HostileConn,
} from './helpers.js';
import { hostileSetup } from '../helpers/hostile-signal.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap and array buffers after a full collection: the memory something still holds. */
function retained(): number {
  gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

const MB = 2 ** 20;
const h = hostileSetup();
const { fx } = h;

/** What a client delivered, in order: `flood` frames by number, and the errors. */
function record(client: EncryptedWebSocketClient): Array<number | Error> {
  const seen: Array<number | Error> = [];
  client.on<{ n: number }>('flood', ({ n }) => seen.push(n));
  client.on('error', (err) => seen.push(err as Error));
  return seen;
}

/** The encrypted frame text of flood frame `n`, padded with `pad` characters. */
async function floodFrame(aesKey: CryptoKey, n: number, pad: number): Promise<string> {
  return JSON.stringify({ event: 'encrypted', data: await envelope(aesKey, 'flood', { n, pad: 'p'.repeat(pad) }) });
}

/**
 * Sends up to `count` flood frames in batches of `batch`, each batch written in one go, and
 * waits for each batch to reach the socket before the next; stops once the client closed.
 * Calls `afterBatch` after each batch; resolves with how many frames were sent.
 */
async function flood(
  conn: HostileConn,
  aesKey: CryptoKey,
  options: { count: number; batch: number; pad: number; afterBatch?: () => void },
): Promise<number> {
  let sent = 0;
  while (sent < options.count && conn.ws.readyState === WebSocket.OPEN) {
    const size = Math.min(options.batch, options.count - sent);
    const frames = await Promise.all(Array.from({ length: size }, (_, i) => floodFrame(aesKey, sent + i, options.pad)));
    const written = new Promise<void>((resolve) => {
      frames.forEach((frame, i) => {
        conn.ws.send(frame, i === frames.length - 1 ? () => resolve() : undefined);
      });
    });
    sent += size;
    await written;
    options.afterBatch?.();
  }
  return sent;
}

/** The client comes back on a new connection and delivers there. */
async function expectReconnected(client: EncryptedWebSocketClient): Promise<void> {
  const again = await h.server.nextConnection();
  const back = nextEvent(client, 'connected');
  const { aesKey } = await honestHandshake(again);
  await back;
  const delivered = nextEvent(client, 'after');
  again.send('encrypted', await envelope(aesKey, 'after', 'the reconnect works'));
  expect(await delivered).toBe('the reconnect works');
  expect(client.isConnected()).toBe(true);
}

/** Checks that `seen` is flood frames 0, 1, 2, … (none lost, none out of order), then one QueueFullError. */
function expectAcceptedThenError(seen: Array<number | Error>, atLeast: number): number[] {
  const delivered = seen.slice(0, -1) as number[];
  expect(seen.at(-1)).toBeInstanceOf(QueueFullError);
  expect(delivered).toEqual(delivered.map((_, i) => i));
  expect(delivered.length).toBeGreaterThanOrEqual(atLeast);
  return delivered;
}

/**
 * Connects `client` to the hostile server with its key agreement held: `connected` has been
 * sent, and frames sent now wait behind it until `release()`.
 */
async function connectHeld(
  client: EncryptedWebSocketClient,
): Promise<{ conn: HostileConn; aesKey: CryptoKey; connecting: Promise<void>; release: () => void }> {
  const connecting = client.connect();
  const conn = await h.server.nextConnection();
  const { aesKey, connected } = await serverOffer(conn);
  const { started, release } = holdSubtle('deriveBits');
  conn.send('connected', connected);
  await started;
  return { conn, aesKey, connecting, release };
}

describe('bounded incoming backlog', () => {
  it('a burst past maxBacklogFrames: frames accepted are delivered in order, then close 1008, QueueFullError, reconnect', async () => {
    const client = fx.client(h.server.url, {
      token: 't',
      reconnect: { interval: 1, maxInterval: 2 },
      maxBacklogFrames: 64,
    });
    const seen = record(client);
    const failed = nextEvent(client, 'error');
    const { conn, aesKey, connecting, release } = await connectHeld(client);
    // 3000 small frames in one write, queued behind `connected`, whose key agreement is held.
    const sent = await flood(conn, aesKey, { count: 3000, batch: 3000, pad: 0 });
    expect(await conn.closed).toBe(1008);
    release();
    await connecting;
    expect(await failed).toMatchObject({
      code: 'ERR_QUEUE_FULL',
      message: expect.stringContaining('maxBacklogFrames 64'),
    });
    // `connected` took one place of the 64.
    const delivered = expectAcceptedThenError(seen, 63);
    expect(delivered.length).toBeLessThan(sent);
    await expectReconnected(client);
  });

  it('a flood past maxBacklogBytes keeps memory bounded, releases it, and the client reconnects', async () => {
    const client = fx.client(h.server.url, {
      token: 't',
      reconnect: { interval: 1, maxInterval: 2 },
      maxFrameSize: 16 * 1024,
      maxBacklogBytes: 32 * 1024,
    });
    const seen = record(client);
    const failed = nextEvent(client, 'error');
    const { conn, aesKey, connecting, release } = await connectHeld(client);
    const baseline = retained();
    let peak = 0;
    // Up to 10,000 frames of about 13 KB (130 MB): what a client that kept up with it all would have held.
    const sent = await flood(conn, aesKey, {
      count: 10_000,
      batch: 16,
      pad: 10_000,
      afterBatch: () => {
        peak = Math.max(peak, retained() - baseline);
      },
    });
    expect(await conn.closed).toBe(1008);
    release();
    await connecting;
    expect(await failed).toBeInstanceOf(QueueFullError);
    expectAcceptedThenError(seen, 2);
    expect(sent).toBeLessThan(10_000);
    // Generous: the backlog holds at most 32 KiB of frames; a batch in flight is about 210 KB.
    expect(peak).toBeLessThan(24 * MB);
    await expectReconnected(client);
    expect(retained() - baseline).toBeLessThan(8 * MB);
  });
});

describe('bounded outgoing sends', () => {
  it('a send past maxPendingSends rejects at once with QueueFullError; the others go out in order, and later sends work', async () => {
    const client = fx.client(h.server.url, { token: 't', maxPendingSends: 8 });
    const { conn, aesKey } = await connectHostile(client, h.server);
    // The first is too large for Node's synchronous cipher: WebCrypto encrypts it off the event loop, and the sends behind it wait.
    const large = 'l'.repeat(SYNC_AES_GCM_LIMIT);
    const sends = Array.from({ length: 9 }, (_, n) => client.send('out', n === 0 ? large : n));
    await expect(sends[8]).rejects.toMatchObject({
      code: 'ERR_QUEUE_FULL',
      message: expect.stringContaining('maxPendingSends'),
    });
    await Promise.all(sends.slice(0, 8));
    await client.send('out', 'later');
    const received: unknown[] = [];
    for (let i = 0; i < 9; i++) {
      const frame = await conn.nextOf('encrypted');
      received.push(JSON.parse(await decrypt({ payload: frame.data, aesKey })).data);
    }
    expect(received).toEqual([large, 1, 2, 3, 4, 5, 6, 7, 'later']);
  });
});

describe('concurrent decryption, ordered delivery', () => {
  it('delivers 400 frames of very different sizes in arrival order', async () => {
    const client = fx.client(h.server.url, { token: 't' });
    const { conn, aesKey } = await connectHostile(client, h.server);
    const seen = record(client);
    // Sizes from 0 to 200,000 characters, large and small interleaved, all written in one go.
    const pads = Array.from({ length: 400 }, (_, i) => (i % 9 === 0 ? 200_000 - i * 400 : (i * 7919) % 3000));
    const frames = await Promise.all(pads.map((pad, n) => floodFrame(aesKey, n, pad)));
    for (const frame of frames) conn.ws.send(frame);
    await barrier(client, conn, aesKey);
    expect(seen).toEqual(pads.map((_, n) => n));
  });

  it('frames behind one that WebCrypto decrypts (over 1 MiB) wait for it, and all are delivered in arrival order', async () => {
    const client = fx.client(h.server.url, { token: 't', maxFrameSize: 4 * 2 ** 20, WebSocket: RecordingWebSocket });
    const { conn, aesKey } = await connectHostile(client, h.server);
    const seen = record(client);
    const pads = [0, SYNC_AES_GCM_LIMIT, 10, 20_000, SYNC_AES_GCM_LIMIT + 5000, 30, 0];
    const frames = await Promise.all(pads.map((pad, n) => floodFrame(aesKey, n, pad)));
    // WebCrypto's decryption of frame 1 waits at a gate until every frame has reached the client.
    const { started, release } = holdSubtle('decrypt');
    let arrived = 0;
    const allArrived = new Promise<void>((resolve) => {
      RecordingWebSocket.onReceive = () => ++arrived === frames.length && resolve();
    });
    for (const frame of frames) conn.ws.send(frame);
    await Promise.all([started, allArrived]);
    expect(seen).toEqual([0]);
    release();
    await barrier(client, conn, aesKey);
    expect(seen).toEqual(pads.map((_, n) => n));
  });

  it('frames right behind connected (decrypted once the key is agreed) come after the connected event, in order', async () => {
    const client = fx.client(h.server.url, { token: 't' });
    const order: string[] = [];
    client.on('connected', () => order.push('connected'));
    client.on<number>('early', (n) => order.push(`early ${n}`));
    const connecting = client.connect();
    const conn = await h.server.nextConnection();
    const { aesKey, connected } = await serverOffer(conn);
    const frames = await Promise.all([0, 1, 2].map((n) => envelope(aesKey, 'early', n)));
    // One synchronous burst: `connected` and the frames reach the client together.
    conn.send('connected', connected);
    for (const frame of frames) conn.send('encrypted', frame);
    await connecting;
    await barrier(client, conn, aesKey);
    expect(order).toEqual(['connected', 'early 0', 'early 1', 'early 2']);
  });
});
