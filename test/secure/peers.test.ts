/** The peer table and the replay ledger on their own, with real keys. */
import { describe, expect, it } from 'vitest';
import { KeyFormatError } from '../../src/errors.js';
import { PeerTable } from '../../src/secure/peers.js';
import { ReplayLedger } from '../../src/secure/replay.js';
import { checkPeer, createLocalKeys, type LocalKeys, type PeerKeys } from '../../src/secure/scheme.js';

const policy = { info: 'app', requirePeerIdentity: false };
const keysOf = (own: LocalKeys, peer: LocalKeys): Promise<PeerKeys> => checkPeer('p', peer.advert, own, policy);

describe('ReplayLedger', () => {
  it('one holder per key; a released key comes back with its counter; keys that delivered nothing are forgotten', () => {
    const ledger = new ReplayLedger(2);
    const counter = ledger.claim('K1');
    expect(counter).toEqual({ received: 0 });
    expect(ledger.claim('K1')).toBeUndefined();
    (counter as { received: number }).received = 7;
    expect(ledger.release('K1', counter as { received: number })).toBe(true);
    expect(ledger.retired).toBe(1);
    expect(ledger.claim('K1')).toEqual({ received: 7 });
    const silent = ledger.claim('K2');
    expect(ledger.release('K2', silent as { received: number })).toBe(true);
    expect(ledger.retired).toBe(0);
  });

  it('past maxRetired it says so rather than forget a key', () => {
    const ledger = new ReplayLedger(1);
    for (const [pk, n, within] of [
      ['A', 1, true],
      ['B', 1, false],
    ] as const) {
      const c = ledger.claim(pk) as { received: number };
      c.received = n;
      expect(ledger.release(pk, c)).toBe(within);
    }
    ledger.clear();
    expect(ledger.retired).toBe(0);
    expect(ledger.claim('A')).toEqual({ received: 0 });
  });
});

describe('PeerTable', () => {
  it('binds the counter to the key: the same key under another private ID, after a removal, continues', async () => {
    const [own, a] = await Promise.all([createLocalKeys('app'), createLocalKeys('app')]);
    const table = new PeerTable(true, 10);
    const keys = await keysOf(own, a);
    expect(table.announce(own, 'alice', { e2e: a.advert }, keys)).toMatchObject({ joined: true, refused: false });
    (table.get('alice')?.counter as { received: number }).received = 5;
    // The same key announced again changes nothing.
    expect(table.announce(own, 'alice', { e2e: a.advert }, await keysOf(own, a))).toBeNull();
    // Under a second private ID at once: refused.
    const twice = table.announce(own, 'mallory', { e2e: a.advert }, await keysOf(own, a));
    expect(twice).toMatchObject({ refused: true, key: { fingerprint: null } });
    expect(twice?.key?.error).toBeInstanceOf(KeyFormatError);
    expect(table.view.get('mallory')?.usable).toBe(false);
    expect(table.remove('alice')).toEqual({ listed: true, overflow: false });
    table.remove('mallory');
    table.announce(own, 'trudy', { e2e: a.advert }, await keysOf(own, a));
    expect(table.get('trudy')?.counter).toEqual({ received: 5 });
    expect(table.view.get('trudy')).toMatchObject({ usable: true, fingerprint: keys.fingerprint });
  });

  it("refuses this session's own key and renames onto a taken private ID", async () => {
    const [own, a, c] = await Promise.all([createLocalKeys('app'), createLocalKeys('app'), createLocalKeys('app')]);
    const table = new PeerTable(true, 10);
    expect(table.announce(own, 'mirror', { e2e: own.advert }, await keysOf(own, own))).toMatchObject({ refused: true });
    table.announce(own, 'alice', {}, await keysOf(own, a));
    table.announce(own, 'carol', {}, await keysOf(own, c));
    const [alice, carol] = [table.view.get('alice'), table.view.get('carol')];
    expect(table.rename('alice', 'carol')).toBe('taken');
    expect([table.view.get('alice'), table.view.get('carol')]).toEqual([alice, carol]);
    expect(table.rename('nobody', 'someone')).toBe('unknown');
    const entry = table.get('alice');
    expect(table.rename('alice', 'alicia')).toBe('renamed');
    expect(table.get('alicia')).toBe(entry);
    expect(entry?.id).toBe('alicia');
    expect(table.view.get('alicia')?.privateId).toBe('alicia');
    expect(table.clear()).toEqual(['mirror', 'carol', 'alicia']);
    expect(table.size).toBe(0);
  });

  it('a key change releases the old key and reports the previous safety number', async () => {
    const [own, a, b] = await Promise.all([createLocalKeys('app'), createLocalKeys('app'), createLocalKeys('app')]);
    const table = new PeerTable(true, 0);
    const first = await keysOf(own, a);
    table.announce(own, 'alice', {}, first);
    // A key that never delivered is not remembered, so even a bound of 0 is not passed.
    const changed = table.announce(own, 'alice', {}, await keysOf(own, b));
    expect(changed).toMatchObject({ joined: false, overflow: false, key: { previousFingerprint: first.fingerprint } });
    (table.get('alice')?.counter as { received: number }).received = 1;
    expect(table.announce(own, 'alice', {}, first)?.overflow).toBe(true);
  });
});
