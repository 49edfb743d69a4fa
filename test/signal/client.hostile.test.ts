/**
 * EncryptedWebSocketClient against a scripted hostile server: each test is an
 * attack the original client falls for (downgrade, replay, reflection, forged
 * server, stale decryptions, malformed frames).
 */
import { describe, expect, it, vi } from 'vitest';
import { bytesToBase64, encrypt, exportVerifyKeyRaw, generateSigningKeyPair } from '../../src/crypto/index.js';
import {
  AuthenticationError,
  KeyFormatError,
  ProtocolError,
  ReplayError,
  TimeoutError,
  type EncryptedWebSocketClient,
} from '../../src/signal/index.js';
import {
  barrier,
  connectHostile,
  envelope,
  honestHandshake,
  holdSubtle,
  nextEvent,
  recordingLogger,
  serverOffer,
} from './helpers.js';
import { hostileSetup } from '../helpers/hostile-signal.js';

const h = hostileSetup({ token: 'token', reconnect: { interval: 1, maxInterval: 2 } });
const { client } = h;

/** Connects a client through an honest handshake; returns the session key. */
const connected = (c: EncryptedWebSocketClient) => connectHostile(c, h.server);

describe('no downgrade (requireEncryption)', () => {
  it.each([
    [
      'no key and no salt',
      (d: Record<string, unknown>) => ({ id: d.id, userId: d.userId, time: d.time }),
      ProtocolError,
    ],
    ['a key but no salt', (d: Record<string, unknown>) => ({ ...d, salt: undefined }), ProtocolError],
    ['a key and a null salt', (d: Record<string, unknown>) => ({ ...d, salt: null }), ProtocolError],
    ['a salt but a null key', (d: Record<string, unknown>) => ({ ...d, serverPublicKey: null }), ProtocolError],
    ['a key that is not a string', (d: Record<string, unknown>) => ({ ...d, serverPublicKey: 65 }), KeyFormatError],
    [
      'a key that is not base64',
      (d: Record<string, unknown>) => ({ ...d, serverPublicKey: 'not base64!' }),
      KeyFormatError,
    ],
    [
      'a compressed 33-byte key',
      (d: Record<string, unknown>) => ({ ...d, serverPublicKey: bytesToBase64(new Uint8Array(33).fill(2)) }),
      KeyFormatError,
    ],
    ['an empty salt', (d: Record<string, unknown>) => ({ ...d, salt: '' }), KeyFormatError],
  ])('a connected with %s closes the socket, reports and does not retry', async (_, tweak, ErrorClass) => {
    const { client: c, states } = client();
    const error = nextEvent(c, 'error');
    const connecting = c.connect();
    const conn = await h.server.nextConnection();
    await honestHandshake(conn, tweak);
    await expect(connecting).rejects.toBeInstanceOf(ErrorClass);
    expect(await error).toBeInstanceOf(ErrorClass);
    expect(await conn.closed).toBe(1008);
    expect(c.isEncrypted()).toBe(false);
    expect(c.getState()).toBe('disconnected');
    expect(states).not.toContain('reconnecting');
    expect(states).not.toContain('authenticated');
    expect(h.server.connections).toBe(1);
  });

  it('a plaintext application event is never delivered once encryption is required', async () => {
    const { client: c } = client();
    const { conn, aesKey } = await connected(c);
    const delivered = vi.fn();
    c.on('payment.success', delivered);
    const error = nextEvent(c, 'error');
    conn.send('payment.success', { forged: true });
    expect(await error).toBeInstanceOf(ProtocolError);
    await barrier(c, conn, aesKey);
    expect(delivered).not.toHaveBeenCalled();
  });

  it('with requireEncryption: false a plaintext server still works (the documented opt-out)', async () => {
    const logger = recordingLogger();
    const { client: c } = client({ requireEncryption: false, logger });
    const connecting = c.connect();
    const conn = await h.server.nextConnection();
    await honestHandshake(conn, (d) => ({ id: d.id, userId: d.userId, time: d.time }));
    await connecting;
    expect(c.isEncrypted()).toBe(false);
    expect(logger.lines).toContainEqual({ level: 'warn', message: 'not encrypted: the server offered no key' });
    const got = nextEvent(c, 'news');
    conn.send('news', 1);
    expect(await got).toBe(1);
    await expect(c.send('news', 1)).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      message: expect.stringContaining("send('news'): not encrypted: the server offered no key"),
    });
    const error = nextEvent(c, 'error');
    conn.send('encrypted', { iv: 'AAAAAAAAAAAAAAAA', ct: 'A'.repeat(24) });
    expect(await error).toMatchObject({
      code: 'ERR_PROTOCOL',
      message: expect.stringContaining("'encrypted' frame without a session key"),
    });
  });

  it('with requireEncryption: false, null key material means no encryption, and one missing half is still refused', async () => {
    const { client: c } = client({ requireEncryption: false });
    const connecting = c.connect();
    const conn = await h.server.nextConnection();
    await honestHandshake(conn, (d) => ({
      id: d.id,
      userId: d.userId,
      time: d.time,
      serverPublicKey: null,
      salt: null,
    }));
    await connecting;
    expect(c.isConnected() && !c.isEncrypted()).toBe(true);
    c.disconnect();
    const again = c.connect();
    const second = await h.server.nextConnection();
    await honestHandshake(second, (d) => ({ ...d, salt: null }));
    await expect(again).rejects.toBeInstanceOf(ProtocolError);
    expect(await second.closed).toBe(1008);
  });
});

describe('replay and reflection', () => {
  it('rejects a replayed encrypted frame', async () => {
    const { client: c } = client();
    const { conn, aesKey } = await connected(c);
    const handler = vi.fn();
    c.on('pay', handler);
    const frame = await envelope(aesKey, 'pay', { amount: 10 });
    const first = nextEvent(c, 'pay');
    conn.send('encrypted', frame);
    await first;
    const error = nextEvent(c, 'error');
    conn.send('encrypted', frame);
    expect(await error).toBeInstanceOf(ReplayError);
    await barrier(c, conn, aesKey);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it("rejects the client's own frame reflected back", async () => {
    const { client: c } = client();
    const { conn, aesKey } = await connected(c);
    const handler = vi.fn();
    c.on('transfer', handler);
    const error = nextEvent(c, 'error');
    await c.send('transfer', { to: 'bob' });
    const own = await conn.nextOf('encrypted');
    conn.send('encrypted', own.data);
    expect(await error).toBeInstanceOf(ReplayError);
    await barrier(c, conn, aesKey);
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('server authentication (serverVerifyKey)', () => {
  async function signedSetup(
    signWith: CryptoKey | undefined,
    tweak?: (d: Record<string, unknown>) => Record<string, unknown>,
  ) {
    const trusted = await generateSigningKeyPair();
    const verifyKey = bytesToBase64(await exportVerifyKeyRaw(trusted.publicKey));
    const { client: c, states } = client({ serverVerifyKey: verifyKey });
    const connecting = c.connect();
    const conn = await h.server.nextConnection();
    await honestHandshake(conn, tweak, signWith ?? trusted.privateKey);
    return { c, states, connecting, conn, trusted };
  }

  it('accepts a server that signs with the trusted key', async () => {
    const { c, connecting } = await signedSetup(undefined);
    await connecting;
    expect(c.isEncrypted()).toBe(true);
  });

  it.each([
    ['signed by another key', true, (d: Record<string, unknown>) => d],
    ['without a signature', false, (d: Record<string, unknown>) => ({ ...d, signature: undefined })],
    ['with a signature that is not base64', false, (d: Record<string, unknown>) => ({ ...d, signature: '%%%' })],
    [
      'with a signature over another salt',
      false,
      (d: Record<string, unknown>) => ({ ...d, salt: bytesToBase64(new Uint8Array(32).fill(7)) }),
    ],
    // The signature is checked before the server key is used, so a forged key fails authentication, not key import.
    [
      'with a substituted, malformed server key',
      false,
      (d: Record<string, unknown>) => ({ ...d, serverPublicKey: bytesToBase64(new Uint8Array(33).fill(2)) }),
    ],
  ])('fails closed for a server %s: AuthenticationError, close, no reconnect', async (_, otherKey, tweak) => {
    const other = otherKey ? (await generateSigningKeyPair()).privateKey : undefined;
    const { c, states, connecting, conn } = await signedSetup(other, tweak);
    const error = nextEvent(c, 'error');
    await expect(connecting).rejects.toBeInstanceOf(AuthenticationError);
    expect(await error).toMatchObject({
      code: 'ERR_AUTHENTICATION',
      message: expect.stringContaining("'connected' signature does not verify with serverVerifyKey"),
    });
    expect(await conn.closed).toBe(1008);
    expect(states).not.toContain('reconnecting');
    expect(c.getState()).toBe('disconnected');
    expect(h.server.connections).toBe(1);
  });

  it('without serverVerifyKey a signature changes nothing', async () => {
    const { client: c } = client();
    const connecting = c.connect();
    const conn = await h.server.nextConnection();
    await honestHandshake(conn, undefined, (await generateSigningKeyPair()).privateKey);
    await connecting;
    expect(c.isConnected()).toBe(true);
  });
});

describe('stale connections', () => {
  it('a frame still waiting for its decryption when the connection closed is never delivered after the reconnect', async () => {
    const { client: c } = client();
    const handler = vi.fn();
    c.on('late', handler);
    const connecting = c.connect();
    const conn = await h.server.nextConnection();
    const { aesKey, connected: offer } = await serverOffer(conn);
    const late = await envelope(aesKey, 'late', 'from the old connection');
    // The client's key agreement waits at a gate, so the frame right behind `connected` cannot be decrypted yet.
    const { started, release } = holdSubtle('deriveBits');
    // Both frames reach the client in one read, before its key agreement can have finished.
    conn.send('connected', { ...offer, id: 'old' });
    conn.send('encrypted', late);
    await started;
    conn.ws.terminate();
    const again = await h.server.nextConnection();
    const { aesKey: newKey } = await honestHandshake(again);
    await connecting;
    release();
    await barrier(c, again, newKey);
    expect(handler).not.toHaveBeenCalled();
    expect(c.getClientId()).toBe('conn-1');
  });

  it('times out a server that never answers authenticate, and retries', async () => {
    const { client: c } = client({ handshakeTimeout: 50 });
    const error = nextEvent(c, 'error');
    const connecting = c.connect();
    const silent = await h.server.nextConnection();
    await silent.nextOf('authenticate');
    expect(await error).toBeInstanceOf(TimeoutError);
    const second = await h.server.nextConnection();
    await honestHandshake(second);
    await connecting;
    expect(c.isConnected()).toBe(true);
  });
});

describe('frame validation', () => {
  it('reports every malformed frame and keeps working', async () => {
    const { client: c } = client({ maxFrameSize: 4096 });
    const { conn, aesKey } = await connected(c);
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    const connectedHandler = vi.fn();
    c.on('connected', connectedHandler);
    const good = await envelope(aesKey, 'x', 1);
    const tampered = {
      ...good,
      ct: bytesToBase64(Buffer.from(good.ct, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))),
    };
    const bad: string[] = [
      'not json',
      '[1,2]',
      '{"data":1}',
      '{"event":""}',
      `{"event":"${'e'.repeat(300)}"}`,
      JSON.stringify({ event: 'encrypted', data: 'x' }),
      JSON.stringify({ event: 'encrypted', data: { iv: 1, ct: 'AAAA' } }),
      JSON.stringify({ event: 'encrypted', data: { iv: 'AAAAAAAAAAAAAAA=', ct: good.ct } }),
      JSON.stringify({ event: 'encrypted', data: { iv: good.iv, ct: 'AAAA' } }),
      JSON.stringify({ event: 'encrypted', data: tampered }),
      JSON.stringify({ event: 'encrypted', data: await encrypt({ plaintext: 'not json', aesKey }) }),
      JSON.stringify({ event: 'encrypted', data: await envelope(aesKey, 'connected', { id: 'forged' }) }),
      JSON.stringify({ event: 'connected', data: { id: 'again', userId: 'x', time: 't' } }),
      JSON.stringify({ event: 'x', pad: 'p'.repeat(5000) }),
    ];
    for (const frame of bad) conn.sendRaw(frame);
    await barrier(c, conn, aesKey);
    expect(errors).toHaveLength(bad.length);
    for (const e of errors) expect((e as Error).name).toMatch(/ProtocolError|DecryptError/);
    expect(errors.at(-2)).toMatchObject({
      code: 'ERR_PROTOCOL',
      message: expect.stringContaining("second 'connected' on one connection"),
    });
    expect(connectedHandler).not.toHaveBeenCalled();
    expect(c.isConnected()).toBe(true);
    expect(c.getClientId()).toBe('conn-1');
  });

  it("delivers the server's error data as sent", async () => {
    const { client: c } = client();
    const { conn } = await connected(c);
    const error = nextEvent(c, 'error');
    conn.send('error', { code: 'X', message: 'server says no' });
    expect(await error).toEqual({ code: 'X', message: 'server says no' });
  });
});
