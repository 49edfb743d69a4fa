/** Which sends of a burst share an envelope: only those of the same kind to the same private IDs, in order, with no per-request options. */
import { afterEach, describe, expect, it } from 'vitest';
import type { SecureMessageEvent } from '../../src/secure/index.js';
import { collect, Harness, next } from './helpers.js';

const h = new Harness();
afterEach(() => h.stop());

describe('SecureSession batching', () => {
  it('a burst mixing recipients, kinds, exclusions and timeouts: each message reaches exactly its recipients, in order', async () => {
    /** The `to` list of every WSS_Send the relay receives. */
    const sends: string[][] = [];
    await h.start({
      hooks: {
        incoming: (frame) => {
          const { method, params } = JSON.parse(frame) as { method?: string; params?: { to?: { rcp: string[] } } };
          if (method === 'WSS_Send') sends.push(params?.to?.rcp ?? []);
          return frame;
        },
      },
    });
    const [a, b, c] = await h.group(3);
    const [pb, pc] = [b.privateId as string, c.privateId as string];
    const got = [b, c].map((s) => collect(s, 'message'));
    const done = [b, c].map((s) => next(s, 'message', (m) => m.data === 'end'));
    sends.length = 0;
    const burst = [
      a.send(pb, 'b1'),
      a.send(pb, 'b2'),
      a.send(pc, 'c1'),
      a.send([pb, pc], 'bc1'),
      a.send([pc, pb], 'cb1'),
      a.broadcast('all1'),
      a.broadcast('all2'),
      a.broadcast('not-b', { exclude: [pb] }),
      a.send(pb, 'alone', { timeoutMs: 10_000 }),
      a.send(pb, 'b3'),
      a.broadcast('end'),
    ];
    await Promise.all(burst);
    await Promise.all(done);
    const seen = (messages: SecureMessageEvent[]) => messages.map((m) => `${m.type[0]}:${m.data}`);
    expect(seen(got[0] as SecureMessageEvent[])).toEqual([
      'd:b1',
      'd:b2',
      'd:bc1',
      'd:cb1',
      'b:all1',
      'b:all2',
      'd:alone',
      'd:b3',
      'b:end',
    ]);
    expect(seen(got[1] as SecureMessageEvent[])).toEqual([
      'd:c1',
      'd:bc1',
      'd:cb1',
      'b:all1',
      'b:all2',
      'b:not-b',
      'b:end',
    ]);
    // The first send goes alone (a lone send is never delayed); then runs of joinable sends share a frame.
    expect(sends.map((to) => to.join(' '))).toEqual([
      pb,
      pb,
      pc,
      `${pb} ${pc}`,
      `${pc} ${pb}`,
      `${pb} ${pc}`,
      pc,
      pb,
      pb,
      `${pb} ${pc}`,
    ]);
  });
});
