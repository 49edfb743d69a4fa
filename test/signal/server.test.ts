/** The reference server's Signal endpoint, driven by raw `ws` clients and by the library client. */
import { afterEach, describe, expect, it } from 'vitest';
import {
  base64ToBytes,
  bytesToBase64,
  decrypt,
  deriveAESKey,
  encrypt,
  exportVerifyKeyRaw,
  generateECDHKeyPair,
  generateSigningKeyPair,
  verify,
} from '../../src/crypto/index.js';
import { createServer, type WssSessionsServer } from '../../src/server/index.js';
import { SYNC_AES_GCM_LIMIT } from '../../src/node/aes-gcm.js';
import { signalTranscript } from '../../src/signal/index.js';
import { RawClient } from '../server/helpers.js';
import { ECDH_INFO, makeToken, nextEvent, SECRET, signalFixture, signalUrl } from './helpers.js';

const fx = signalFixture();
const raws = new Set<RawClient>();
afterEach(async () => {
  await Promise.all([...raws].map((r) => r.close()));
  raws.clear();
  await fx.cleanup();
});

async function open(server: WssSessionsServer): Promise<RawClient> {
  const raw = await RawClient.open(signalUrl(server));
  raws.add(raw);
  return raw;
}

/** A raw client through the whole handshake; returns its session key too. */
async function authed(server: WssSessionsServer, sub = 'raw') {
  const raw = await open(server);
  const keys = await generateECDHKeyPair();
  raw.sendRaw(
    JSON.stringify({
      event: 'authenticate',
      data: { type: 'Bearer', token: await makeToken(sub), clientPublicKey: keys.publicKeyB64 },
    }),
  );
  const connected = await raw.nextMessage();
  expect(connected.event).toBe('connected');
  const aesKey = await deriveAESKey({
    clientPrivateKey: keys.keyPair.privateKey,
    serverPublicKeyB64: connected.data.serverPublicKey,
    saltB64: connected.data.salt,
    ecdhInfo: ECDH_INFO,
  });
  const sendEvent = async (event: string, data?: unknown): Promise<{ iv: string; ct: string }> => {
    const payload = await encrypt({ plaintext: JSON.stringify({ event, data }), aesKey });
    raw.sendRaw(JSON.stringify({ event: 'encrypted', data: payload }));
    return payload;
  };
  const nextDecrypted = async (): Promise<any> => {
    const frame = await raw.nextMessage();
    if (frame.event !== 'encrypted') return { plain: frame };
    return JSON.parse(await decrypt({ payload: frame.data, aesKey }));
  };
  return { raw, keys, connected: connected.data, aesKey, sendEvent, nextDecrypted };
}

describe('authentication', () => {
  it('answers connected with id, userId, ISO time, a fresh key and a 32-byte salt per connection', async () => {
    const server = await fx.server();
    const a = await authed(server, 'alice');
    const b = await authed(server, 'alice');
    expect(a.connected.userId).toBe('alice');
    expect(new Date(a.connected.time).toISOString()).toBe(a.connected.time);
    expect(base64ToBytes(a.connected.salt)).toHaveLength(32);
    expect(a.connected.id).not.toBe(b.connected.id);
    expect(a.connected.salt).not.toBe(b.connected.salt);
    expect(a.connected.serverPublicKey).not.toBe(b.connected.serverPublicKey);
    expect(a.connected.signature).toBeUndefined();
  });

  it.each([
    ['a frame before authenticate', async () => ({ event: 'join', data: { rooms: ['x'] } }), 'NOT_AUTHENTICATED'],
    [
      'authenticate without a token',
      async () => ({ event: 'authenticate', data: { type: 'Bearer', clientPublicKey: 'x' } }),
      'AUTH_FAILED',
    ],
    [
      'a token without sub',
      async () => ({
        event: 'authenticate',
        data: {
          type: 'Bearer',
          token: await tokenWithoutSub(),
          clientPublicKey: (await generateECDHKeyPair()).publicKeyB64,
        },
      }),
      'AUTH_FAILED',
    ],
    [
      'a garbage token',
      async () => ({
        event: 'authenticate',
        data: { type: 'Bearer', token: 'a.b.c', clientPublicKey: (await generateECDHKeyPair()).publicKeyB64 },
      }),
      'AUTH_FAILED',
    ],
    [
      'a client key that is not base64',
      async () => ({
        event: 'authenticate',
        data: { type: 'Bearer', token: await makeToken('u'), clientPublicKey: '***' },
      }),
      'BAD_KEY',
    ],
    [
      'a client key off the curve',
      async () => ({
        event: 'authenticate',
        data: {
          type: 'Bearer',
          token: await makeToken('u'),
          clientPublicKey: bytesToBase64(Uint8Array.of(4, ...new Uint8Array(64).fill(1))),
        },
      }),
      'BAD_KEY',
    ],
  ])('refuses %s with an error event and close 1008', async (_, frame, code) => {
    const server = await fx.server();
    const raw = await open(server);
    raw.sendRaw(JSON.stringify(await frame()));
    const error = await raw.nextMessage();
    expect(error).toMatchObject({ event: 'error', data: { code } });
    expect((await raw.closed).code).toBe(1008);
    expect(server.signal!.clients).toEqual([]);
  });

  it('signs clientPublicKey ‖ serverPublicKey ‖ salt with a JWK signing key, and the client verifies it', async () => {
    const pair = await generateSigningKeyPair({ extractable: true });
    const jwk = await crypto.subtle.exportKey('jwk', pair.privateKey);
    const server = await fx.server({ signingKey: jwk });
    const a = await authed(server);
    const transcript = signalTranscript(
      base64ToBytes(a.keys.publicKeyB64),
      base64ToBytes(a.connected.serverPublicKey),
      base64ToBytes(a.connected.salt),
    );
    expect(await verify(pair.publicKey, base64ToBytes(a.connected.signature), transcript)).toBe(true);
    const client = fx.client(signalUrl(server), {
      token: await makeToken('v'),
      serverVerifyKey: bytesToBase64(await exportVerifyKeyRaw(pair.publicKey)),
    });
    await client.connect();
    expect(client.isEncrypted()).toBe(true);
  });

  it('drops a silent socket after idleTimeout', async () => {
    const server = await fx.server({ idleTimeout: 80 });
    const raw = await open(server);
    expect(await raw.nextMessage()).toMatchObject({ event: 'error', data: { code: 'IDLE_TIMEOUT' } });
    expect((await raw.closed).code).toBe(4000);
  });

  it('refuses bad options up front', async () => {
    await expect(createServer({ port: 0, signal: { ecdhInfo: 'i', jwtSecret: 'short' } })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(
      createServer({ port: 0, signal: { ecdhInfo: 'i', jwtSecret: SECRET, idleTimeout: -1 } }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      createServer({ port: 0, signal: { ecdhInfo: 'i', jwtSecret: SECRET, nope: 1 } as never }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

async function tokenWithoutSub(): Promise<string> {
  const { SignJWT } = await import('jose');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
}

describe('hostile frames', () => {
  it('answers each bad frame with an error to that client only, and everybody keeps working', async () => {
    const server = await fx.server();
    const a = await authed(server, 'attacker');
    const bystander = fx.client(signalUrl(server), { token: await makeToken('bystander') });
    const bystanderErrors: unknown[] = [];
    bystander.on('error', (e) => bystanderErrors.push(e));
    await bystander.connect();

    const good = await encrypt({ plaintext: JSON.stringify({ event: 'echo', data: 1 }), aesKey: a.aesKey });
    const otherKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt']);
    const wrongKey = await encrypt({ plaintext: JSON.stringify({ event: 'echo', data: 1 }), aesKey: otherKey });
    const tampered = { iv: good.iv, ct: bytesToBase64(base64ToBytes(good.ct).map((b, i) => (i === 3 ? b ^ 0x80 : b))) };
    const cases: Array<[string, string]> = [
      ['not json', 'BAD_FRAME'],
      ['{"event":5}', 'BAD_FRAME'],
      [JSON.stringify({ event: 'encrypted', data: { iv: '!!!!!!!!!!!!!!!!', ct: good.ct } }), 'BAD_FRAME'],
      [JSON.stringify({ event: 'encrypted', data: { iv: good.iv } }), 'BAD_FRAME'],
      [JSON.stringify({ event: 'encrypted', data: wrongKey }), 'DECRYPT_FAILED'],
      [JSON.stringify({ event: 'encrypted', data: tampered }), 'DECRYPT_FAILED'],
      [JSON.stringify({ event: 'chat', data: 'plaintext' }), 'ENCRYPTION_REQUIRED'],
      [JSON.stringify({ event: 'join', data: { rooms: [1] } }), 'BAD_FRAME'],
      [JSON.stringify({ event: 'authenticate', data: {} }), 'ALREADY_AUTHENTICATED'],
    ];
    for (const [frame, code] of cases) {
      a.raw.sendRaw(frame);
      expect(await a.raw.nextMessage()).toMatchObject({ event: 'error', data: { code } });
    }
    a.raw.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await a.raw.nextMessage()).toMatchObject({ event: 'error', data: { code: 'BAD_FRAME' } });

    await a.sendEvent('nobody.handles.this', 1);
    expect(await a.nextDecrypted()).toMatchObject({ plain: { event: 'error', data: { code: 'UNKNOWN_EVENT' } } });

    // Replay of the client's own frame, and reflection of the server's frame.
    const sent = await a.sendEvent('echo', 'once');
    const echoFrame = await a.raw.nextMessage();
    expect(JSON.parse(await decrypt({ payload: echoFrame.data, aesKey: a.aesKey }))).toEqual({
      event: 'echo',
      data: 'once',
    });
    a.raw.sendRaw(JSON.stringify({ event: 'encrypted', data: sent }));
    expect(await a.raw.nextMessage()).toMatchObject({ event: 'error', data: { code: 'REPLAY' } });
    a.raw.sendRaw(JSON.stringify({ event: 'encrypted', data: echoFrame.data }));
    expect(await a.raw.nextMessage()).toMatchObject({ event: 'error', data: { code: 'REPLAY' } });

    await a.sendEvent('echo', 'still fine');
    expect(await a.nextDecrypted()).toEqual({ event: 'echo', data: 'still fine' });
    const echoed = nextEvent(bystander, 'echo');
    await bystander.send('echo', 'unaffected');
    expect(await echoed).toBe('unaffected');
    expect(bystanderErrors).toEqual([]);
  });

  it('answers a plaintext echo only when allowPlaintextEcho is set', async () => {
    const server = await fx.server({ allowPlaintextEcho: true });
    const a = await authed(server);
    a.raw.sendRaw(JSON.stringify({ event: 'echo', data: { n: 1 } }));
    expect(await a.raw.nextMessage()).toEqual({ event: 'echo', data: { n: 1 } });
  });

  it('refuses joins beyond maxRoomsPerClient', async () => {
    const server = await fx.server({ maxRoomsPerClient: 2 });
    const a = await authed(server);
    a.raw.sendRaw(JSON.stringify({ event: 'join', data: { rooms: ['a', 'b', 'c'] } }));
    expect(await a.raw.nextMessage()).toMatchObject({ event: 'error', data: { code: 'TOO_MANY_ROOMS' } });
    expect(server.signal!.clients[0]!.rooms).toEqual([]);
  });
});

describe('concurrent decryption, ordered handling', () => {
  it('handles a burst of 400 frames of very different sizes in arrival order, one handler at a time', async () => {
    const server = await fx.server({ maxPendingFrames: 1024 });
    const handled: number[] = [];
    let running = 0;
    let overlapped = false;
    const all = new Promise<void>((resolve) => {
      server.signal?.on('seq', async (_ctx, data) => {
        running++;
        overlapped ||= running > 1;
        const { n } = data as { n: number };
        // Every fifth handler awaits: the next frame must wait for it.
        if (n % 5 === 0) await new Promise<void>((r) => setImmediate(r));
        handled.push(n);
        running--;
        if (handled.length === 400) resolve();
      });
    });
    const a = await authed(server);
    const pads = Array.from({ length: 400 }, (_, i) => (i % 9 === 0 ? 150_000 - i * 300 : (i * 7919) % 3000));
    const frames = await Promise.all(
      pads.map(async (pad, n) =>
        JSON.stringify({
          event: 'encrypted',
          data: await encrypt({
            plaintext: JSON.stringify({ event: 'seq', data: { n, pad: 'p'.repeat(pad) } }),
            aesKey: a.aesKey,
          }),
        }),
      ),
    );
    for (const frame of frames) a.raw.sendRaw(frame);
    await all;
    expect(handled).toEqual(pads.map((_, n) => n));
    expect(overlapped).toBe(false);
  });
});

describe('echo order across the two AES-GCM paths', () => {
  it('echoes frames over 1 MiB (WebCrypto, off the event loop) and small ones (node:crypto, at once) in arrival order', async () => {
    const server = await fx.server({}, { maxPayload: 8 * 2 ** 20 });
    const a = await authed(server);
    const pads = [0, SYNC_AES_GCM_LIMIT, 5, 10_000, SYNC_AES_GCM_LIMIT + 100, 7, 0];
    const frames = await Promise.all(
      pads.map(async (pad, n) =>
        JSON.stringify({
          event: 'encrypted',
          data: await encrypt({
            plaintext: JSON.stringify({ event: 'echo', data: { n, pad: 'p'.repeat(pad) } }),
            aesKey: a.aesKey,
          }),
        }),
      ),
    );
    for (const frame of frames) a.raw.sendRaw(frame);
    const echoed: number[] = [];
    for (const _ of pads) {
      const reply = await a.nextDecrypted();
      expect(reply.event).toBe('echo');
      echoed.push(reply.data.n);
    }
    expect(echoed).toEqual(pads.map((_, n) => n));
  });
});

describe('application API', () => {
  it('routes events to handlers, sends to clients and lists them', async () => {
    const server = await fx.server();
    const signal = server.signal!;
    expect(() => signal.on('echo', () => {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => signal.on('connected', () => {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    signal.on('sum', async (ctx, data) => {
      const numbers = data as number[];
      await ctx.send('sum.result', { by: ctx.userId, total: numbers.reduce((s, n) => s + n, 0) });
    });
    signal.on('explode', () => {
      throw new Error('handler bug');
    });
    const joined: string[] = [];
    signal.onClientConnected((c) => joined.push(c.userId));
    const client = fx.client(signalUrl(server), { token: await makeToken('erin') });
    await client.connect();
    expect(joined).toEqual(['erin']);
    const result = nextEvent(client, 'sum.result');
    await client.send('sum', [1, 2, 3]);
    expect(await result).toEqual({ by: 'erin', total: 6 });

    const failure = nextEvent(client, 'error');
    await client.send('explode');
    expect(await failure).toMatchObject({ code: 'HANDLER_FAILED' });

    signal.on('forge', async (ctx) => {
      await ctx.send('connected', { id: 'forged' });
    });
    const forged = nextEvent(client, 'error');
    await client.send('forge');
    expect(await forged).toMatchObject({ code: 'HANDLER_FAILED' });

    const pushed = nextEvent(client, 'notice');
    expect(await signal.sendTo(client.getClientId()!, 'notice', 'hello')).toBe(true);
    expect(await pushed).toBe('hello');
    expect(await signal.sendTo('nobody', 'notice', 'hello')).toBe(false);
    await expect(signal.sendTo(client.getClientId()!, 'error', 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(signal.publish('', 'x')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });

    const left = new Promise((resolve) => signal.onClientDisconnected(resolve));
    client.disconnect();
    expect(await left).toMatchObject({ userId: 'erin' });
    expect(signal.clients).toEqual([]);
  });

  it('server.close() closes every Signal connection', async () => {
    const server = await createServer({ port: 0, signal: { ecdhInfo: ECDH_INFO, jwtSecret: SECRET } });
    const client = fx.client(signalUrl(server), { token: await makeToken('f'), reconnect: { enabled: false } });
    await client.connect();
    const down = new Promise<void>((resolve) => client.onStateChange((s) => s === 'disconnected' && resolve()));
    await server.close();
    await down;
    expect(client.getState()).toBe('disconnected');
  });
});
