import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveAddresses } from '../../legacy-compat/addresses.js';
import { EventDispatcher, WSSClient } from '../../legacy-compat/index.js';
import { responseEvent } from '../../legacy-compat/events.js';
import { InvalidArgumentError, NotConnectedError, TimeoutError } from '../../src/errors.js';
import type { WebSocketConstructor } from '../../src/transport/websocket.js';
import { silentLogger } from '../../src/util/logger.js';
import { acceptAll, scriptedSockets, type Script } from './scripted-socket.js';

function client(script: Script = acceptAll, address: string | null = 'ws://wss.test:8090', extra: object = {}) {
  const { sockets, ScriptedSocket } = scriptedSockets(script);
  const legacy = new WSSClient(address, {
    WebSocket: ScriptedSocket as unknown as WebSocketConstructor,
    logger: silentLogger,
    ...extra,
  });
  return { legacy, sockets };
}

/** Timers and the clock (request deadlines are read from Date.now()); sockets here run on microtasks. */
const FAKED = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] as const;

afterEach(() => {
  vi.useRealTimers();
});

/** A dispatcher, one listener that records the `this` it was called with, and two contexts to bind it to. */
function contextRecorder() {
  const seen: unknown[] = [];
  function listener(this: unknown) {
    seen.push(this);
  }
  return { dispatcher: new EventDispatcher(), seen, listener, one: { name: 'one' }, two: { name: 'two' } };
}

describe('EventDispatcher (0.4.1 semantics)', () => {
  it('calls listeners with their context as `this`, once per (listener, context) pair', () => {
    const { dispatcher, seen, listener, one, two } = contextRecorder();
    dispatcher.addEventListener('ping', listener, one);
    dispatcher.addEventListener('ping', listener, one);
    dispatcher.addEventListener('ping', listener, two);
    dispatcher.dispatchEvent(new Event('ping'));
    expect(seen).toEqual([one, two]);
  });

  it('removeEventListener removes only the registration with the same context', () => {
    const { dispatcher, seen, listener, one, two } = contextRecorder();
    dispatcher.addEventListener('ping', listener, one);
    dispatcher.addEventListener('ping', listener, two);
    dispatcher.addEventListener('ping', listener);
    dispatcher.removeEventListener('ping', listener, two);
    dispatcher.dispatchEvent(new Event('ping'));
    expect(seen).toEqual([one, undefined]);
    dispatcher.removeEventListener('ping', listener);
    dispatcher.removeEventListener('ping', listener, one);
    expect(dispatcher.hasEventListener('ping')).toBe(false);
  });

  it('sets target and currentTarget on a real Event, keeps going when a listener throws, and reports it', () => {
    const errors: unknown[] = [];
    const dispatcher = new EventDispatcher((type, error) => errors.push([type, error]));
    const targets: unknown[] = [];
    const boom = new Error('listener bug');
    dispatcher.addEventListener('ping', () => {
      throw boom;
    });
    dispatcher.addEventListener('ping', (event) => targets.push(event.target, event.currentTarget));
    const event = new Event('ping', { cancelable: true });
    expect(dispatcher.dispatchEvent(event)).toBe(true);
    expect(event.target).toBe(dispatcher);
    expect(targets).toEqual([dispatcher, dispatcher]);
    expect(errors).toEqual([['ping', boom]]);
    dispatcher.addEventListener('stop', (e) => e.preventDefault());
    expect(dispatcher.dispatchEvent(new Event('stop', { cancelable: true }))).toBe(false);
  });

  it('onEventPromise resolves with the next event and unregisters itself', async () => {
    const dispatcher = new EventDispatcher();
    const next = dispatcher.onEventPromise('ping');
    const event = new Event('ping');
    dispatcher.dispatchEvent(event);
    await expect(next).resolves.toBe(event);
    expect(dispatcher.hasEventListener('ping')).toBe(false);
  });
});

describe('legacy WSSClient surface', () => {
  it('has the old getters, defaults and toString before connecting', () => {
    const legacy = new WSSClient();
    expect(legacy.toString()).toBe('WSSClient');
    expect(`${legacy}`).toBe('WSSClient');
    expect(legacy.handshakeServerAddr).toBeNull();
    expect(legacy.socketServerAddr).toBeNull();
    expect(legacy.webSocket).toBeNull();
    expect(legacy.privateID).toBeNull();
    expect(legacy.userToken).toBeNull();
    expect(legacy.serverToken).toBeNull();
    expect(legacy.peers).toEqual([]);
    expect(legacy.peerOptions).toEqual({});
    expect(new WSSClient('ws://a.test').handshakeServerAddr).toBe('ws://a.test');
  });

  it('SHA256 gives lowercase hex like node:crypto', async () => {
    const { createHash } = await import('node:crypto');
    expect(await new WSSClient().SHA256('s:u')).toBe(createHash('sha256').update('s:u').digest('hex'));
  });

  it('send() with non-object recipients rejects with the old error', async () => {
    const { legacy } = client();
    for (const bad of ['pid', 42, undefined, null]) {
      const attempt = legacy.send('x', bad as never);
      await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(attempt).rejects.toThrow('"recipients" parameter must be an array!');
    }
    await expect(legacy.send('x', ['p1'])).rejects.toBeInstanceOf(NotConnectedError);
    await expect(legacy.broadcast('x', 'p1' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('names the recipient argument that is not an array', async () => {
    const { legacy } = client();
    await expect(legacy.send('x', { rcp: 'p1' } as never)).rejects.toThrow(
      '"recipients.rcp" parameter must be an array!',
    );
    await expect(legacy.broadcast('x', 'p1' as never)).rejects.toThrow(
      '"excludeRecipients" parameter must be an array!',
    );
    await expect(legacy.broadcast('x', { rcp: 7 } as never)).rejects.toThrow(
      '"excludeRecipients.rcp" parameter must be an array!',
    );
  });

  it('request() rejects a request object without a method and sends nothing', async () => {
    const { legacy, sockets } = client();
    await legacy.connect();
    const sent = sockets[0]!.requests.length;
    for (const bad of [null, 'WSS_Session', { params: {} }, { method: '' }]) {
      await expect(legacy.request(bad as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(sockets[0]!.requests.length).toBe(sent);
    await legacy.destroy();
  });

  it('a server error response to send() resolves with the error, its data kept only when the server gave some', async () => {
    const errors = [
      { code: -32003, message: 'Unknown recipient.', data: { rcp: ['nobody'] } },
      { code: -32003, message: 'Unknown recipient.' },
    ];
    const { legacy } = client((request) =>
      request.method === 'WSS_Send' ? { jsonrpc: '2.0', id: request.id, error: errors.shift() } : acceptAll(request),
    );
    await legacy.connect();
    const withData = JSON.parse((await legacy.send('x', ['nobody'])).data);
    const without = JSON.parse((await legacy.send('x', ['nobody'])).data);
    expect(withData).toEqual({
      jsonrpc: '2.0',
      id: withData.id,
      error: { code: -32003, message: 'Unknown recipient.', data: { rcp: ['nobody'] } },
    });
    expect(without).toEqual({ jsonrpc: '2.0', id: without.id, error: { code: -32003, message: 'Unknown recipient.' } });
    expect(without.id).not.toBe(withData.id);
    await legacy.destroy();
  });

  it('push events carry data (and peerpid its IDs) as own members, nothing else', async () => {
    const { legacy, sockets } = client();
    const events: any[] = [];
    legacy.addEventListener('message', (event) => events.push(event));
    legacy.addEventListener('peerpid', (event) => events.push(event));
    await legacy.connect();
    sockets[0]!.push({ jsonrpc: '2.0', result: { type: 'direct', from: 'p1', data: 1 } });
    sockets[0]!.push({
      jsonrpc: '2.0',
      result: { type: 'session', change: { oldPrivateID: 'p1', newPrivateID: 'p1b' } },
    });
    const own = (event: object) =>
      Object.keys(event).filter((key) => !['isTrusted', 'target', 'currentTarget'].includes(key));
    expect(events.map(own)).toEqual([['data'], ['data', 'oldPrivateID', 'newPrivateID']]);
    expect([events[1].oldPrivateID, events[1].newPrivateID]).toEqual(['p1', 'p1b']);
    await legacy.destroy();
  });

  it('connect() without any address rejects as before', async () => {
    await expect(new WSSClient().connect()).rejects.toThrow(/No handshake or socket server address provided/);
  });

  it('refuses an address that is not a string, naming the argument', async () => {
    for (const bad of [{}, 8090, ['ws://h:1'], true]) {
      expect(() => new WSSClient(bad as never)).toThrow(InvalidArgumentError);
      expect(() => new WSSClient(bad as never)).toThrow(
        /^'handshakeServerAddress' must be a ws\(s\):\/\/ or http\(s\):\/\/ address/,
      );
      const legacy = new WSSClient('ws://h.test');
      await expect(legacy.connect(bad as never)).rejects.toThrow(/^'socketServerAddress' must be/);
      expect(legacy.socketServerAddr).toBeNull();
    }
    expect(() => new WSSClient({} as never)).toThrow('got object');
    expect(new WSSClient(null).handshakeServerAddr).toBeNull();
    expect(new WSSClient(undefined).handshakeServerAddr).toBeNull();
  });

  it('maps the old address rules onto url and handshakeUrl', () => {
    expect(resolveAddresses('ws://h:1', null, false)).toEqual({ url: 'ws://h:1' });
    expect(resolveAddresses('ws://h:1', 'ws://other:2', false)).toEqual({ url: 'ws://h:1' });
    expect(resolveAddresses('https://h:1/hs', 'wss://s:2', true)).toEqual({
      url: 'wss://s:2',
      handshakeUrl: 'https://h:1/hs',
    });
    expect(resolveAddresses('ws://h:1', null, true)).toEqual({ url: 'ws://h:1', handshakeUrl: 'http://h:1' });
    expect(resolveAddresses('http://h:1', null, false)).toEqual({ url: 'ws://h:1' });
    // Schemes are case-insensitive; an upper-case secure one stays secure.
    expect(resolveAddresses(' HTTPS://h:1 ', null, false)).toEqual({ url: 'wss://h:1' });
    expect(new URL(resolveAddresses('HTTPS://h:1', null, false).url).protocol).toBe('wss:');
    expect(new URL(resolveAddresses('WSS://h:1', null, true).handshakeUrl!).protocol).toBe('https:');
    expect(resolveAddresses('WSS://h:1', null, true).handshakeUrl).toBe('https://h:1');
    expect(() => resolveAddresses('  ', null, false)).toThrow(InvalidArgumentError);
  });

  it('handshakes over HTTP with the injected fetch and connects the socket at the socket address', async () => {
    const posts: Array<{ url: string; body: any }> = [];
    const fetch = async (url: string, init: RequestInit) => {
      const body = JSON.parse(String(init.body));
      posts.push({ url, body });
      return new Response(JSON.stringify(acceptAll(body)), { headers: { 'Content-Type': 'application/json-rpc' } });
    };
    const { legacy, sockets } = client(acceptAll, 'http://hs.test:8080', { fetch });
    const result = await legacy.connect('ws://sock.test:8090', true);
    expect(posts).toEqual([
      {
        url: 'http://hs.test:8080',
        body: expect.objectContaining({ method: 'WSS_Handshake', params: { user_token: legacy.userToken } }),
      },
    ]);
    expect(sockets.map((s) => s.url)).toEqual(['ws://sock.test:8090']);
    expect(sockets[0]?.requests.map((r) => r.method)).toEqual(['WSS_Connect']);
    expect(JSON.parse(result.data).result).toEqual({
      message: 'open',
      private_id: 'me',
      connect: ['p1'],
      options: [{ wss: true, name: 'p1' }],
    });
    await legacy.destroy();
  });

  it('sends connectData.options with the old defaults and resolves with a message event of the response', async () => {
    const { legacy, sockets } = client();
    const result = await legacy.connect(null, false, { options: { webrtc: true, publicKey: 'pk' } });
    expect(result).toBeInstanceOf(MessageEvent);
    expect(result.target).toBe(legacy.webSocket);
    expect(legacy.webSocket).toBe(sockets[0]);
    const connect = sockets[0]?.requests.find((r) => r.method === 'WSS_Connect');
    expect(connect?.params.options).toEqual({ wss: true, webrtc: true, ortc: false, publicKey: 'pk' });
    expect(legacy.peers).toEqual(['p1']);
    expect(legacy.peerOptions).toEqual({ p1: { wss: true, name: 'p1' } });
    await legacy.destroy();
  });

  it('dispatches pushes as old-style events unless connectData.listeners is false', async () => {
    for (const listeners of [true, false]) {
      const { legacy, sockets } = client();
      const seen: string[] = [];
      for (const type of ['message', 'peerconnect', 'peerpid', 'update', 'close'] as const) {
        legacy.addEventListener(type, (event) => seen.push(event.type));
      }
      await legacy.connect(null, false, { listeners });
      const socket = sockets[0]!;
      socket.push({ jsonrpc: '2.0', result: { type: 'session', connect: 'p2', options: { wss: true } } });
      socket.push({ jsonrpc: '2.0', result: { type: 'session', change: { oldPrivateID: 'p1', newPrivateID: 'p1b' } } });
      socket.push({ jsonrpc: '2.0', result: { type: 'direct', from: 'p2', data: 1 } });
      // The peer list is kept either way.
      expect(legacy.peers).toEqual(['p2', 'p1b']);
      expect(seen).toEqual(listeners ? ['peerconnect', 'peerpid', 'message'] : []);
      await legacy.destroy();
    }
  });

  it('a close the client did not ask for dispatches close with code and reason', async () => {
    const { legacy, sockets } = client();
    await legacy.connect();
    const closed = legacy.onEventPromise('close');
    sockets[0]!.close(4000, 'server says bye');
    const event = await closed;
    expect([event.code, event.reason, event.target]).toEqual([4000, 'server says bye', legacy]);
    expect(legacy.webSocket).toBeNull();
    expect(legacy.peers).toEqual([]);
  });

  it('changePrivateID resolves true after dispatching privateid', async () => {
    const { legacy } = client();
    await legacy.connect();
    const events: string[] = [];
    legacy.addEventListener('privateid', (event) => events.push(event.privateID));
    await expect(legacy.changePrivateID('renamed')).resolves.toBe(true);
    expect(events).toEqual(['renamed']);
    expect(legacy.privateID).toBe('renamed');
    await legacy.destroy();
  });

  it('a second connect() replaces the first, in progress or not, and closes its socket', async () => {
    let heard!: () => void;
    const handshakeSent = new Promise<void>((resolve) => (heard = resolve));
    const { legacy, sockets } = client((request) => {
      heard();
      return acceptAll(request);
    });
    // Both before any socket exists.
    const early = legacy.connect();
    const first = legacy.connect();
    await expect(early).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    // And once the first has a socket.
    await handshakeSent;
    const second = legacy.connect();
    await expect(first).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    await second;
    expect(sockets.map((s) => s.readyState)).toEqual([3, 1]);
    expect(legacy.webSocket).toBe(sockets[1]);
    await legacy.destroy();
    expect(sockets.map((s) => s.readyState)).toEqual([3, 3]);
  });

  it('takes its environment from the static defaults when the page cannot pass it', async () => {
    const { sockets, ScriptedSocket } = scriptedSockets(acceptAll);
    WSSClient.defaults = { WebSocket: ScriptedSocket as unknown as WebSocketConstructor, logger: silentLogger };
    try {
      const legacy = new WSSClient('ws://defaults.test');
      await legacy.connect();
      expect(sockets.map((s) => s.url)).toEqual(['ws://defaults.test']);
      await legacy.destroy();
    } finally {
      WSSClient.defaults = {};
    }
  });

  it('responseEvent carries the response as JSON text', () => {
    const socket = {};
    const event = responseEvent({ jsonrpc: '2.0', id: '7', result: { message: 'ok' } }, socket);
    expect(JSON.parse(event.data)).toEqual({ jsonrpc: '2.0', id: '7', result: { message: 'ok' } });
    expect(event.type).toBe('message');
    expect(event.target).toBe(socket);
  });
});

describe('legacy WSSClient destroy()', () => {
  it('after a refused handshake: the socket is closed, no timer is left and no listener remains', async () => {
    vi.useFakeTimers({ toFake: [...FAKED] });
    const refuse: Script = (request) => ({
      jsonrpc: '2.0',
      id: request.id,
      error: { code: -32001, message: 'Too many connections from your IP.' },
    });
    const { legacy, sockets } = client(refuse);
    legacy.addEventListener('message', () => {});
    await expect(legacy.connect()).rejects.toMatchObject({ code: 'ERR_RPC', rpcCode: -32001 });
    await expect(legacy.destroy()).resolves.toBe(true);
    expect(sockets.map((s) => s.readyState)).toEqual([3]);
    expect(sockets[0]?.onmessage).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
    expect(legacy.hasEventListener('message')).toBe(false);
    expect(legacy.webSocket).toBeNull();
  });

  it('after a handshake that timed out (requests no longer wait forever)', async () => {
    vi.useFakeTimers({ toFake: [...FAKED] });
    let heard!: () => void;
    const handshakeSent = new Promise<void>((resolve) => (heard = resolve));
    const silent: Script = () => {
      heard();
      return null;
    };
    const { legacy, sockets } = client(silent, 'ws://wss.test:8090', { requestTimeout: 5000 });
    const failed = expect(legacy.connect()).rejects.toBeInstanceOf(TimeoutError);
    await handshakeSent;
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(5000);
    await failed;
    await legacy.destroy();
    expect(sockets.map((s) => s.readyState)).toEqual([3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('while connecting: connect() rejects and nothing is left', async () => {
    vi.useFakeTimers({ toFake: [...FAKED] });
    let heard!: () => void;
    const handshakeSent = new Promise<void>((resolve) => (heard = resolve));
    const { legacy, sockets } = client(() => {
      heard();
      return null;
    });
    const failed = expect(legacy.connect()).rejects.toThrow();
    await handshakeSent;
    await legacy.destroy();
    await failed;
    expect(sockets.map((s) => s.readyState)).toEqual([3]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
