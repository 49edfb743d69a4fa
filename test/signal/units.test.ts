/** Unit tests of the Signal client's parts: backoff, replay guard, options, and the reconnect schedule under fake timers. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EncryptedWebSocketClient, ReplayGuard, reconnectDelay, signalClientDefaults } from '../../src/signal/index.js';
import type { WebSocketLike } from '../../src/transport/websocket.js';
import type { IEncryptedWSClientOptions } from '../../src/signal/options.js';
import {
  encodeEnvelope,
  encodeFrame,
  matchEnvelope,
  parseConnected,
  parseEnvelope,
  parseFrame,
  parseInner,
} from '../../src/signal/frames.js';
import { InvalidArgumentError, ProtocolError } from '../../src/errors.js';
import { recordingLogger } from './helpers.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('reconnectDelay', () => {
  const opts = { interval: 1000, backoffMultiplier: 2, maxInterval: 5000 };

  it('grows exponentially, caps at maxInterval and jitters to [d/2, 3d/2)', () => {
    expect(reconnectDelay(1, opts, () => 0.5)).toBe(1000);
    expect(reconnectDelay(2, opts, () => 0.5)).toBe(2000);
    expect(reconnectDelay(3, opts, () => 0.5)).toBe(4000);
    expect(reconnectDelay(4, opts, () => 0.5)).toBe(5000);
    expect(reconnectDelay(2, opts, () => 0)).toBe(1000);
    expect(reconnectDelay(2, opts, () => 0.999999)).toBe(2999);
    expect(reconnectDelay(10, opts, () => 0)).toBe(2500);
  });

  it('spreads clients out: many draws are not all equal', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(1, opts)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d >= 500 && d < 1500).toBe(true);
  });
});

describe('ReplayGuard', () => {
  /** IV number `n`: 16 characters of base64, as IVs travel. */
  const iv = (n: number): string => n.toString(36).padStart(16, 'A');

  it('remembers at most its capacity, evicting the oldest first', () => {
    const guard = new ReplayGuard(3);
    const [a, b, c, d] = [iv(1), iv(2), iv(3), iv(4)];
    for (const x of [a, b, c]) guard.add(x);
    expect([a, b, c].every((x) => guard.has(x))).toBe(true);
    guard.add(d);
    expect(guard.size).toBe(3);
    expect(guard.has(a)).toBe(false);
    expect(guard.has(d)).toBe(true);
    guard.add(b); // already present: no eviction
    expect(guard.has(b) && guard.has(c)).toBe(true);
    guard.clear();
    expect(guard.size).toBe(0);
    expect(guard.has(b)).toBe(false);
    guard.add(a);
    expect([guard.size, guard.has(a)]).toEqual([1, true]);
  });

  it('admit remembers a new IV and says so; a known one it leaves alone and refuses', () => {
    const guard = new ReplayGuard(2);
    expect([guard.admit(iv(1)), guard.admit(iv(2)), guard.admit(iv(1))]).toEqual([true, true, false]);
    expect(guard.size).toBe(2);
    expect(guard.admit(iv(3))).toBe(true); // evicts iv(1), the oldest
    expect([guard.has(iv(1)), guard.has(iv(2)), guard.has(iv(3))]).toEqual([false, true, true]);
    expect(guard.admit(iv(1))).toBe(true);
    expect(() => guard.admit('short')).toThrow(InvalidArgumentError);
  });

  it('stays bounded under a long stream of IVs', () => {
    const guard = new ReplayGuard(signalClientDefaults.replayWindow);
    for (let i = 0; i < 20_000; i++) guard.add(iv(i));
    expect(guard.size).toBe(4096);
    expect(guard.has(iv(19_999))).toBe(true);
    expect(guard.has(iv(20_000 - 4096))).toBe(true);
    expect(guard.has(iv(20_000 - 4097))).toBe(false);
  });

  it('answers as a set of the last `capacity` IVs would, whatever the order and repeats', () => {
    for (const capacity of [1, 5, 33, 100]) {
      const guard = new ReplayGuard(capacity);
      const kept: string[] = [];
      let seed = capacity;
      const next = (): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % (capacity * 3);
      };
      for (let step = 0; step < 5000; step++) {
        const x = iv(next());
        expect(guard.has(x)).toBe(kept.includes(x));
        if (!kept.includes(x)) {
          kept.push(x);
          if (kept.length > capacity) kept.shift();
        }
        guard.add(x);
        expect(guard.size).toBe(kept.length);
      }
      expect(Array.from({ length: capacity * 3 }, (_, n) => guard.has(iv(n)))).toEqual(
        Array.from({ length: capacity * 3 }, (_, n) => kept.includes(iv(n))),
      );
    }
  });

  it('tells base64 IVs that differ in one character apart, and refuses what is not 16 characters', () => {
    const guard = new ReplayGuard(10);
    const x = 'AAECAwQFBgcICQoL';
    guard.add(x);
    for (let i = 0; i < 16; i++) expect(guard.has(`${x.slice(0, i)}+${x.slice(i + 1)}`)).toBe(false);
    expect(guard.has(x)).toBe(true);
    for (const bad of ['', 'AAAA', `${x}A`, 5 as never]) {
      expect(() => guard.add(bad)).toThrow(InvalidArgumentError);
      expect(() => guard.has(bad)).toThrow(/16 characters of base64/);
    }
  });
});

describe('frame validation', () => {
  it('parses {event, data} frames and encodes them back, leaving out undefined data', () => {
    expect(parseFrame('{"event":"x","data":[1]}', 100)).toEqual({ event: 'x', data: [1] });
    expect(encodeFrame('heartbeat')).toBe('{"event":"heartbeat"}');
    for (const raw of [new ArrayBuffer(1), '{"event":"x"'.repeat(10), 'nope', '[]', '{"event":""}', '{"event":7}']) {
      expect(() => parseFrame(raw, 100)).toThrow(ProtocolError);
    }
  });

  it('checks connected data: ids are bounded strings; the key material is left to the handshake', () => {
    const ids = { id: 'c1', userId: 'u', time: 't' };
    const data = { ...ids, salt: null, serverPublicKey: 'k', extra: 1 };
    expect(parseConnected(data)).toBe(data);
    expect(parseConnected({ ...ids, id: 'x'.repeat(1024) })).toBeTruthy();
    expect(() => parseConnected({ ...ids, id: 'x'.repeat(1025) })).toThrow(
      /'connected' id, userId and time must be strings of 0-1024 characters/,
    );
    for (const bad of [{ userId: 'u', time: 't' }, { ...ids, time: 5 }, null, 'connected', [ids]]) {
      expect(() => parseConnected(bad)).toThrow(ProtocolError);
    }
  });

  it('turns bad envelopes and reserved inner events into ProtocolErrors', () => {
    const iv = 'AAAAAAAAAAAAAAAA';
    expect(parseEnvelope({ iv, ct: 'A'.repeat(24) }).ct.length).toBe(18);
    expect(parseEnvelope({ iv, ct: 'A'.repeat(24) }).iv).toBe(iv);
    expect(() => parseEnvelope({ iv, ct: 'AAAA' })).toThrow(
      /'encrypted' \{iv, ct\} must be base64 of 12 and 16\+ bytes/,
    ); // ct shorter than the 16-byte tag
    for (const bad of [
      { iv: 'AAAAAAAAAAAAAAA=', ct: 'A'.repeat(24) },
      { iv: 'AAAAAAAAAAAAAAA-', ct: 'A'.repeat(24) },
      { iv, ct: 1 },
      { iv },
      null,
      'x',
    ]) {
      expect(() => parseEnvelope(bad)).toThrow(ProtocolError);
    }
    expect(() => parseInner('{"event":"connected"}')).toThrow(/reserved event 'connected'/);
  });

  it('reads an envelope written as encodeEnvelope writes it without JSON.parse, to what the general path gives', () => {
    const payload = { iv: 'AAECAwQFBgcICQoL', ct: 'q83vASNFZ4mrze8BI0VniQ==' };
    const text = encodeEnvelope(payload);
    expect(text).toBe(JSON.stringify({ event: 'encrypted', data: payload }));
    const general = parseFrame(text, text.length);
    expect(general.event).toBe('encrypted');
    expect(matchEnvelope(text)).toEqual(parseEnvelope(general.data));
    expect(matchEnvelope(text)?.iv).toBe(payload.iv);
  });

  it('leaves every other text to the general path: other spelling, extra members, escapes, bad base64 or lengths', () => {
    const { iv, ct } = { iv: 'AAECAwQFBgcICQoL', ct: 'q83vASNFZ4mrze8BI0VniQ==' };
    const others = [
      // The same JSON spelled differently: the general path reads these.
      `{"event":"encrypted","data":{"ct":"${ct}","iv":"${iv}"}}`,
      `{"event": "encrypted", "data": {"iv": "${iv}", "ct": "${ct}"}}`,
      `{"event":"encrypted","data":{"iv":"\\u0041${iv.slice(1)}","ct":"${ct}"}}`,
      `{"event":"encrypted","data":{"iv":"${iv}","ct":"${ct}","x":"1"}}`,
      `{"event":"encrypted","data":{"iv":"${iv}","x":"","ct":"${ct}"}}`,
      // Not a valid envelope at all.
      `{"event":"encrypted","data":{"iv":"${iv}","ct":"}}`,
      `{"event":"encrypted","data":{"iv":"${iv}","ct":"AAAA"}}`,
      `{"event":"encrypted","data":{"iv":"AAAA","ct":"${ct}"}}`,
      `{"event":"encrypted","data":{"iv":"${iv}","ct":"${ct.slice(1)}"}}`,
      `{"event":"encrypted","data":{"iv":"${iv}","ct":"${ct}"}} `,
      '{"event":"encrypted","data":{"iv":"","ct":""}}',
      '{"event":"encrypted","data":{"iv":"}}',
      '{"event":"echo","data":{"iv":"","ct":""}}',
    ];
    for (const text of others) expect(matchEnvelope(text)).toBeUndefined();
    // What the general path makes of the first four: the same envelope.
    for (const text of others.slice(0, 4)) expect(parseEnvelope(parseFrame(text, 1000).data).iv).toBe(iv);
  });
});

describe('options', () => {
  const base = { url: 'ws://127.0.0.1:1/stream', ecdhInfo: 'i', token: 't' };

  it('has the seed defaults', () => {
    expect(signalClientDefaults.reconnect).toEqual({
      enabled: true,
      maxRetries: 5,
      interval: 3000,
      backoffMultiplier: 1.5,
      maxInterval: 30_000,
    });
    expect(signalClientDefaults.heartbeatInterval).toBe(30_000);
    expect(signalClientDefaults.autoJoinRooms).toEqual([]);
    expect(signalClientDefaults.requireEncryption).toBe(true);
    expect(signalClientDefaults.maxBacklogFrames).toBe(4096);
    expect(signalClientDefaults.maxBacklogBytes).toBe(8 * 2 ** 20);
    expect(signalClientDefaults.maxPendingSends).toBe(4096);
  });

  it.each([
    [{ url: 1 }],
    [{ token: '' }],
    [{ reconnect: { maxRetries: -1 } }],
    [{ reconnect: { backoffMultiplier: 0.5 } }],
    [{ reconnect: { interval: '5' } }],
    [{ reconnect: { enabled: 1 } }],
    [{ heartbeatInterval: 0 }],
    [{ heartbeatInterval: Number.NaN }],
    [{ heartbeatInterval: 2 ** 31 }],
    [{ handshakeTimeout: -1 }],
    [{ maxFrameSize: 63 }],
    [{ ecdhInfo: undefined }],
    [{ WebSocket: 5 }],
    [{ autoJoinRooms: [''] }],
    [{ replayWindow: 0 }],
    [{ requireEncryption: 'yes' }],
    [{ logger: {} }],
    [{ maxBacklogFrames: 0 }],
    [{ maxPendingSends: 0 }],
    [{ maxBacklogBytes: 1.5 * 2 ** 20 - 1, maxFrameSize: 1.5 * 2 ** 20 }],
  ])('rejects %j', (bad) => {
    expect(() => new EncryptedWebSocketClient({ ...base, ...(bad as object) } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects a malformed serverVerifyKey up front', () => {
    for (const serverVerifyKey of ['AAAA', '%%%', `${'A'.repeat(87)}=`]) {
      expect(() => new EncryptedWebSocketClient({ ...base, serverVerifyKey })).toThrow(
        expect.objectContaining({
          code: 'ERR_KEY_FORMAT',
          message: expect.stringContaining('serverVerifyKey (base64) must be a 65-byte uncompressed P-256 point'),
        }),
      );
    }
  });

  it('takes an ECDSA P-256 verify CryptoKey as serverVerifyKey and refuses any other CryptoKey', async () => {
    const ecdsa = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const ecdh = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']);
    expect(() => new EncryptedWebSocketClient({ ...base, serverVerifyKey: ecdsa.publicKey })).not.toThrow();
    for (const wrong of [ecdsa.privateKey, ecdh.publicKey]) {
      expect(() => new EncryptedWebSocketClient({ ...base, serverVerifyKey: wrong })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringContaining(
            "option 'serverVerifyKey' must be a base64 P-256 key or an ECDSA P-256 verify CryptoKey",
          ),
        }),
      );
    }
    expect(() => new EncryptedWebSocketClient({ ...base, serverVerifyKey: null as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it.each([
    [null, 'EncryptedWebSocketClient options must be an object'],
    [{ ...base, url: '' }, "option 'url' must be a ws:// or wss:// URL"],
    [{ ...base, ecdhInfo: 5 }, "option 'ecdhInfo' must be a string"],
    [{ ...base, token: 5 }, "option 'token' must be a non-empty string"],
    [{ ...base, reconnect: 1 }, "option 'reconnect' must be an object"],
    [{ ...base, reconnect: { enabled: 'yes' } }, "option 'reconnect.enabled' must be true or false"],
    [
      { ...base, reconnect: { backoffMultiplier: 0.5 } },
      "option 'reconnect.backoffMultiplier' must be a number in [1, 2^31)",
    ],
    [{ ...base, heartbeatInterval: 2 ** 31 }, "option 'heartbeatInterval' must be a number in [1, 2^31)"],
    [{ ...base, handshakeTimeout: -1 }, "option 'handshakeTimeout' must be a number in [0, 2^31)"],
    [{ ...base, autoJoinRooms: 'lobby' }, "option 'autoJoinRooms' must be an array of non-empty strings"],
    [{ ...base, logger: { info() {} } }, "option 'logger' must be an object with methods debug,info,warn,error"],
    [{ ...base, WebSocket: {} }, "option 'WebSocket' must be a WebSocket constructor"],
    [{ ...base, maxBacklogFrames: 0 }, "option 'maxBacklogFrames' must be a number in [1, 2^31)"],
    [{ ...base, maxBacklogBytes: 1000 }, "option 'maxBacklogBytes' must be at least maxFrameSize (1048576)"],
  ])('says what the bad option must be (%j)', (opts, message) => {
    expect(() => new EncryptedWebSocketClient(opts as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining(message) }),
    );
  });

  it('accepts the limits of each range and keeps unknown members as they are', () => {
    const edges = {
      heartbeatInterval: 1,
      replayWindow: 1,
      maxFrameSize: 64,
      maxBacklogBytes: 64,
      maxBacklogFrames: 1,
      maxPendingSends: 1,
      handshakeTimeout: 0,
      reconnect: { maxRetries: 0, interval: 0, maxInterval: 2 ** 31 - 1, backoffMultiplier: 1 },
    };
    expect(
      () => new EncryptedWebSocketClient({ ...base, ...edges, requireEncryption: false, autoJoinRooms: ['a'] }),
    ).not.toThrow();
    expect(
      () => new EncryptedWebSocketClient({ ...base, reconnect: { backoffMultiplier: 1.5, enabled: false } }),
    ).not.toThrow();
  });

  it('updateToken rejects a non-string', () => {
    const client = new EncryptedWebSocketClient(base);
    expect(() => client.updateToken('' as string)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining("'token' must be a non-empty string"),
      }),
    );
  });
});

describe('messages of misuse', () => {
  const base = { url: 'ws://127.0.0.1:1/stream', ecdhInfo: 'i', token: 't', logger: recordingLogger() };

  it('connect() after destroy() says to create a new client', async () => {
    const client = new EncryptedWebSocketClient(base);
    client.destroy();
    await expect(client.connect()).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: expect.stringContaining('connect() after destroy(): create a new client'),
    });
  });

  it('send() with a bad event name says what an event name must be', async () => {
    const client = new EncryptedWebSocketClient(base);
    for (const name of ['', 'x'.repeat(257), 5]) {
      await expect(client.send(name as string)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringContaining('event name must be a string of 1-256 characters'),
      });
    }
  });

  it('joinRooms and leaveRooms with bad rooms say what rooms must be', () => {
    const client = new EncryptedWebSocketClient(base);
    const bad = expect.objectContaining({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('Rooms: rooms must be an array of non-empty strings'),
    });
    expect(() => client.joinRooms([''])).toThrow(bad);
    expect(() => client.leaveRooms('lobby' as never)).toThrow(bad);
  });

  it('a URL the WebSocket constructor refuses names the url option, with the refusal as cause', async () => {
    const refusal = new SyntaxError('bad scheme');
    class Refusing extends UnreachableWebSocket {
      constructor(url: string) {
        super(url);
        throw refusal;
      }
    }
    const client = new EncryptedWebSocketClient({ ...base, url: 'http://x', WebSocket: Refusing });
    await expect(client.connect()).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining("option 'url' must be a ws:// or wss:// URL"),
      cause: refusal,
    });
    expect(client.getState()).toBe('disconnected');
  });
});

/** The handler slots and state every test socket here starts with. */
abstract class TestSocket implements WebSocketLike {
  readyState = 0;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  abstract send(frame: string): void;
  abstract close(code?: number, reason?: string): void;
}

/** A WebSocket whose server is always unreachable: it closes (1006) right after construction. */
class UnreachableWebSocket extends TestSocket {
  static created = 0;
  constructor(_url: string) {
    super();
    UnreachableWebSocket.created++;
    queueMicrotask(() => {
      this.readyState = 3;
      this.onerror?.({});
      this.onclose?.({ code: 1006, reason: '' });
    });
  }
  send(): void {
    throw new Error('not open');
  }
  close(): void {}
}

/** A client whose every socket fails to open; resets the socket count. */
function unreachableClient(reconnect: IEncryptedWSClientOptions['reconnect']): EncryptedWebSocketClient {
  UnreachableWebSocket.created = 0;
  return new EncryptedWebSocketClient({
    url: 'ws://unreachable/stream',
    ecdhInfo: 'i',
    token: 't',
    WebSocket: UnreachableWebSocket,
    logger: recordingLogger(),
    reconnect,
  });
}

describe('reconnect schedule (fake timers)', () => {
  it('retries with jittered exponential delays, then gives up and leaves no timer behind', async () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor 1: the delays are the un-jittered ones
    const client = unreachableClient({ maxRetries: 3, interval: 100, backoffMultiplier: 2, maxInterval: 1000 });
    const failed = vi.fn();
    client.on('reconnect_failed', failed);
    const errors = vi.fn();
    client.on('error', errors);
    const connecting = client.connect();
    const until = async (n: number): Promise<void> => {
      while (UnreachableWebSocket.created < n || vi.getTimerCount() === 0) await vi.advanceTimersByTimeAsync(0);
    };
    await until(1);
    expect(client.getState()).toBe('reconnecting');
    for (const [delay, attempt] of [
      [100, 2],
      [200, 3],
      [400, 4],
    ] as const) {
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(UnreachableWebSocket.created).toBe(attempt - 1);
      await vi.advanceTimersByTimeAsync(1);
      if (attempt < 4) await until(attempt);
      else while (client.getState() !== 'disconnected') await vi.advanceTimersByTimeAsync(0);
    }
    expect(UnreachableWebSocket.created).toBe(4);
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED', closeCode: 1006 });
    expect(failed).toHaveBeenCalledWith({ retries: 3 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('disconnect() while reconnecting cancels the pending retry', async () => {
    vi.useFakeTimers();
    const client = unreachableClient({ interval: 100 });
    const connecting = client.connect();
    while (vi.getTimerCount() === 0) await vi.advanceTimersByTimeAsync(0);
    expect(client.getState()).toBe('reconnecting');
    await expect(client.send('x')).rejects.toMatchObject({ code: 'ERR_NOT_CONNECTED' });
    client.disconnect();
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_CONNECTION_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(UnreachableWebSocket.created).toBe(1);
    expect(client.getState()).toBe('disconnected');
  });
});

/**
 * A WebSocket that behaves like a browser's: it opens at once, answers
 * `authenticate` with a `connected` that offers no encryption, and its
 * close() refuses codes other than 1000 and 3000-4999 (such as 1008).
 */
class BrowserLikeWebSocket extends TestSocket {
  static readonly closes: unknown[][] = [];
  constructor(_url: string) {
    super();
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }
  send(frame: string): void {
    if (JSON.parse(frame).event !== 'authenticate') return;
    const connected = JSON.stringify({ event: 'connected', data: { id: 'c', userId: 'u', time: 't' } });
    queueMicrotask(() => this.onmessage?.({ data: connected }));
  }
  close(...args: unknown[]): void {
    BrowserLikeWebSocket.closes.push(args);
    const code = args[0];
    if (code !== undefined && code !== 1000 && !(typeof code === 'number' && code >= 3000 && code <= 4999)) {
      throw new DOMException('The close code must be either 1000, or between 3000 and 4999.', 'InvalidAccessError');
    }
    this.readyState = 3;
  }
}

describe('closing in browsers', () => {
  it('closes a socket whose handshake failed even where close code 1008 is refused', async () => {
    const client = new EncryptedWebSocketClient({
      url: 'ws://x/stream',
      ecdhInfo: 'i',
      token: 't',
      WebSocket: BrowserLikeWebSocket,
      logger: recordingLogger(),
    });
    await expect(client.connect()).rejects.toBeInstanceOf(ProtocolError);
    expect(BrowserLikeWebSocket.closes).toEqual([[1008, 'Handshake failed'], []]);
    expect(client.getState()).toBe('disconnected');
  });
});

describe('handlers', () => {
  it('on/off/offAll/onStateChange: removed handlers are not called, and state handlers are kept apart from events', async () => {
    const client = new EncryptedWebSocketClient({
      url: 'ws://x/stream',
      ecdhInfo: 'i',
      token: 't',
      WebSocket: BrowserLikeWebSocket,
      logger: recordingLogger(),
      requireEncryption: false,
    });
    const kept = vi.fn();
    const removed = vi.fn();
    const stray = vi.fn();
    const states: string[] = [];
    client.on('connected', kept);
    client.on('connected', removed);
    client.off('connected', removed);
    client.off('never-registered', removed);
    client.on('', stray);
    client.on('state', stray);
    client.onStateChange((s) => states.push(s));
    await client.connect();
    expect(kept).toHaveBeenCalledTimes(1);
    expect(kept.mock.calls[0]![0]).toMatchObject({ id: 'c', userId: 'u' });
    expect(removed).not.toHaveBeenCalled();
    expect(stray).not.toHaveBeenCalled();
    expect(states).toEqual(['connecting', 'authenticating', 'authenticated']);
    client.offAll('connected');
    client.disconnect();
    await client.connect();
    expect(kept).toHaveBeenCalledTimes(1);
    expect(states.slice(3)).toEqual(['disconnected', 'connecting', 'authenticating', 'authenticated']);
    client.destroy();
  });

  it('keeps one registration per handler and event, refuses a non-function, and isolates a throwing handler', async () => {
    const logger = recordingLogger();
    const client = new EncryptedWebSocketClient({
      url: 'ws://x/stream',
      ecdhInfo: 'i',
      token: 't',
      WebSocket: BrowserLikeWebSocket,
      logger,
      requireEncryption: false,
    });
    const ids: string[] = [];
    // The client's own events are typed: `info` is the connected data.
    const twice = (info: { id: string }): void => {
      ids.push(info.id);
    };
    client.on('connected', twice);
    client.on('connected', twice);
    client.on('connected', () => {
      throw new Error('handler bug');
    });
    const after = vi.fn();
    client.on('connected', after);
    client.on('reconnect_failed', ({ retries }) => ids.push(String(retries)));
    expect(() => client.on('x', 'not a function' as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('must be a function') }),
    );
    await client.connect();
    expect(ids).toEqual(['c']);
    expect(after).toHaveBeenCalledTimes(1);
    expect(logger.lines).toContainEqual({ level: 'error', message: "A handler of 'connected' threw" });
    expect(client.isConnected()).toBe(true);
    client.destroy();
  });
});
