/**
 * The legacy drop-in as old pages use it: a classic `<script src=".../wssclient.js">`
 * (dist/legacy/wssclient.js) defining the global `WSSClient`, driven by plain ES5-style page
 * code with context-bound listeners, against the reference server in two Chromium contexts.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useBrowserSuite } from './harness.js';

/** An old-style page: the classic script, then an app object whose methods are the listeners' `this`. */
const LEGACY_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>legacy</title>
<script src="/dist/legacy/wssclient.js"></script>
<script>
var view = {
  lines: [],
  peers: [],
  closed: 0,
  show: function (result) { this.lines.push({ type: result.type, from: result.from, data: result.data }); }
};
var client = null;
function start(handshakeAddr, socketAddr, useHTTPHandshake, name) {
  client = new WSSClient(handshakeAddr);
  client.addEventListener('message', function (event) { this.show(event.data.result); }, view);
  client.addEventListener('peerconnect', function (event) { this.peers.push({ id: event.data.result.connect, name: event.data.result.options.name }); }, view);
  client.addEventListener('close', function () { this.closed++; }, view);
  return client.connect(socketAddr, useHTTPHandshake, { options: { name: name } }).then(function (event) {
    return JSON.parse(event.data).result.private_id;
  });
}
</script></head><body></body></html>`;

interface LegacyPage {
  view: {
    lines: Array<{ type: string; from: string; data: unknown }>;
    peers: Array<{ id: string; name: string }>;
    closed: number;
  };
  client: {
    broadcast(data: unknown, exclude?: unknown): Promise<{ data: string }>;
    send(data: unknown, to: unknown): Promise<{ data: string }>;
    privateID: string;
    peers: string[];
    disconnect(): Promise<true>;
  };
  start(handshakeAddr: string, socketAddr: string | null, useHTTPHandshake: boolean, name: string): Promise<string>;
  WSSClient: new (address?: string) => { toString(): string; handshakeServerAddr: string | null };
}

const suite = useBrowserSuite({ pages: { '/legacy.html': LEGACY_PAGE } });

async function legacyPage(): Promise<Page> {
  return (await suite.open(`${suite.assets.origin}/legacy.html`)).page;
}

describe('the classic script dist/legacy/wssclient.js in Chromium', () => {
  it('defines the global WSSClient of 0.4.1', async () => {
    const page = await legacyPage();
    expect(
      await page.evaluate(() => {
        const w = window as unknown as LegacyPage;
        const c = new w.WSSClient('ws://127.0.0.1:1');
        let refused: { name?: string; code?: string } = {};
        try {
          new w.WSSClient({} as never);
        } catch (error) {
          refused = { name: (error as Error).name, code: (error as { code?: string }).code };
        }
        return {
          type: typeof w.WSSClient,
          text: c.toString(),
          concat: `${String(c)}`,
          address: c.handshakeServerAddr,
          start: typeof w.start,
          refused,
        };
      }),
    ).toEqual({
      type: 'function',
      text: 'WSSClient',
      concat: 'WSSClient',
      address: 'ws://127.0.0.1:1',
      start: 'function',
      refused: { name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT' },
    });
  });

  it('lets old page code connect (HTTP and socket handshakes), broadcast and send with context-bound listeners', async () => {
    const [ann, bob] = await Promise.all([legacyPage(), legacyPage()]);
    const annId = await ann.evaluate(
      ({ http, ws }) => (window as unknown as LegacyPage).start(http, ws, true, 'old-ann'),
      { http: suite.server.httpUrl, ws: suite.server.url },
    );
    const bobId = await bob.evaluate(
      (ws) => (window as unknown as LegacyPage).start(ws, null, false, 'old-bob'),
      suite.server.url,
    );
    expect(annId).toMatch(/^[0-9a-f]{64}$/);
    expect(await bob.evaluate(() => (window as unknown as LegacyPage).client.peers)).toEqual([annId]);
    await ann.waitForFunction((id) => (window as unknown as LegacyPage).view.peers.some((p) => p.id === id), bobId);
    expect(await ann.evaluate(() => (window as unknown as LegacyPage).view.peers)).toEqual([
      { id: bobId, name: 'old-bob' },
    ]);

    const reply = await bob.evaluate(() =>
      (window as unknown as LegacyPage).client
        .broadcast('hello from an old page')
        .then((event) => JSON.parse(event.data) as unknown),
    );
    expect(reply).toMatchObject({ jsonrpc: '2.0', result: expect.anything() });
    await ann.waitForFunction(() => (window as unknown as LegacyPage).view.lines.length === 1);
    expect(await ann.evaluate(() => (window as unknown as LegacyPage).view.lines)).toEqual([
      { type: 'broadcast', from: bobId, data: 'hello from an old page' },
    ]);

    await ann.evaluate((to) => (window as unknown as LegacyPage).client.send({ n: 42 }, { rcp: [to] }), bobId);
    await bob.waitForFunction(() => (window as unknown as LegacyPage).view.lines.length === 1);
    expect(await bob.evaluate(() => (window as unknown as LegacyPage).view.lines)).toEqual([
      { type: 'direct', from: annId, data: { n: 42 } },
    ]);

    for (const page of [ann, bob]) await page.evaluate(() => (window as unknown as LegacyPage).client.disconnect());
    // disconnect() dispatches no close event, as in 0.4.1.
    expect(await ann.evaluate(() => (window as unknown as LegacyPage).view.closed)).toBe(0);
  });
});
