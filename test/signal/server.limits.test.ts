/**
 * The Signal endpoint under load and abuse: backpressure (maxBufferedBytes),
 * the frame rate limit (requestRate / requestBurst), the depth limit
 * (maxDepth), the drain, and the metrics that count it all. Real server, raw
 * `ws` clients; every wait is on an event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encrypt } from '../../src/crypto/index.js';
import type { SignalClientInfo, WssSessionsServer } from '../../src/server/index.js';
import type { RawClient } from '../server/helpers.js';
import { authenticateRaw, recordingLogger, signalFixture } from './helpers.js';

const fx = signalFixture();
afterEach(() => fx.cleanup());

/** Bytes on the wire of a server frame (unmasked) carrying `length` payload bytes. */
const wireSize = (length: number): number => length + (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/** A raw client, authenticated as `sub`, that counts every frame it sends and receives. */
async function authed(server: WssSessionsServer, sub: string) {
  const raw = await fx.raw(server);
  const traffic = { sentFrames: 0, sentBytes: 0, receivedFrames: 0, receivedBytes: 0 };
  raw.ws.on('message', (data: Buffer) => {
    traffic.receivedFrames++;
    traffic.receivedBytes += wireSize(data.length);
  });
  const send = raw.ws.send.bind(raw.ws);
  raw.ws.send = ((data: string) => {
    traffic.sentFrames++;
    traffic.sentBytes += Buffer.byteLength(data);
    send(data);
  }) as typeof raw.ws.send;
  return { ...(await authenticateRaw(raw, sub)), traffic };
}

type Authed = Awaited<ReturnType<typeof authed>>;

/** Joins `rooms` and waits until the server has handled it (frames are handled in order: an echo comes back after). */
async function join(client: Authed, rooms: string[]): Promise<void> {
  client.raw.sendRaw(JSON.stringify({ event: 'join', data: { rooms } }));
  await client.sendEvent('echo', 'joined');
  expect(await client.nextDecrypted()).toEqual({ event: 'echo', data: 'joined' });
}

/** Every frame a closed client received and had not read, parsed. */
async function leftover(raw: RawClient): Promise<any[]> {
  const frames: any[] = [];
  while (raw.pending > 0) frames.push(await raw.nextMessage());
  return frames;
}

/** The value of one sample line of Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const metricsOf = async (server: WssSessionsServer): Promise<string> =>
  (await fetch(`${server.httpUrl}/metrics`)).text();

/** `[[…[1]…]]`, `levels` arrays deep. */
const nested = (levels: number): unknown => (levels === 0 ? 1 : [nested(levels - 1)]);

describe('backpressure (maxBufferedBytes)', () => {
  it('closes a client that stopped reading with 1013: it leaves its rooms at once, the others go on, a log line and a metric say so', async () => {
    const logger = recordingLogger();
    const server = await fx.server({}, { maxPayload: 64 * 1024, maxBufferedBytes: 256 * 1024, logger });
    const signal = server.signal!;
    const slow = await authed(server, 'slow');
    const reader = await authed(server, 'reader');
    const sender = await authed(server, 'sender');
    for (const client of [slow, reader, sender]) await join(client, ['room']);
    const gone = new Promise<SignalClientInfo>((resolve) => signal.onClientDisconnected(resolve));
    let left = false;
    void gone.then(() => {
      left = true;
    });

    slow.raw.ws.pause();
    const data = 'x'.repeat(40_000);
    // One chunk at a time: the reader has it when the slow client's copy has been queued too.
    for (let n = 0; !left && n < 2000; n++) {
      await sender.sendEvent('publish', { room: 'room', event: 'chunk', data: { n, data } });
      expect(await reader.nextDecrypted()).toMatchObject({ event: 'chunk', data: { n } });
    }
    expect(left).toBe(true);
    expect(await gone).toMatchObject({ userId: 'slow', rooms: ['room'] });
    expect(signal.clients.map((c) => c.userId)).toEqual(['reader', 'sender']);
    expect(await signal.publish('room', 'after', null)).toBe(2);
    expect(await reader.nextDecrypted()).toEqual({ event: 'after', data: null });

    const warning = logger.lines.find((l) => l.message.includes('is not reading'));
    expect(warning).toMatchObject({ level: 'warn' });
    expect(warning?.message).toContain('over maxBufferedBytes 262144; closing (1013)');
    const metrics = await metricsOf(server);
    expect(sample(metrics, 'wss_sessions_backpressure_closes_total{endpoint="signal"}')).toBe(1);
    expect(sample(metrics, 'wss_sessions_sessions{endpoint="signal"}')).toBe(2);

    slow.raw.ws.resume();
    expect(await slow.raw.closed).toEqual({ code: 1013, reason: 'outbound buffer full (maxBufferedBytes)' });
    expect(reader.raw.ws.readyState).toBe(reader.raw.ws.OPEN);
  });
});

describe('rate limit (requestRate / requestBurst)', () => {
  it('answers frames over the rate with RATE_LIMITED, closes after 50 in a row (1008), and counts them', async () => {
    const server = await fx.server({ allowPlaintextEcho: true }, { requestRate: 1, requestBurst: 3 });
    const flooder = await authed(server, 'flooder');
    const bystander = await authed(server, 'bystander');
    const echo = JSON.stringify({ event: 'echo', data: 'hi' });
    // `authenticate` took the first of the 3 tokens.
    flooder.raw.sendRaw(echo);
    flooder.raw.sendRaw(echo);
    expect(await flooder.raw.nextMessage()).toEqual({ event: 'echo', data: 'hi' });
    expect(await flooder.raw.nextMessage()).toEqual({ event: 'echo', data: 'hi' });

    flooder.raw.sendRaw(echo);
    const refused = await flooder.raw.nextMessage();
    expect(refused).toEqual({
      event: 'error',
      data: {
        code: 'RATE_LIMITED',
        message:
          "frame dropped: over this connection's rate limit (requestRate 1 frames/s, requestBurst 3); slow down and retry",
      },
    });
    for (let i = 0; i < 100; i++) flooder.raw.sendRaw(echo);
    expect(await flooder.raw.closed).toEqual({ code: 1008, reason: 'RATE_LIMITED' });
    const frames = await leftover(flooder.raw);
    // A token that refilled meanwhile (one a second) lets one echo through and starts the count again.
    const errors = frames.filter((f) => f.event === 'error');
    expect(errors.every((f) => f.data.code === 'RATE_LIMITED')).toBe(true);
    expect(errors.length + 1).toBeGreaterThanOrEqual(50);
    expect(frames.at(-1).data.message).toMatch(/^50 frames in a row over this connection's rate limit .*; closing$/);

    bystander.raw.sendRaw(JSON.stringify({ event: 'echo', data: 'unaffected' }));
    expect(await bystander.raw.nextMessage()).toEqual({ event: 'echo', data: 'unaffected' });
    const metrics = await metricsOf(server);
    expect(sample(metrics, 'wss_sessions_rate_limited_requests_total{endpoint="signal"}')).toBe(errors.length + 1);
    expect(sample(metrics, 'wss_sessions_rate_limited_requests_total{endpoint="wss"}')).toBe(0);
  });
});

describe('depth limit (maxDepth)', () => {
  it('refuses data nested deeper than maxDepth with TOO_DEEP, encrypted or plaintext, and the connection goes on', async () => {
    const server = await fx.server({ allowPlaintextEcho: true }, { maxDepth: 4 });
    const a = await authed(server, 'a');
    const tooDeep = {
      plain: {
        event: 'error',
        data: {
          code: 'TOO_DEEP',
          message: 'event data is nested deeper than the server allows (maxDepth: 4 levels); the frame was dropped',
        },
      },
    };
    await a.sendEvent('echo', nested(4));
    expect(await a.nextDecrypted()).toEqual({ event: 'echo', data: nested(4) });
    await a.sendEvent('echo', nested(5));
    expect(await a.nextDecrypted()).toEqual(tooDeep);
    a.raw.sendRaw(JSON.stringify({ event: 'echo', data: nested(5) }));
    expect(await a.nextDecrypted()).toEqual(tooDeep);

    // `publish` data counts as one level: {room, event, data}.
    const b = await authed(server, 'b');
    await join(a, ['room']);
    await join(b, ['room']);
    await a.sendEvent('publish', { room: 'room', event: 'deep', data: nested(4) });
    expect(await a.nextDecrypted()).toEqual(tooDeep);
    await a.sendEvent('publish', { room: 'room', event: 'deep', data: nested(3) });
    expect(await b.nextDecrypted()).toEqual({ event: 'deep', data: nested(3) });
  });

  it('answers data nested 20,000 deep with TOO_DEEP (default maxDepth 32), never an error inside the server', async () => {
    const logger = recordingLogger();
    const server = await fx.server({}, { logger });
    const handled: unknown[] = [];
    server.signal!.on('deep', (_ctx, data) => {
      handled.push(data);
    });
    const a = await authed(server, 'a');
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    for (const event of ['echo', 'deep']) {
      const payload = await encrypt({ plaintext: `{"event":"${event}","data":${deep}}`, aesKey: a.aesKey });
      a.raw.sendRaw(JSON.stringify({ event: 'encrypted', data: payload }));
      expect(await a.raw.nextMessage()).toMatchObject({
        event: 'error',
        data: { code: 'TOO_DEEP', message: expect.stringContaining('maxDepth: 32 levels') },
      });
    }
    await a.sendEvent('echo', 'still here');
    expect(await a.nextDecrypted()).toEqual({ event: 'echo', data: 'still here' });
    expect(handled).toEqual([]);
    expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});

describe('drain', () => {
  it('writes what was queued for a Signal client, then closes it with 1001 "going away"', async () => {
    const server = await fx.server();
    const a = await authed(server, 'a');
    await join(a, ['room']);
    const published = server.signal!.publish('room', 'last', 'words');
    const closing = server.close({ drainMs: 5000 });
    expect(await published).toBe(1);
    expect(await a.nextDecrypted()).toEqual({ event: 'last', data: 'words' });
    expect(await a.raw.closed).toEqual({ code: 1001, reason: 'going away' });
    await closing;
  });
});

describe('GET /metrics and GET /healthz', () => {
  it('count Signal sessions, frames and bytes in and out from real traffic', async () => {
    const server = await fx.server({ allowPlaintextEcho: true });
    const a = await authed(server, 'a');
    const b = await authed(server, 'b');
    await join(a, ['room']);
    await join(b, ['room']);
    await a.sendEvent('publish', { room: 'room', event: 'note', data: 'for b' });
    expect(await b.nextDecrypted()).toEqual({ event: 'note', data: 'for b' });
    a.raw.sendRaw(JSON.stringify({ event: 'echo', data: 'plain' }));
    expect(await a.raw.nextMessage()).toEqual({ event: 'echo', data: 'plain' });

    const metrics = await metricsOf(server);
    const series = (name: string) => sample(metrics, `wss_sessions_${name}{endpoint="signal"}`);
    const sum = (key: keyof Authed['traffic']) => a.traffic[key] + b.traffic[key];
    expect(sum('sentFrames')).toBe(8);
    expect(series('sessions')).toBe(2);
    expect(series('frames_received_total')).toBe(sum('sentFrames'));
    expect(series('received_bytes_total')).toBe(sum('sentBytes'));
    expect(series('frames_sent_total')).toBe(sum('receivedFrames'));
    expect(series('sent_bytes_total')).toBe(sum('receivedBytes'));
    const writes = series('socket_writes_total')!;
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThanOrEqual(sum('receivedFrames'));
    expect(series('backpressure_closes_total')).toBe(0);
    expect(series('rate_limited_requests_total')).toBe(0);
    expect(sample(metrics, 'wss_sessions_sessions{endpoint="wss"}')).toBe(0);
    expect(sample(metrics, 'wss_sessions_sockets')).toBe(2);
    expect(await (await fetch(`${server.httpUrl}/healthz`)).json()).toMatchObject({ status: 'ok', sessions: 2 });

    const left = new Promise((resolve) => server.signal!.onClientDisconnected(resolve));
    await a.raw.close();
    await left;
    expect(sample(await metricsOf(server), 'wss_sessions_sessions{endpoint="signal"}')).toBe(1);
    expect(await (await fetch(`${server.httpUrl}/healthz`)).json()).toMatchObject({ sessions: 1 });
  });
});
