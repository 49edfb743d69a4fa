/** AbortSignal in EncryptedWebSocketClient.connect() and send(): typed rejection, nothing left behind. */
import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { decrypt } from '../../src/crypto/index.js';
import { SYNC_AES_GCM_LIMIT } from '../../src/node/aes-gcm.js';
import { AbortError } from '../../src/signal/index.js';
import { hostileSetup } from '../helpers/hostile-signal.js';
import {
  connectHostile,
  type HostileConn,
  HostileServer,
  honestHandshake,
  RecordingWebSocket,
  whenState,
} from './helpers.js';

const h = hostileSetup({ token: 't', WebSocket: RecordingWebSocket });
const { fx, client } = h;

/**
 * Watches the timers the client starts: `started(ms)` is the timer started with a delay of
 * `ms` give or take the reconnect jitter (±50 %); `cleared(timer)` whether it was cleared. The
 * delays the tests choose are far from ws's own 30 s close timer.
 */
function watchTimers() {
  const set = vi.spyOn(globalThis, 'setTimeout');
  const clear = vi.spyOn(globalThis, 'clearTimeout');
  return {
    started(ms: number): unknown {
      const at = set.mock.calls.findIndex(([, delay = 0]) => delay >= ms / 2 && delay < 1.5 * ms);
      return at < 0 ? undefined : set.mock.results[at]?.value;
    },
    cleared: (timer: unknown): boolean => clear.mock.calls.some(([t]) => t === timer),
  };
}
const abortListeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** The next `encrypted` frame the hostile side gets, decrypted. */
async function nextSent(conn: HostileConn, aesKey: CryptoKey): Promise<{ event: string; data: unknown }> {
  const frame = await conn.nextOf('encrypted');
  return JSON.parse(await decrypt({ payload: frame.data, aesKey }));
}

describe('connect({ signal })', () => {
  it('an aborted signal rejects at once with AbortError and starts nothing', async () => {
    const { client: c, states } = client();
    const reason = new Error('user left the page');
    const connecting = c.connect({ signal: AbortSignal.abort(reason) });
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_ABORTED', cause: reason });
    expect(states).toEqual([]);
    expect(RecordingWebSocket.instances).toHaveLength(0);
  });

  it('aborting during the handshake closes the socket, clears the handshake timer and removes its listener', async () => {
    const timers = watchTimers();
    const { client: c, states } = client({ handshakeTimeout: 61_000 });
    const controller = new AbortController();
    const connecting = c.connect({ signal: controller.signal });
    const conn = await h.server.nextConnection();
    await conn.nextOf('authenticate');
    await whenState(c, 'authenticating');
    const handshakeTimer = timers.started(61_000);
    expect(handshakeTimer).toBeDefined();
    controller.abort();
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    expect(await conn.closed).toBe(1000);
    expect(c.getState()).toBe('disconnected');
    expect(states).toEqual(['connecting', 'authenticating', 'disconnected']);
    expect(abortListeners(controller.signal)).toBe(0);
    expect(timers.cleared(handshakeTimer)).toBe(true);
    const socket = RecordingWebSocket.instances[0]?.inner;
    expect([socket?.listenerCount('message'), socket?.listenerCount('close')]).toEqual([0, 0]);
    expect(h.server.connections).toBe(1);
  });

  it('aborting while waiting to retry cancels the retry timer', async () => {
    const unreachable = h.server.url;
    await h.server.close();
    const timers = watchTimers();
    const c = fx.client(unreachable, { token: 't', reconnect: { interval: 70_000, maxInterval: 70_000 } });
    const controller = new AbortController();
    const connecting = c.connect({ signal: controller.signal });
    await whenState(c, 'reconnecting');
    const retryTimer = timers.started(70_000);
    expect(retryTimer).toBeDefined();
    controller.abort();
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    expect(c.getState()).toBe('disconnected');
    expect(timers.cleared(retryTimer)).toBe(true);
    expect(abortListeners(controller.signal)).toBe(0);
    h.server = await HostileServer.start();
  });

  it('every connect() waiting on the aborted attempt rejects; a later connect() works', async () => {
    const { client: c } = client();
    const controller = new AbortController();
    const first = c.connect({ signal: controller.signal });
    const second = c.connect();
    expect(second).toBe(first);
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(AbortError);
    await connectHostile(c, h.server);
    expect(c.isConnected()).toBe(true);
  });

  it('once connected, the signal is let go: aborting later changes nothing', async () => {
    const { client: c } = client();
    const controller = new AbortController();
    const connecting = c.connect({ signal: controller.signal });
    const conn = await h.server.nextConnection();
    await honestHandshake(conn);
    await connecting;
    expect(abortListeners(controller.signal)).toBe(0);
    controller.abort();
    expect(c.getState()).toBe('authenticated');
  });

  it('refuses options that are not an object with an AbortSignal', async () => {
    const { client: c } = client();
    for (const bad of [5, { signal: 'stop' }]) {
      await expect(c.connect(bad as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining("connect(): options must be an object whose 'signal' is an AbortSignal"),
      });
    }
    expect(c.getState()).toBe('disconnected');
  });
});

describe('send(event, data, { signal })', () => {
  it('an aborted signal rejects at once and nothing is sent', async () => {
    const { client: c } = client();
    const { conn, aesKey } = await connectHostile(c, h.server);
    await expect(c.send('pay', 1, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
      message: expect.stringContaining("send('pay')"),
    });
    await c.send('next', 2);
    expect(await nextSent(conn, aesKey)).toEqual({ event: 'next', data: 2 });
  });

  it('aborting a send still waiting to go out rejects it, sends nothing of it, and keeps the order of the others', async () => {
    const { client: c } = client();
    const { conn, aesKey } = await connectHostile(c, h.server);
    const controller = new AbortController();
    // Too large for Node's synchronous cipher: WebCrypto encrypts it off the event loop, and the sends behind it wait.
    const large = 'a'.repeat(SYNC_AES_GCM_LIMIT);
    const first = c.send('a', large);
    const second = c.send('b', 2, { signal: controller.signal });
    const third = c.send('c', 3);
    controller.abort();
    await expect(second).rejects.toBeInstanceOf(AbortError);
    await Promise.all([first, third]);
    expect(await nextSent(conn, aesKey)).toEqual({ event: 'a', data: large });
    expect(await nextSent(conn, aesKey)).toEqual({ event: 'c', data: 3 });
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a send that went out lets its signal go', async () => {
    const { client: c } = client();
    const { conn, aesKey } = await connectHostile(c, h.server);
    const controller = new AbortController();
    await c.send('kept', 1, { signal: controller.signal });
    expect(abortListeners(controller.signal)).toBe(0);
    controller.abort();
    expect(await nextSent(conn, aesKey)).toEqual({ event: 'kept', data: 1 });
  });
});
