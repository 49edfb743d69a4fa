/** The server is closed and started again on the same port while sessions exchange messages. */
import { afterEach, expect, it } from 'vitest';
import type { SecureSession } from '../../src/secure/index.js';
import { createServer } from '../../src/server/index.js';
import { Harness, next, untilPeer, untilState } from './helpers.js';

const h = new Harness();
afterEach(() => h.stop());

type Seq = { stream: string; seq: number };

/** Sends `{stream, seq}` one after another until stopped; a failed send waits for the recipient to be back. */
function traffic(
  stream: string,
  from: SecureSession,
  send: (data: Seq) => Promise<unknown>,
  waitFor: () => Promise<void>,
) {
  let running = true;
  let seq = 0;
  const acknowledged: number[] = [];
  // Each round lets the event loop turn: a send can settle on microtasks alone (a broadcast while
  // no peer is back yet has no one to go to), and a loop of those would starve the socket events
  // and WebCrypto callbacks that end the outage.
  const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const loop = (async () => {
    while (running) {
      const n = seq++;
      try {
        await send({ stream, seq: n });
        acknowledged.push(n);
      } catch {
        await waitFor();
      }
      await turn();
    }
  })();
  return {
    acknowledged,
    stop: async () => {
      running = false;
      await loop;
    },
    from,
  };
}

it('sessions come back after a server restart on the same port; later messages arrive exactly once', async () => {
  const first = await h.start();
  const port = first.port;
  const reconnect = { interval: 5, maxInterval: 40, backoffMultiplier: 2, jitter: 0.5 };
  const [a, b, c] = await h.group(3, { reconnect });
  await a.setPrivateId('alice');
  await b.setPrivateId('bob');
  await c.setPrivateId('carol');
  const everyone = [a, b, c];
  const names = ['alice', 'bob', 'carol'];
  const allSeeAll = (): Promise<unknown> =>
    Promise.all(everyone.flatMap((s) => names.filter((n) => n !== s.privateId).map((n) => untilPeer(s, () => n))));
  await allSeeAll();

  const atB: Seq[] = [];
  const atA: Seq[] = [];
  b.on('message', (m) => atB.push(m.data as Seq));
  a.on('message', (m) => atA.push(m.data as Seq));
  const errors: unknown[] = [];
  for (const s of everyone) s.on('decrypt_error', (e) => errors.push(e));

  const direct = traffic(
    'direct',
    a,
    (d) => a.send('bob', d),
    () => untilPeer(a, () => 'bob'),
  );
  const broadcast = traffic(
    'broadcast',
    c,
    (d) => c.broadcast(d),
    () => untilState(c, 'connected').then(() => undefined),
  );
  await next(b, 'message', (m) => (m.data as Seq).stream === 'direct' && (m.data as Seq).seq >= 20);

  const down = everyone.map((s) => next(s, 'reconnecting', (e) => e.attempt >= 2));
  await first.close();
  await Promise.all(down);
  const back = everyone.map((s) => next(s, 'reconnected'));
  h.server = await createServer({ port, host: '127.0.0.1', maxConnectionsPerIp: 1000 });
  await Promise.all(back);
  await allSeeAll();
  expect(everyone.map((s) => [s.privateId, s.state])).toEqual(names.map((n) => [n, 'connected']));

  // Traffic keeps flowing after the restart.
  const directMark = direct.acknowledged.length;
  await next(
    b,
    'message',
    (m) => (m.data as Seq).stream === 'direct' && (m.data as Seq).seq > (direct.acknowledged[directMark - 1] ?? 0) + 5,
  );
  await Promise.all([direct.stop(), broadcast.stop()]);

  // After recovery: a fixed batch, each message exactly once.
  const batch = Array.from({ length: 20 }, (_, i) => ({ stream: 'final', seq: i }));
  const finalAtB = next(b, 'message', (m) => (m.data as Seq).stream === 'final' && (m.data as Seq).seq === 19);
  const finalAtA = next(a, 'message', (m) => (m.data as Seq).stream === 'final' && (m.data as Seq).seq === 19);
  for (const d of batch) await c.broadcast(d);
  await Promise.all([finalAtB, finalAtA]);

  for (const [stream, received] of [
    ['direct', atB],
    ['broadcast', atB],
    ['final', atB],
    ['broadcast', atA],
    ['final', atA],
  ] as const) {
    const seqs = received.filter((d) => d.stream === stream).map((d) => d.seq);
    expect(new Set(seqs).size, `${stream} delivered twice`).toBe(seqs.length);
    expect(
      [...seqs].sort((x, y) => x - y),
      `${stream} out of order`,
    ).toEqual(seqs);
  }
  const finals = (list: Seq[]): number[] => list.filter((d) => d.stream === 'final').map((d) => d.seq);
  expect(finals(atB)).toEqual(batch.map((d) => d.seq));
  expect(finals(atA)).toEqual(batch.map((d) => d.seq));
  const directSeen = new Set(atB.filter((d) => d.stream === 'direct').map((d) => d.seq));
  const lateAcks = direct.acknowledged.slice(directMark);
  expect(lateAcks.length).toBeGreaterThan(0);
  expect(lateAcks.every((n) => directSeen.has(n))).toBe(true);
  expect(errors).toEqual([]);
});
