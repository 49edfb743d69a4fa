/**
 * WSSClient from the built browser bundle (dist/browser/index.js) in real Chromium pages,
 * against the reference server: an HTTP (fetch, cross-origin) and a socket handshake,
 * broadcast and direct messages between two browser contexts, setPrivateId and leaving.
 */
import { createServer as createTcpServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventsOf, openPage, useBrowserSuite, waitForEvent, type PageGlobals, type TestPage } from './harness.js';

type CoreModule = typeof import('../../src/index.js');
type Client = InstanceType<CoreModule['WSSClient']>;

const suite = useBrowserSuite();

function page(): Promise<TestPage> {
  return suite.open(`${suite.assets.origin}/`, { record: true });
}

/** Creates a WSSClient in the page from the bundle and connects it; resolves with what `connect()` gave and the page's facts. */
function connectClient(p: TestPage, options: { url: string; handshakeUrl?: string; name: string }) {
  return p.page.evaluate(
    async ({ mod, options }) => {
      const w = window as unknown as PageGlobals;
      const { WSSClient } = (await w.loadModule(mod)) as CoreModule;
      const client = new WSSClient({
        url: options.url,
        handshakeUrl: options.handshakeUrl,
        connectOptions: { name: options.name },
      });
      w.record(
        client,
        ['message', 'peerconnect', 'peerdisconnect', 'peerpid', 'privateid', 'error', 'close'],
        'client',
      );
      w.objects.client = client;
      const result = await client.connect();
      return { ...result, verified: client.privateIdVerified, state: client.state, secure: isSecureContext };
    },
    { mod: `${suite.assets.origin}/dist/browser/index.js`, options },
  );
}

describe('WSSClient in Chromium (dist/browser/index.js)', () => {
  it('handshakes over HTTP and over the socket, then broadcasts, sends direct, changes a private ID and leaves', async () => {
    const [ann, bob] = await Promise.all([page(), page()]);
    const a = await connectClient(ann, { url: suite.server.url, handshakeUrl: suite.server.httpUrl, name: 'ann' });
    expect(a).toMatchObject({ peers: [], verified: true, state: 'connected', secure: true });
    const b = await connectClient(bob, { url: suite.server.url, name: 'bob' });
    expect(b).toMatchObject({ peers: [a.privateId], verified: true, state: 'connected' });
    expect(suite.server.sessions).toEqual([a.privateId, b.privateId]);

    const joined = await waitForEvent(ann.page, 'client', 'peerconnect', { privateId: b.privateId });
    expect(joined.options).toMatchObject({ name: 'bob', wss: true });
    expect(
      await ann.page.evaluate(() => [...((window as unknown as PageGlobals).objects.client as Client).peers.keys()]),
    ).toEqual([b.privateId]);

    await bob.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.client as Client).broadcast({ text: 'hi all', n: 1 }),
    );
    expect(await waitForEvent(ann.page, 'client', 'message', { type: 'broadcast' })).toMatchObject({
      from: b.privateId,
      data: { text: 'hi all', n: 1 },
    });

    await ann.page.evaluate(
      (to) => ((window as unknown as PageGlobals).objects.client as Client).send(to, 'just you'),
      b.privateId,
    );
    expect(await waitForEvent(bob.page, 'client', 'message', { type: 'direct' })).toMatchObject({
      from: a.privateId,
      data: 'just you',
    });

    const renamed = await ann.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.client as Client).setPrivateId('ann-in-chromium'),
    );
    expect(renamed).toBe('ann-in-chromium');
    expect(await waitForEvent(bob.page, 'client', 'peerpid', { newPrivateId: 'ann-in-chromium' })).toMatchObject({
      oldPrivateId: a.privateId,
    });
    await waitForEvent(ann.page, 'client', 'privateid', { privateId: 'ann-in-chromium' });
    await bob.page.evaluate(() =>
      ((window as unknown as PageGlobals).objects.client as Client).send('ann-in-chromium', 'to the new id'),
    );
    await waitForEvent(ann.page, 'client', 'message', { type: 'direct', data: 'to the new id' });

    await bob.page.evaluate(() => ((window as unknown as PageGlobals).objects.client as Client).disconnect());
    await waitForEvent(ann.page, 'client', 'peerdisconnect', { privateId: b.privateId });
    expect(
      await ann.page.evaluate(() => ((window as unknown as PageGlobals).objects.client as Client).peers.size),
    ).toBe(0);

    // Nothing arrived twice, and no client reported bad input from the network.
    expect(await eventsOf(ann.page, 'client', 'message')).toHaveLength(2);
    expect(await eventsOf(bob.page, 'client', 'message')).toHaveLength(1);
    for (const p of [ann, bob]) expect(await eventsOf(p.page, 'client', 'error')).toEqual([]);
    await ann.page.evaluate(() => ((window as unknown as PageGlobals).objects.client as Client).disconnect());
  });

  it('rejects a request the server refuses with a typed RpcError in the page', async () => {
    const [dan, eve] = await Promise.all([page(), page()]);
    const d = await connectClient(dan, { url: suite.server.url, name: 'dan' });
    await connectClient(eve, { url: suite.server.url, name: 'eve' });
    const failure = await eve.page.evaluate(async (taken) => {
      const client = (window as unknown as PageGlobals).objects.client as Client;
      try {
        await client.setPrivateId(taken);
        return null;
      } catch (error) {
        const e = error as { name: string; code: string; rpcCode?: number; method?: string };
        return { name: e.name, code: e.code, rpcCode: e.rpcCode, method: e.method, isError: error instanceof Error };
      }
    }, d.privateId);
    // The minified bundle keeps class names readable: `name` is set explicitly, not taken from the constructor.
    expect(failure).toMatchObject({ name: 'RpcError', code: 'ERR_RPC', rpcCode: -32602, isError: true });
    await Promise.all(
      [dan, eve].map((p) =>
        p.page.evaluate(() => ((window as unknown as PageGlobals).objects.client as Client).disconnect()),
      ),
    );
  });

  it('says what to check when nothing listens at the URL: a browser tells only 1006', async () => {
    const probe = createTcpServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const url = `ws://127.0.0.1:${(probe.address() as { port: number }).port}/`;
    await new Promise((done) => probe.close(done));
    // Not through suite.open: Chromium itself logs the failed connection as a console error, checked below.
    const p = await openPage(suite.browser, `${suite.assets.origin}/`);
    try {
      const failure = await p.page.evaluate(
        async ({ mod, url }) => {
          const { WSSClient } = (await (window as unknown as PageGlobals).loadModule(mod)) as CoreModule;
          const client = new WSSClient({ url });
          const error = (await client.connect().catch((e: unknown) => e)) as Record<string, unknown>;
          return { name: error.name, code: error.code, closeCode: error.closeCode, message: error.message };
        },
        { mod: `${suite.assets.origin}/dist/browser/index.js`, url },
      );
      expect(failure).toEqual({
        name: 'ConnectionClosedError',
        code: 'ERR_CONNECTION_CLOSED',
        closeCode: 1006,
        message: `opening ${url} failed: the connection closed before it opened (code 1006); check the URL and that the server is running`,
      });
      for (const line of p.errors) expect(line).toMatch(/^console\.error: WebSocket connection to .* failed/);
    } finally {
      await p.context.close();
    }
  });
});
