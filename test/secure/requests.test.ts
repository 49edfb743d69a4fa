/** Encrypted requests between SecureSessions: answers, failures, timeouts, aborts, bounds, and across a reconnect. */
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AbortError,
  InvalidArgumentError,
  InvalidStateError,
  PeerError,
  QueueFullError,
  type SecureSession,
  type SecureSessionOptions,
  TimeoutError,
} from '../../src/secure/index.js';
import { Harness, collect, next, trackedWebSocket, untilPeer } from './helpers.js';

const h = new Harness();
beforeEach(() => h.start());
afterEach(() => h.stop());

const pid = (s: SecureSession): string => s.privateId as string;

async function pair(
  asker: Partial<SecureSessionOptions> = {},
  answerer: Partial<SecureSessionOptions> = {},
): Promise<[SecureSession, SecureSession]> {
  const a = h.session(asker);
  const b = h.session(answerer);
  await a.connect();
  await b.connect();
  await untilPeer(a, () => b.privateId);
  await untilPeer(b, () => a.privateId);
  return [a, b];
}

/** A promise and its resolver, to hold a handler until the test lets it answer. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

for (const delivery of ['at-most-once', 'reliable'] as const)
  describe(`requests, delivery ${delivery}`, () => {
    const options = { delivery };

    it("resolves with the handler's answer; the handler is told who asked", async () => {
      const [a, b] = await pair(options, options);
      b.handle(async (data, { from }) => ({ echo: data, from }));
      expect(await a.request(pid(b), { q: 1 })).toEqual({ echo: { q: 1 }, from: pid(a) });
      a.handle((data) => (data as number) * 2);
      expect(await b.request(pid(a), 21)).toBe(42);
    });

    it('a thrown error comes back as a PeerError with its message and nothing of its stack', async () => {
      const [a, b] = await pair(options, options);
      b.handle(function secretHandlerName() {
        const error = new Error('out of stock');
        Object.assign(error, { detail: 'secret detail' });
        throw error;
      });
      const failure = (await a.request(pid(b), 1).catch((error: unknown) => error)) as PeerError;
      expect(failure).toBeInstanceOf(PeerError);
      expect(failure).toMatchObject({ code: 'ERR_PEER', peer: pid(b), peerMessage: 'out of stock' });
      expect(JSON.stringify({ ...failure, message: failure.message })).not.toMatch(/secretHandlerName|secret detail/);
      expect(failure.stack).not.toMatch(/secretHandlerName/);
    });

    it('no handler, a non-JSON answer, a thrown non-Error: PeerError', async () => {
      const [a, b] = await pair(options, options);
      await expect(a.request(pid(b), 1)).rejects.toMatchObject({ code: 'ERR_PEER' });
      b.handle(() => 10n);
      await expect(a.request(pid(b), 1)).rejects.toMatchObject({
        code: 'ERR_PEER',
        peerMessage: 'the answer is not JSON',
      });
      b.handle(() => {
        throw 'plain text';
      });
      await expect(a.request(pid(b), 1)).rejects.toMatchObject({ code: 'ERR_PEER', peerMessage: 'plain text' });
      b.handle(null);
      await expect(a.request(pid(b), 1)).rejects.toBeInstanceOf(PeerError);
    });

    it('times out with TimeoutError and aborts with AbortError; a later answer is dropped', async () => {
      const [a, b] = await pair(options, options);
      const held = gate();
      let calls = 0;
      b.handle(async () => {
        calls++;
        await held.wait;
        return 'late';
      });
      await expect(a.request(pid(b), 1, { timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
      const controller = new AbortController();
      const aborted = a.request(pid(b), 2, { signal: controller.signal });
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      controller.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED', message: expect.stringMatching(/^request /) });
      expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
      const early = new AbortController();
      early.abort();
      await expect(a.request(pid(b), 3, { signal: early.signal })).rejects.toBeInstanceOf(AbortError);
      expect(calls).toBeGreaterThanOrEqual(1);
      // The answers come after their requests were given up: nothing waits for them, nothing breaks.
      b.handle(() => 'now');
      held.open();
      // An answered request lets its signal go too.
      const kept = new AbortController();
      expect(await a.request(pid(b), 4, { signal: kept.signal })).toBe('now');
      expect(getEventListeners(kept.signal, 'abort')).toEqual([]);
    });

    it('maxPendingRequests bounds both ways: QueueFullError for the asker, an error answer from a busy peer', async () => {
      const [a, b] = await pair({ ...options, maxPendingRequests: 2 }, { ...options, maxPendingRequests: 1 });
      const held = gate();
      b.handle(async () => {
        await held.wait;
        return 'done';
      });
      const first = a.request(pid(b), 1);
      const second = a.request(pid(b), 2);
      await expect(a.request(pid(b), 3)).rejects.toBeInstanceOf(QueueFullError);
      await expect(second).rejects.toMatchObject({ code: 'ERR_PEER', peerMessage: expect.stringMatching(/^busy/) });
      held.open();
      expect(await first).toBe('done');
    });

    it('refuses an unknown peer, bad options, and plaintext sessions', async () => {
      const [a] = await pair(options, options);
      await expect(a.request('nobody', 1)).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(a.request(pid(a), 1, { timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(() => a.handle('not a function' as never)).toThrow(InvalidArgumentError);
      const plain = h.session({ encryption: false });
      await plain.connect();
      await expect(plain.request(pid(a), 1)).rejects.toBeInstanceOf(InvalidStateError);
    });
  });

it('reliable: a request across a cut of the answering socket is handled once and its answer arrives', async () => {
  const tracked = trackedWebSocket();
  const reconnect = { interval: 20, maxInterval: 20, jitter: 0 };
  const [a, b] = await pair(
    { delivery: 'reliable', reconnect },
    { delivery: 'reliable', reconnect, WebSocket: tracked.WebSocket },
  );
  await b.setPrivateId('answerer');
  await untilPeer(a, () => 'answerer');
  const held = gate();
  const started = gate();
  const undelivered = [collect(a, 'undelivered'), collect(b, 'undelivered')];
  let calls = 0;
  b.handle(async (data) => {
    calls++;
    started.open();
    await held.wait;
    return { got: data };
  });
  const answer = a.request('answerer', 'ask', { timeoutMs: 10_000 });
  await started.wait;
  const back = next(b, 'reconnected');
  tracked.sockets[0]?.terminate();
  held.open();
  await back;
  expect(await answer).toEqual({ got: 'ask' });
  expect(calls).toBe(1);
  expect(undelivered).toEqual([[], []]);
});
