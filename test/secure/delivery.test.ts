/** Reliable delivery between SecureSessions through the reference server. */
import { afterEach, describe, expect, it } from 'vitest';
import { Harness, next } from './helpers.js';

const h = new Harness();
afterEach(() => h.stop());

describe('reliable delivery', () => {
  it('delivers and confirms a direct message and a broadcast', async () => {
    await h.start();
    const [a, b, c] = await h.group(3, { delivery: 'reliable' });
    const got = next(b, 'message');
    await a.send(b.privateId as string, { hi: 1 }, { await: 'delivered' });
    expect((await got).data).toEqual({ hi: 1 });
    const result = await a.broadcast('all', { await: 'delivered' });
    expect(result.confirmed.sort()).toEqual([b.privateId, c.privateId].sort());
    expect(result.unconfirmed).toEqual([]);
  });
});
