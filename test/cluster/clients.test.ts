/**
 * Unchanged clients on a three-node cluster: the 0.4.1 drop-in as old pages load it (the classic
 * script dist/legacy/wssclient.js in Chromium) and SecureSession, each with peers on other nodes.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecureSession } from '../../src/secure/index.js';
import { AssetServer, launchChromium, openPage, type TestPage } from '../browser/harness.js';
import { next, untilPeer } from '../secure/helpers.js';
import { useCluster } from './cluster-fixture.js';

const cluster = useCluster();

/** An old page: the classic script, and `start()` as 0.4.1 code would write it, recording what arrives. */
const OLD_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>old</title>
<script src="/dist/legacy/wssclient.js"></script>
<script>
var seen = { peers: [], messages: [] };
var client = null;
function start(handshakeAddr, socketAddr, useHTTPHandshake, name) {
  client = new WSSClient(handshakeAddr);
  client.addEventListener('peerconnect', function (event) { seen.peers.push(event.data.result.connect); });
  client.addEventListener('message', function (event) {
    var r = event.data.result;
    seen.messages.push({ type: r.type, from: r.from, data: r.data });
  });
  return client.connect(socketAddr, useHTTPHandshake, { options: { name: name } }).then(function (event) {
    return JSON.parse(event.data).result.private_id;
  });
}
</script></head><body></body></html>`;

interface OldPage {
  seen: { peers: string[]; messages: Array<{ type: string; from: string; data: unknown }> };
  client: {
    peers: string[];
    broadcast(data: unknown): Promise<unknown>;
    send(data: unknown, to: unknown): Promise<unknown>;
  };
  start(handshakeAddr: string, socketAddr: string | null, useHTTPHandshake: boolean, name: string): Promise<string>;
}

let browser: Browser | undefined;
let assets: AssetServer | undefined;
const pages: TestPage[] = [];
const sessions: SecureSession[] = [];

beforeAll(async () => {
  [browser, assets] = await Promise.all([launchChromium(), AssetServer.start({ '/old.html': OLD_PAGE })]);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.disconnect()));
  await Promise.all(pages.map((p) => p.context.close()));
  await Promise.all([browser?.close(), assets?.close()]);
  for (const { errors } of pages) expect(errors).toEqual([]);
});

async function oldPage(): Promise<Page> {
  const page = await openPage(browser!, `${assets!.origin}/old.html`);
  pages.push(page);
  return page.page;
}

describe('the 0.4.1 client (legacy-compat script) across nodes', () => {
  it('handshakes over HTTP on one node, connects on another, and talks to a page on a third', async () => {
    const [n0, n1, n2] = cluster.nodes;
    const [ann, bob] = await Promise.all([oldPage(), oldPage()]);
    const annId = await ann.evaluate(({ http, ws }) => (window as unknown as OldPage).start(http, ws, true, 'ann'), {
      http: n0!.httpUrl,
      ws: n1!.url,
    });
    const bobId = await bob.evaluate((ws) => (window as unknown as OldPage).start(ws, null, false, 'bob'), n2!.url);
    expect(await bob.evaluate(() => (window as unknown as OldPage).client.peers)).toContain(annId);
    await ann.waitForFunction((id) => (window as unknown as OldPage).seen.peers.includes(id), bobId);

    await bob.evaluate(() => (window as unknown as OldPage).client.broadcast('hello across nodes'));
    await ann.waitForFunction(() => (window as unknown as OldPage).seen.messages.length === 1);
    expect(await ann.evaluate(() => (window as unknown as OldPage).seen.messages)).toEqual([
      { type: 'broadcast', from: bobId, data: 'hello across nodes' },
    ]);
    await ann.evaluate((to) => (window as unknown as OldPage).client.send({ n: 42 }, { rcp: [to] }), bobId);
    await bob.waitForFunction(() => (window as unknown as OldPage).seen.messages.length === 1);
    expect(await bob.evaluate(() => (window as unknown as OldPage).seen.messages)).toEqual([
      { type: 'direct', from: annId, data: { n: 42 } },
    ]);
  });
});

describe('SecureSession across nodes', () => {
  it('agrees keys with peers on other nodes and exchanges encrypted messages and broadcasts', async () => {
    const [a, b, c] = cluster.nodes.map((node) => new SecureSession({ url: node.url, info: 'cluster-test' }));
    sessions.push(a!, b!, c!);
    for (const s of [a!, b!, c!]) await s.connect();
    await Promise.all([
      untilPeer(a!, () => b!.privateId),
      untilPeer(a!, () => c!.privateId),
      untilPeer(b!, () => c!.privateId),
    ]);
    const pa = a!.privateId as string;
    expect(b!.fingerprint(pa)).toBe(a!.fingerprint(b!.privateId as string));

    const direct = next(c!, 'message', (m) => m.from === pa);
    await a!.send(c!.privateId as string, { secret: 'for c only' });
    expect(await direct).toMatchObject({ from: pa, data: { secret: 'for c only' } });
    const [atB, atC] = [
      next(b!, 'message', (m) => m.data === 'to all'),
      next(c!, 'message', (m) => m.data === 'to all'),
    ];
    await a!.broadcast('to all');
    expect([(await atB).from, (await atC).from]).toEqual([pa, pa]);
  });
});
