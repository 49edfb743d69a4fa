/**
 * EncryptedWebSocketClient from the built browser bundle (dist/browser/signal.js) in two
 * Chromium contexts against the reference server's Signal endpoint at /stream: HS256 JWT
 * authentication, ECDH key agreement with a server signature checked in the browser,
 * encrypted echo, room publishing between the pages and from the server.
 */
import { SignJWT } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { bytesToBase64 } from '../../src/crypto/index.js';
import { SIGNAL_PATH } from '../../src/server/index.js';
import { eventsOf, useBrowserSuite, waitForEvent, type PageGlobals } from './harness.js';

type SignalModule = typeof import('../../src/signal/index.js');
type Client = InstanceType<SignalModule['EncryptedWebSocketClient']>;

const SECRET = 'browser-test-secret-of-at-least-32-bytes';
const ECDH_INFO = 'wss-sessions-browser-test';

let serverVerifyKey = '';

function token(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));
}

const suite = useBrowserSuite({
  server: async () => {
    const signing = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    serverVerifyKey = bytesToBase64(new Uint8Array(await crypto.subtle.exportKey('raw', signing.publicKey)));
    return { signal: { ecdhInfo: ECDH_INFO, jwtSecret: SECRET, signingKey: signing.privateKey } };
  },
});

// Runs after the suite's beforeAll, which started the server.
beforeAll(() => {
  suite.server.signal?.on('chat.say', async (ctx, data) => {
    await ctx.publish('lobby', 'chat.said', { from: ctx.userId, data });
  });
});

/** Opens a page, connects a client there as `user` (joined to 'lobby'), and resolves with what it reports. */
async function connectedPage(user: string) {
  const p = await suite.open(`${suite.assets.origin}/`, { record: true });
  const info = await p.page.evaluate(
    async ({ mod, options }) => {
      const w = window as unknown as PageGlobals;
      const { EncryptedWebSocketClient } = (await w.loadModule(mod)) as SignalModule;
      const client = new EncryptedWebSocketClient({ ...options, autoJoinRooms: ['lobby'] });
      w.record(client, ['connected', 'echo', 'chat.said', 'notice', 'error', 'reconnect_failed'], 'signal');
      client.onStateChange((state) => w.log.push({ event: 'state', tag: 'signal', payload: { state } }));
      w.objects.client = client;
      await client.connect();
      return {
        state: client.getState(),
        encrypted: client.isEncrypted(),
        userId: client.getUserId(),
        clientId: client.getClientId(),
      };
    },
    {
      mod: `${suite.assets.origin}/dist/browser/signal.js`,
      options: {
        url: `${suite.server.url}${SIGNAL_PATH}`,
        ecdhInfo: ECDH_INFO,
        token: await token(user),
        serverVerifyKey,
      },
    },
  );
  return { ...p, info };
}

describe('EncryptedWebSocketClient in Chromium (dist/browser/signal.js)', () => {
  it('authenticates with a JWT, checks the server signature, and exchanges encrypted events', async () => {
    const [ann, bob] = await Promise.all([connectedPage('ann'), connectedPage('bob')]);
    expect(ann.info).toMatchObject({ state: 'authenticated', encrypted: true, userId: 'ann' });
    expect(bob.info).toMatchObject({ state: 'authenticated', encrypted: true, userId: 'bob' });
    expect((await waitForEvent(ann.page, 'signal', 'connected')).signature).toEqual(expect.any(String));
    expect((await eventsOf(ann.page, 'signal', 'state')).map((e) => e.payload.state)).toEqual([
      'connecting',
      'authenticating',
      'authenticated',
    ]);

    await ann.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.client as Client).send('echo', { text: 'there and back' }),
    );
    expect(await waitForEvent(ann.page, 'signal', 'echo')).toEqual({ text: 'there and back' });

    // Room membership is the server's to report; wait until both joins were handled.
    await vi.waitFor(() => expect(suite.server.signal?.clients.map((c) => c.rooms)).toEqual([['lobby'], ['lobby']]));
    await ann.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.client as Client).send('chat.say', 'hello bob'),
    );
    expect(await waitForEvent(bob.page, 'signal', 'chat.said')).toEqual({ from: 'ann', data: 'hello bob' });

    expect(await suite.server.signal?.publish('lobby', 'notice', { text: 'from the server' })).toBe(2);
    for (const p of [ann, bob])
      expect(await waitForEvent(p.page, 'signal', 'notice')).toEqual({ text: 'from the server' });
    // A client's publish goes to the other members only; the notice came after it on the same socket.
    expect(await eventsOf(ann.page, 'signal', 'chat.said')).toEqual([]);
    for (const p of [ann, bob]) expect(await eventsOf(p.page, 'signal', 'error')).toEqual([]);

    await Promise.all(
      [ann, bob].map((p) =>
        p.page.evaluate(() => ((window as unknown as PageGlobals).objects.client as Client).destroy()),
      ),
    );
    await vi.waitFor(() => expect(suite.server.signal?.clients).toEqual([]));
  });

  it('takes an AbortSignal in connect() and send(): AbortError, and the client keeps working', async () => {
    const { page } = await connectedPage('carol');
    const outcome = await page.evaluate(async () => {
      const w = window as unknown as PageGlobals;
      const client = w.objects.client as Client;
      const name = (p: Promise<unknown>): Promise<string> =>
        p.then(
          () => 'resolved',
          (err: Error) => `${err.name} ${(err as { code?: string }).code}`,
        );
      const controller = new AbortController();
      const aborted = client.send('echo', 'never', { signal: controller.signal });
      controller.abort();
      const sendAborted = await name(aborted);
      const sendBefore = await name(client.send('echo', 'never', { signal: AbortSignal.abort() }));
      await client.send('echo', 'after');
      const Ctor = client.constructor as new (options: object) => Client;
      const other = new Ctor({ url: 'ws://127.0.0.1:9/stream', ecdhInfo: 'x', token: 't', logger: console });
      const connectBefore = await name(other.connect({ signal: AbortSignal.abort() }));
      return { sendAborted, sendBefore, connectBefore, otherState: other.getState() };
    });
    expect(outcome).toEqual({
      sendAborted: 'AbortError ERR_ABORTED',
      sendBefore: 'AbortError ERR_ABORTED',
      connectBefore: 'AbortError ERR_ABORTED',
      otherState: 'disconnected',
    });
    // Only the send that was not aborted went out, and came back.
    expect(await waitForEvent(page, 'signal', 'echo')).toBe('after');
    expect((await eventsOf(page, 'signal', 'echo')).map((e) => e.payload)).toEqual(['after']);
    await page.evaluate(() => ((window as unknown as PageGlobals).objects.client as Client).destroy());
  });
});
