/** EncryptedWebSocketClient against the reference server's Signal endpoint on loopback. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { EncryptedWebSocketClient, NotConnectedError, type TConnectionState } from '../../src/signal/index.js';
import {
  makeToken,
  nextEvent,
  RecordingWebSocket,
  sentAuthenticates,
  signalFixture,
  signalUrl,
  whenState,
} from './helpers.js';

const fx = signalFixture();
beforeEach(() => RecordingWebSocket.reset());
afterEach(() => fx.cleanup());

describe('handshake and echo', () => {
  it('authenticates, agrees on a key and walks the seed state sequence', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), { token: await makeToken('alice') });
    const states: TConnectionState[] = [];
    client.onStateChange((s) => states.push(s));
    const connected = nextEvent(client, 'connected');
    await client.connect();
    const data = await connected;
    expect(states).toEqual(['connecting', 'authenticating', 'authenticated']);
    expect(data.userId).toBe('alice');
    expect(client.getUserId()).toBe('alice');
    expect(client.getClientId()).toBe(data.id);
    expect(typeof data.serverPublicKey).toBe('string');
    expect(Buffer.from(data.salt, 'base64').length).toBe(32);
    expect(Number.isNaN(Date.parse(data.time))).toBe(false);
    expect(client.isEncrypted()).toBe(true);
    expect(client.isConnected()).toBe(true);
    expect(server.signal!.clients).toEqual([{ id: data.id, userId: 'alice', rooms: [] }]);
  });

  it('echoes encrypted events, in order, and the wire carries only envelopes', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), { token: await makeToken('alice'), WebSocket: RecordingWebSocket });
    await client.connect();
    const got: unknown[] = [];
    const done = new Promise<void>((resolve) =>
      client.on('echo', (data) => {
        got.push(data);
        if (got.length === 20) resolve();
      }),
    );
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.send('echo', { i, text: 'secret-marker' })));
    await done;
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => ({ i, text: 'secret-marker' })));
    const appFrames = RecordingWebSocket.sent.map((f) => JSON.parse(f)).filter((f) => f.event !== 'authenticate');
    expect(appFrames).toHaveLength(20);
    for (const frame of appFrames) {
      expect(frame.event).toBe('encrypted');
      expect(Object.keys(frame.data).sort()).toEqual(['ct', 'iv']);
    }
    expect(RecordingWebSocket.sent.join('')).not.toContain('secret-marker');
  });

  it('runs the seed usage example unchanged (import path and WebSocket injection aside)', async () => {
    const server = await fx.server();
    const jwtToken = await makeToken('seed-user');
    const newJwtToken = await makeToken('seed-user');
    const orders: unknown[] = [];
    server.signal!.on('order.create', async (ctx, data) => {
      orders.push(data);
      await ctx.publish('ws-orders', 'order.created', data);
      await ctx.send('payment.success', { ok: true });
    });
    const showToast = (_: string): void => {};
    const payment = new Promise((resolve) => {
      // --- the seed's example, verbatim apart from url and WebSocket ---
      const client = new EncryptedWebSocketClient({
        url: signalUrl(server),
        ecdhInfo: 'wss-sessions-test',
        token: jwtToken,
        autoJoinRooms: ['ws-default', 'ws-orders', 'ws-notifications'],
        WebSocket,
      });
      client.on('payment.success', (data) => {
        resolve(data);
        client.destroy();
      });
      client.on('reconnect_failed', () => {
        showToast('Connection lost. Please check your network and refresh.');
      });
      void (async () => {
        await client.connect();
        await client.send('order.create', { items: [1, 2] });
        client.updateToken(newJwtToken);
      })();
    });
    expect(await payment).toEqual({ ok: true });
    expect(orders).toEqual([{ items: [1, 2] }]);
  });
});

describe('rooms', () => {
  it('publish reaches every other member of the room, each under its own key', async () => {
    const server = await fx.server();
    const url = signalUrl(server);
    const [a, b, c] = await Promise.all(
      ['a', 'b', 'c'].map(async (u) =>
        fx.client(url, { token: await makeToken(u), autoJoinRooms: u === 'c' ? [] : ['lobby'] }),
      ),
    );
    await Promise.all([a!.connect(), b!.connect(), c!.connect()]);
    // An echo round trip on each socket proves its join was handled (frames are handled in order).
    for (const client of [a!, b!, c!]) {
      const echoed = nextEvent(client, 'echo');
      await client.send('echo', 'barrier');
      await echoed;
    }
    const cGot: unknown[] = [];
    c!.on('chat', (d) => cGot.push(d));
    const aGot: unknown[] = [];
    a!.on('chat', (d) => aGot.push(d));
    const bReceived = nextEvent(b!, 'chat');
    await a!.send('publish', { room: 'lobby', event: 'chat', data: { text: 'hi' } });
    expect(await bReceived).toEqual({ text: 'hi' });

    c!.joinRooms(['lobby']);
    const cEcho = nextEvent(c!, 'echo');
    await c!.send('echo', 'barrier');
    await cEcho;
    const bAgain = nextEvent(b!, 'chat');
    const cReceived = nextEvent(c!, 'chat');
    await a!.send('publish', { room: 'lobby', event: 'chat', data: 2 });
    expect(await bAgain).toBe(2);
    expect(await cReceived).toBe(2);

    b!.leaveRooms(['lobby']);
    const bEcho = nextEvent(b!, 'echo');
    await b!.send('echo', 'barrier');
    await bEcho;
    expect(await server.signal!.publish('lobby', 'notice', 'from-server')).toBe(2);
    const aEcho = nextEvent(a!, 'echo');
    await a!.send('echo', 'after');
    await aEcho;
    expect(aGot).toEqual([]); // the sender never gets its own publish
    expect(cGot).toEqual([2]);
  });

  it('refuses publish to a room the sender has not joined', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), { token: await makeToken('a') });
    await client.connect();
    const error = nextEvent(client, 'error');
    await client.send('publish', { room: 'elsewhere', event: 'x', data: 1 });
    expect(await error).toMatchObject({ code: 'NOT_IN_ROOM' });
  });
});

describe('tokens', () => {
  it('an expired token gets an error event and a close', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), {
      token: await makeToken('late', Math.floor(Date.now() / 1000) - 60),
      reconnect: { enabled: false },
    });
    const error = nextEvent(client, 'error');
    const connecting = client.connect();
    expect(await error).toMatchObject({ code: 'TOKEN_EXPIRED' });
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED', closeCode: 1008 });
    expect(client.getState()).toBe('disconnected');
  });

  it('a token signed with another secret is refused', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), {
      token: await makeToken('eve', '1h', 'another-secret-that-is-long-enough!!'),
      reconnect: { enabled: false },
    });
    const error = nextEvent(client, 'error');
    await expect(client.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(await error).toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('updateToken is used on the next connection (the server closes at expiry, the client comes back)', async () => {
    const server = await fx.server();
    const shortLived = await makeToken('bob', Math.floor(Date.now() / 1000) + 1);
    const fresh = await makeToken('bob', '1h');
    const client = fx.client(signalUrl(server), {
      token: shortLived,
      WebSocket: RecordingWebSocket,
      reconnect: { interval: 10, maxInterval: 20 },
    });
    await client.connect();
    client.updateToken(fresh);
    const expired = nextEvent(client, 'error');
    const reconnected = nextEvent(client, 'connected');
    expect(await expired).toMatchObject({ code: 'TOKEN_EXPIRED' });
    await reconnected;
    const auths = sentAuthenticates();
    expect(auths.map((a) => a.token)).toEqual([shortLived, fresh]);
    const echoed = nextEvent(client, 'echo');
    await client.send('echo', 'still here');
    expect(await echoed).toBe('still here');
  });
});

describe('reconnection', () => {
  it('reconnects after the server drops the socket, with a new key pair each time', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), {
      token: await makeToken('carol'),
      WebSocket: RecordingWebSocket,
      autoJoinRooms: ['r'],
      reconnect: { interval: 5, maxInterval: 10 },
    });
    await client.connect();
    for (let i = 0; i < 2; i++) {
      const back = nextEvent(client, 'connected');
      const reconnecting = whenState(client, 'reconnecting');
      server.signal!.dropConnections();
      await reconnecting;
      await expect(client.send('x', 1)).rejects.toBeInstanceOf(NotConnectedError);
      await back;
    }
    const keys = sentAuthenticates().map((a) => a.clientPublicKey);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    expect(server.signal!.clients).toHaveLength(1);
    const echoed = nextEvent(client, 'echo');
    await client.send('echo', 'after reconnect');
    expect(await echoed).toBe('after reconnect');
    expect(server.signal!.clients[0]!.rooms).toEqual(['r']);
  });

  it('gives up with reconnect_failed after maxRetries when the server is gone', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), {
      token: await makeToken('dave'),
      reconnect: { interval: 1, maxInterval: 2, maxRetries: 2 },
    });
    await client.connect();
    const failed = nextEvent(client, 'reconnect_failed');
    await server.close();
    expect(await failed).toEqual({ retries: 2 });
    expect(client.getState()).toBe('disconnected');
    await expect(client.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
  });
});

describe('heartbeat and idle timeout', () => {
  it('a client without heartbeats is dropped after idleTimeout; one with heartbeats stays', async () => {
    // Wide against the heartbeat (25 ms), so that an event loop stalled by a loaded machine still reads a heartbeat in time.
    const server = await fx.server({ idleTimeout: 600 });
    const url = signalUrl(server);
    const silent = fx.client(url, {
      token: await makeToken('silent'),
      heartbeatInterval: 60_000,
      reconnect: { enabled: false },
    });
    const lively = fx.client(url, {
      token: await makeToken('lively'),
      heartbeatInterval: 25,
      WebSocket: RecordingWebSocket,
    });
    const livelyStates: TConnectionState[] = [];
    lively.onStateChange((s) => livelyStates.push(s));
    const started = Date.now();
    await Promise.all([silent.connect(), lively.connect()]);
    const dropped = nextEvent(silent, 'error');
    expect(await dropped).toMatchObject({ code: 'IDLE_TIMEOUT' });
    await whenState(silent, 'disconnected');
    expect(Date.now() - started).toBeGreaterThanOrEqual(595);
    // By the 30th heartbeat from here the lively client has outlived two idle timeouts; then prove its socket is alive.
    await new Promise<void>((resolve) => {
      let beats = 0;
      RecordingWebSocket.onSend = (frame) => {
        if (frame === '{"event":"heartbeat"}' && ++beats === 30) resolve();
      };
    });
    const echoed = nextEvent(lively, 'echo');
    await lively.send('echo', 'alive');
    expect(await echoed).toBe('alive');
    expect(livelyStates).toEqual(['connecting', 'authenticating', 'authenticated']);
  });
});

describe('robustness', () => {
  it('a handler that throws does not break delivery to others or later events', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), { token: await makeToken('a') });
    await client.connect();
    client.on('echo', () => {
      throw new Error('handler bug');
    });
    client.onStateChange(() => {
      throw new Error('state handler bug');
    });
    const first = nextEvent(client, 'echo');
    await client.send('echo', 1);
    expect(await first).toBe(1);
    const second = nextEvent(client, 'echo');
    await client.send('echo', 2);
    expect(await second).toBe(2);
  });

  it('send validates its arguments and refuses before connect', async () => {
    const server = await fx.server();
    const client = fx.client(signalUrl(server), { token: await makeToken('a') });
    await expect(client.send('x', 1)).rejects.toBeInstanceOf(NotConnectedError);
    await client.connect();
    await expect(client.send('', 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(client.send('x', { n: 1n })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('leaves no timers, sockets or listeners after destroy()', async () => {
    const server = await fx.server({ idleTimeout: 60_000 });
    const count = (kind: string): number => process.getActiveResourcesInfo().filter((r) => r === kind).length;
    const baseline = { timers: count('Timeout'), tcp: count('TCPSocketWrap') };
    const gone = new Promise<void>((resolve) => server.signal!.onClientDisconnected(() => resolve()));
    const client = fx.client(signalUrl(server), {
      token: await makeToken('a'),
      WebSocket: RecordingWebSocket,
      heartbeatInterval: 1000,
    });
    await client.connect();
    expect(count('Timeout')).toBeGreaterThan(baseline.timers);
    const socket = RecordingWebSocket.instances[0]!.inner;
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    client.destroy();
    await Promise.all([socketClosed, gone]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(socket.listenerCount('message')).toBe(0);
    expect(socket.listenerCount('close')).toBe(0);
    expect(socket.listenerCount('open')).toBe(0);
    // At most the baseline: a timer left over from an earlier test's cleanup (such as a closing
    // socket's close timeout) may end meanwhile, so under load the count can drop below it.
    expect(count('Timeout')).toBeLessThanOrEqual(baseline.timers);
    expect(count('TCPSocketWrap')).toBe(baseline.tcp);
    expect(client.getState()).toBe('disconnected');
    await expect(client.connect()).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
  });
});
