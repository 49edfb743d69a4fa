/**
 * SecureSession from the built browser bundle (dist/browser/secure.js) in two Chromium
 * contexts against the reference server: an end-to-end encrypted conversation with signed
 * identities, equal safety numbers at both ends, setPrivateId, and a reconnect after the
 * server cuts every socket. A flood past the incoming backlog's bound ends the connection
 * and reconnects (Chromium lets no client send close code 1008). Also: private keys made in
 * the browser are not extractable.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, SecureSession } from '../../src/secure/index.js';
import type { FrameParty } from '../../src/server/index.js';
import { eventsOf, useBrowserSuite, waitForEvent, type PageGlobals, type TestPage } from './harness.js';

type SecureModule = typeof import('../../src/secure/index.js');
type CryptoModule = typeof import('../../src/crypto/index.js');
type Session = InstanceType<SecureModule['SecureSession']>;

const SECRET_TEXT = 'the relay must never read this';

/** Every frame the server received, to show the relay only ever saw ciphertext. */
const relayed: string[] = [];
/** Envelopes the server sent to the private ID `watched`, for a test to replay. */
const toWatched: string[] = [];
let watched: string | null = null;
const suite = useBrowserSuite({
  server: {
    hooks: {
      incoming: (frame: string) => {
        relayed.push(frame);
        return frame;
      },
      outgoing: (frame: string, target: FrameParty) => {
        if (watched !== null && target.privateId === watched && frame.includes('"e2e":2')) toWatched.push(frame);
        return frame;
      },
    },
  },
});

function page(): Promise<TestPage> {
  return suite.open(`${suite.assets.origin}/`, { record: true });
}

/** Starts a SecureSession with a fresh signing identity in the page; resolves with its private ID. */
function startSession(p: TestPage, options: { url: string; handshakeUrl?: string; name: string }): Promise<string> {
  return p.page.evaluate(
    async ({ mod, options }) => {
      const w = window as unknown as PageGlobals;
      const { SecureSession, generateSigningKeyPair } = (await w.loadModule(mod)) as SecureModule;
      const session = new SecureSession({
        url: options.url,
        handshakeUrl: options.handshakeUrl,
        connectOptions: { name: options.name },
        identity: await generateSigningKeyPair(),
        reconnect: { interval: 20, maxInterval: 20, jitter: 0 },
      });
      const names = [
        'message',
        'peerconnect',
        'peerdisconnect',
        'peerpid',
        'privateid',
        'state',
        'peerkey',
        'reconnecting',
        'reconnected',
        'reconnect_failed',
        'decrypt_error',
        'error',
      ];
      w.record(session, names, 'session');
      w.objects.session = session;
      return (await session.connect()).privateId;
    },
    { mod: `${suite.assets.origin}/dist/browser/secure.js`, options },
  );
}

/** What the page's session says about itself and its peers right now. */
function status(page: Page) {
  return page.evaluate(() => {
    const session = (window as unknown as PageGlobals).objects.session as Session;
    const peers = [...session.peers.values()].map((peer) => ({ ...peer, safety: session.fingerprint(peer.privateId) }));
    return { privateId: session.privateId, state: session.state, encrypted: session.encrypted, peers };
  });
}

/** Waits until the page's session is connected and has a usable key for `count` peers. */
async function waitForUsablePeers(page: Page, count: number): Promise<void> {
  await page.waitForFunction((count) => {
    const session = (window as unknown as PageGlobals).objects.session as Session;
    const usable = [...session.peers.values()].filter(
      (peer) => peer.usable && session.fingerprint(peer.privateId) !== null,
    );
    return session.state === 'connected' && usable.length === count;
  }, count);
}

describe('SecureSession in Chromium (dist/browser/secure.js)', () => {
  it('holds an encrypted conversation with matching safety numbers, through setPrivateId and a reconnect', async () => {
    const [ann, bob] = await Promise.all([page(), page()]);
    const annId = await startSession(ann, { url: suite.server.url, handshakeUrl: suite.server.httpUrl, name: 'ann' });
    const bobId = await startSession(bob, { url: suite.server.url, name: 'bob' });
    await Promise.all([waitForUsablePeers(ann.page, 1), waitForUsablePeers(bob.page, 1)]);

    const [annView, bobView] = await Promise.all([status(ann.page), status(bob.page)]);
    expect(annView.peers).toEqual([
      expect.objectContaining({
        privateId: bobId,
        verified: true,
        usable: true,
        options: expect.objectContaining({ name: 'bob' }),
      }),
    ]);
    expect(bobView.peers).toEqual([expect.objectContaining({ privateId: annId, verified: true, usable: true })]);
    expect(annView.peers[0]?.safety).toMatch(/\d/);
    expect(annView.peers[0]?.safety).toBe(bobView.peers[0]?.safety);

    await bob.page.evaluate(
      ({ to, text }) => ((window as unknown as PageGlobals).objects.session as Session).send(to, { text }),
      { to: annId, text: SECRET_TEXT },
    );
    expect(await waitForEvent(ann.page, 'session', 'message', { type: 'direct' })).toMatchObject({
      from: bobId,
      encrypted: true,
      data: { text: SECRET_TEXT },
    });
    const result = await ann.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.session as Session).broadcast({ text: 'to everyone, encrypted' }),
    );
    expect(result).toMatchObject({ recipients: [bobId] });
    expect(await waitForEvent(bob.page, 'session', 'message', { type: 'broadcast' })).toMatchObject({
      from: annId,
      encrypted: true,
      data: { text: 'to everyone, encrypted' },
    });

    await ann.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.session as Session).setPrivateId('ann-secure'),
    );
    await waitForEvent(bob.page, 'session', 'peerpid', { oldPrivateId: annId, newPrivateId: 'ann-secure' });
    await bob.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.session as Session).send('ann-secure', 'after the rename'),
    );
    expect(await waitForEvent(ann.page, 'session', 'message', { data: 'after the rename' })).toMatchObject({
      from: bobId,
      encrypted: true,
    });

    // The server cuts every socket; both sides reconnect with new keys and the chosen private ID is restored.
    suite.server.dropConnections();
    await Promise.all([
      waitForEvent(ann.page, 'session', 'reconnected'),
      waitForEvent(bob.page, 'session', 'reconnected'),
    ]);
    await Promise.all([waitForUsablePeers(ann.page, 1), waitForUsablePeers(bob.page, 1)]);
    const [annAfter, bobAfter] = await Promise.all([status(ann.page), status(bob.page)]);
    expect(annAfter.privateId).toBe('ann-secure');
    expect(annAfter.peers.map((p) => p.privateId)).toEqual([bobAfter.privateId]);
    expect(annAfter.peers[0]?.safety).toBe(bobAfter.peers[0]?.safety);
    expect(annAfter.peers[0]?.safety).not.toBe(annView.peers[0]?.safety);
    for (const p of [ann, bob])
      expect((await eventsOf(p.page, 'session', 'state')).map((e) => e.payload.state)).toContain('reconnecting');

    await bob.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.session as Session).send('ann-secure', {
        text: 'after the reconnect',
      }),
    );
    expect(await waitForEvent(ann.page, 'session', 'message', { data: { text: 'after the reconnect' } })).toMatchObject(
      { from: bobAfter.privateId, encrypted: true },
    );

    for (const p of [ann, bob]) {
      expect(await eventsOf(p.page, 'session', 'decrypt_error')).toEqual([]);
      expect(await eventsOf(p.page, 'session', 'error')).toEqual([]);
    }
    expect(relayed.some((frame) => frame.includes(SECRET_TEXT) || frame.includes('after the re'))).toBe(false);
    expect(relayed.length).toBeGreaterThan(0);
    await Promise.all(
      [ann, bob].map((p) =>
        p.page.evaluate(() => ((window as unknown as PageGlobals).objects.session as Session).disconnect()),
      ),
    );
    expect(await status(ann.page)).toMatchObject({ state: 'disconnected' });
  });

  it('a flood past maxBacklogFrames: QueueFullError, close 1008, the backlog dropped, a reconnect that works', async () => {
    type Pins = { hold: boolean; held: Array<(ok: boolean) => void> };
    const ann = await page();
    const annId = await ann.page.evaluate(
      async ({ mod, url }) => {
        const w = window as unknown as PageGlobals & { pins: Pins };
        const { SecureSession, generateSigningKeyPair } = (await w.loadModule(mod)) as SecureModule;
        // The page's pin answers at once until told to hold (a held pin is how frames pile up), and from the error on.
        w.pins = { hold: false, held: [] };
        const session = new SecureSession({
          url,
          identity: await generateSigningKeyPair(),
          maxBacklogFrames: 10,
          reconnect: { interval: 20, maxInterval: 20, jitter: 0 },
          verifyPeerIdentity: () => (w.pins.hold ? new Promise<boolean>((resolve) => w.pins.held.push(resolve)) : true),
        });
        session.on('error', () => {
          w.pins.hold = false;
        });
        w.record(session, ['message', 'error', 'close', 'reconnected', 'decrypt_error', 'state', 'peerkey'], 'session');
        w.objects.session = session;
        return (await session.connect()).privateId;
      },
      { mod: `${suite.assets.origin}/dist/browser/secure.js`, url: suite.server.url },
    );
    const peer = new SecureSession({ url: suite.server.url, identity: await generateSigningKeyPair() });
    try {
      await peer.connect();
      const peerId = peer.privateId as string;
      await waitForUsablePeers(ann.page, 1);
      watched = annId;
      await peer.send(annId, 'before');
      await waitForEvent(ann.page, 'session', 'message', { data: 'before' });
      const envelope = toWatched[0] as string;
      const advert = await ann.page.evaluate(
        (id) => ((window as unknown as PageGlobals).objects.session as Session).peers.get(id)?.options,
        peerId,
      );
      await ann.page.evaluate(() => {
        (window as unknown as { pins: Pins }).pins.hold = true;
      });
      // The peer sees the page's next connection, whenever it comes.
      const rekeyed = new Promise<string>((resolve) =>
        peer.on('peerkey', (e) => e.privateId !== annId && e.fingerprint && resolve(e.privateId)),
      );
      // The relay announces the peer again (its pin is held), then floods the page with copies.
      const push = (result: unknown): string => JSON.stringify({ jsonrpc: '2.0', result });
      suite.server.sendRaw(annId, push({ type: 'session', disconnect: peerId }));
      suite.server.sendRaw(annId, push({ type: 'session', connect: peerId, options: advert }));
      for (let i = 0; i < 30; i++) suite.server.sendRaw(annId, envelope);
      expect(await waitForEvent(ann.page, 'session', 'error')).toMatchObject({
        name: 'QueueFullError',
        code: 'ERR_QUEUE_FULL',
      });
      expect(await waitForEvent(ann.page, 'session', 'close')).toEqual({
        code: 1008,
        reason: 'client limit exceeded',
        requested: false,
      });
      await ann.page.evaluate(() => {
        for (const answer of (window as unknown as { pins: Pins }).pins.held) answer(true);
      });
      await waitForEvent(ann.page, 'session', 'reconnected');
      const annAfter = await rekeyed;
      await waitForUsablePeers(ann.page, 1);
      await peer.send(annAfter, 'after');
      await waitForEvent(ann.page, 'session', 'message', { data: 'after' });
      const messages = await eventsOf(ann.page, 'session', 'message');
      expect(messages.map((e) => e.payload.data)).toEqual(['before', 'after']);
      expect(await eventsOf(ann.page, 'session', 'decrypt_error')).toEqual([]);
      expect(
        await ann.page.evaluate(() => ((window as unknown as PageGlobals).objects.session as Session).backlog),
      ).toEqual({
        frames: 0,
        bytes: 0,
      });
    } finally {
      watched = null;
      await peer.disconnect();
      await ann.page.evaluate(() => ((window as unknown as PageGlobals).objects.session as Session).disconnect());
    }
  });

  it('keeps private keys made in the browser non-extractable', async () => {
    const p = await page();
    const outcome = await p.page.evaluate(async (mod) => {
      const w = window as unknown as PageGlobals;
      const { generateECDHKeyPair, generateSigningKeyPair } = (await w.loadModule(mod)) as CryptoModule;
      const exportFails = (key: CryptoKey, format: 'pkcs8' | 'jwk') =>
        crypto.subtle.exportKey(format, key).then(
          () => 'exported',
          (error: Error) => error.name,
        );
      const ecdh = await generateECDHKeyPair();
      const signing = await generateSigningKeyPair();
      return {
        ecdh: {
          extractable: ecdh.keyPair.privateKey.extractable,
          pkcs8: await exportFails(ecdh.keyPair.privateKey, 'pkcs8'),
          jwk: await exportFails(ecdh.keyPair.privateKey, 'jwk'),
        },
        signing: {
          extractable: signing.privateKey.extractable,
          pkcs8: await exportFails(signing.privateKey, 'pkcs8'),
          jwk: await exportFails(signing.privateKey, 'jwk'),
        },
        publicKeyBytes: (await crypto.subtle.exportKey('raw', ecdh.keyPair.publicKey)).byteLength,
      };
    }, `${suite.assets.origin}/dist/browser/crypto.js`);
    expect(outcome).toEqual({
      ecdh: { extractable: false, pkcs8: 'InvalidAccessError', jwk: 'InvalidAccessError' },
      signing: { extractable: false, pkcs8: 'InvalidAccessError', jwk: 'InvalidAccessError' },
      publicKeyBytes: 65,
    });
  });
});
