/** connect(): its AbortSignal, and retrying a failed first connect (reconnect.retryFirstConnect). */
import { getEventListeners, once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  ConnectionClosedError,
  InvalidArgumentError,
  SecureSession,
  type SecureSessionOptions,
} from '../../src/secure/index.js';
import { createServer } from '../../src/server/index.js';
import { activeResources, collect, Harness, next, trackedWebSocket } from './helpers.js';
import { freePort } from '../../scripts/cluster/processes.mjs';

const h = new Harness();
afterEach(() => h.stop());

/** A session of the harness (closed after the test) at `url`. */
function sessionAt(url: string, options: Partial<SecureSessionOptions>): SecureSession {
  const s = new SecureSession({ url, info: 'test-app', ...options });
  h.sessions.push(s);
  return s;
}

/** Waits until every socket `tracked` opened has closed, then expects no more timers than at `baseline`. */
async function expectNothingLeft(baseline: Map<string, number>, tracked?: ReturnType<typeof trackedWebSocket>) {
  for (const ws of tracked?.sockets ?? []) if (ws.readyState !== ws.CLOSED) await once(ws, 'close');
  const timers = activeResources().get('Timeout') ?? 0;
  expect(timers).toBeLessThanOrEqual(baseline.get('Timeout') ?? 0);
}

describe('connect({ signal })', () => {
  it('an aborted signal rejects at once with AbortError; the session is untouched', async () => {
    await h.start();
    const s = h.session();
    const states = collect(s, 'state');
    const reason = new Error('user left');
    await expect(s.connect({ signal: AbortSignal.abort(reason) })).rejects.toMatchObject({
      name: 'AbortError',
      code: 'ERR_ABORTED',
      cause: reason,
    });
    expect(s.state).toBe('disconnected');
    expect(states).toEqual([]);
    await expect(s.connect({ signal: 'soon' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(s.connect(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('aborting while the server keeps it waiting rejects, and leaves no socket, timer or listener', async () => {
    let stall = true;
    let stalled = (): void => {};
    const held = new Promise<void>((resolve) => (stalled = resolve));
    await h.start({
      hooks: {
        incoming: (frame) => {
          if (!stall || !frame.includes('"WSS_Connect"')) return frame;
          stalled();
          return null;
        },
      },
    });
    const baseline = activeResources();
    const tracked = trackedWebSocket();
    const s = h.session({ WebSocket: tracked.WebSocket });
    const controller = new AbortController();
    const connecting = s.connect({ signal: controller.signal });
    // The socket is open and WSS_Connect unanswered: abort.
    await held;
    controller.abort();
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    expect(s.state).toBe('disconnected');
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
    await expectNothingLeft(baseline, tracked);
    stall = false;
    const info = await s.connect();
    expect(info.privateId).toBe(s.privateId);
    await s.disconnect();
    await expectNothingLeft(baseline, tracked);
    expect(tracked.sockets).toHaveLength(2);
  });
});

describe('reconnect.retryFirstConnect', () => {
  const fast = { interval: 0, maxInterval: 0, jitter: 0 };

  it('retries a first connect on the reconnect schedule until the server is there', async () => {
    const port = await freePort();
    const s = sessionAt(`ws://127.0.0.1:${port}`, {
      reconnect: { ...fast, interval: 5, maxInterval: 5, retryFirstConnect: true },
    });
    const states = collect(s, 'state');
    const attempts = collect(s, 'reconnecting');
    const third = next(s, 'reconnecting', (e) => e.attempt === 3);
    const connecting = s.connect();
    await third;
    h.server = await createServer({ port, host: '127.0.0.1' });
    const { privateId } = await connecting;
    expect(privateId).toBe(s.privateId);
    expect(states.map((e) => e.state)).toEqual(['connecting', 'connected']);
    expect(attempts.slice(0, 3)).toEqual([
      { attempt: 1, delay: 5 },
      { attempt: 2, delay: 5 },
      { attempt: 3, delay: 5 },
    ]);
  });

  it('gives up after maxRetries with the last error; without the option a first connect is tried once', async () => {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const baseline = activeResources();
    const tracked = trackedWebSocket();
    const retrying = sessionAt(url, {
      WebSocket: tracked.WebSocket,
      reconnect: { ...fast, maxRetries: 3, retryFirstConnect: true },
    });
    const attempts = collect(retrying, 'reconnecting');
    const failed = collect(retrying, 'reconnect_failed');
    await expect(retrying.connect()).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(attempts.map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(failed).toEqual([]);
    expect(retrying.state).toBe('disconnected');
    expect(tracked.sockets).toHaveLength(4);
    const single = sessionAt(url, { WebSocket: tracked.WebSocket, reconnect: fast });
    const none = collect(single, 'reconnecting');
    await expect(single.connect()).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(none).toEqual([]);
    expect(tracked.sockets).toHaveLength(5);
    await expectNothingLeft(baseline, tracked);
  });

  it('an abort during the wait between attempts rejects at once and clears the timer', async () => {
    const port = await freePort();
    const baseline = activeResources();
    const s = sessionAt(`ws://127.0.0.1:${port}`, {
      reconnect: { interval: 60_000, maxInterval: 60_000, jitter: 0, retryFirstConnect: true },
    });
    const controller = new AbortController();
    const waiting = next(s, 'reconnecting');
    const connecting = s.connect({ signal: controller.signal });
    expect(await waiting).toEqual({ attempt: 1, delay: 60_000 });
    controller.abort();
    await expect(connecting).rejects.toBeInstanceOf(AbortError);
    expect(s.state).toBe('disconnected');
    await expectNothingLeft(baseline);
    // disconnect() during the wait ends it the same way, with ConnectionClosedError.
    const again = next(s, 'reconnecting');
    const second = s.connect();
    await again;
    await s.disconnect();
    await expect(second).rejects.toBeInstanceOf(ConnectionClosedError);
    await expectNothingLeft(baseline);
  });
});
