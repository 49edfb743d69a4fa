import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { createServer, serverDefaults, type FrameParty } from '../../src/server/index.js';
import type { Logger } from '../../src/util/logger.js';
import { isPush, RawClient, serverFixture } from './helpers.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

function recordingLogger(): Logger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('options', () => {
  it('documents its defaults in one object', () => {
    expect(serverDefaults).toMatchObject({
      port: 8090,
      host: '127.0.0.1',
      httpOnlyHandshake: false,
      maxConnectionsPerIp: 10,
      maxPayload: 1048576,
      maxBatch: 5,
      cors: true,
      maxSocketsPerIp: 64,
      maxBufferedBytes: 8388608,
      maxDepth: 32,
      requestRate: 1000,
      requestBurst: 20000,
      allowedOrigins: '*',
      handshakeTimeout: 60000,
      connectTimeout: 30000,
      drainMs: 5000,
      metrics: true,
    });
  });

  it('rejects bad options up front, naming the option', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ port: -1 }, "'port'"],
      [{ port: 1.5 }, "'port'"],
      [{ host: '' }, "'host'"],
      [{ maxBatch: 0 }, "'maxBatch'"],
      [{ maxConnectionsPerIp: 0 }, "'maxConnectionsPerIp'"],
      [{ maxPayload: 10 }, "'maxPayload'"],
      [{ cors: 'yes' }, "'cors'"],
      [{ httpOnlyHandshake: 1 }, "'httpOnlyHandshake'"],
      [{ handshakeTimeout: -5 }, "'handshakeTimeout'"],
      [{ logger: { info() {} } }, "'logger'"],
      [{ hooks: { outgoing: 'x' } }, "'hooks.outgoing'"],
      [{ hooks: { sideways() {} } }, "'hooks.sideways'"],
      [{ prot: 80 }, "'prot'"],
      [{ maxSocketsPerIp: 0 }, "'maxSocketsPerIp'"],
      [{ maxBufferedBytes: 2048 }, "'maxBufferedBytes'"],
      [{ maxDepth: 1 }, "'maxDepth'"],
      [{ maxDepth: 1001 }, "'maxDepth'"],
      [{ requestRate: 0 }, "'requestRate'"],
      [{ requestBurst: 0.5 }, "'requestBurst'"],
      [{ allowedOrigins: 'https://x' }, "'allowedOrigins'"],
      [{ allowedOrigins: [''] }, "'allowedOrigins'"],
      [{ connectTimeout: -1 }, "'connectTimeout'"],
      [{ drainMs: 'soon' }, "'drainMs'"],
      [{ metrics: 1 }, "'metrics'"],
    ];
    for (const [options, name] of bad) {
      const attempt = createServer(options as never);
      await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(attempt).rejects.toThrow(name);
    }
  });
});

describe('test hooks', () => {
  it('outgoing can drop, duplicate and rewrite frames per target', async () => {
    let victim: string | null = null;
    const seen: Array<FrameParty> = [];
    const server = await fx.start({
      hooks: {
        outgoing(frame, target) {
          seen.push(target);
          if (target.privateId !== null && target.privateId === victim) {
            const msg = JSON.parse(frame);
            if (msg.result?.data === 'drop') return null;
            if (msg.result?.data === 'twice') return [frame, frame];
            if (msg.result?.data === 'edit') return frame.replace('"edit"', '"edited"');
          }
          return frame;
        },
      },
    });
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    await a.until(isPush);
    victim = b.privateId;
    for (const data of ['drop', 'twice', 'edit']) await a.request('WSS_Send', a.tokens({ type: 'broadcast', data }));
    expect((await b.nextMessage()).result.data).toBe('twice');
    expect((await b.nextMessage()).result.data).toBe('twice');
    expect((await b.nextMessage()).result.data).toBe('edited');
    await b.barrier();
    expect(b.pending).toBe(0);
    expect(seen.some((t) => t.privateId === null)).toBe(true);
  });

  it('incoming can rewrite or drop frames, and a throwing hook only loses its frame', async () => {
    const logger = recordingLogger();
    const server = await fx.start({
      logger,
      hooks: {
        incoming(frame, source) {
          if (frame.includes('"drop-me"')) return null;
          if (frame.includes('"explode"')) throw new Error('hook failure');
          expect(source.privateId).toBeNull();
          return frame.replace('"rename-me"', '"renamed"');
        },
      },
    });
    const c = await fx.client(server);
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"drop-me"},"id":1}');
    c.sendRaw('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"explode"},"id":2}');
    await c.request('WSS_Handshake', { user_token: 'rename-me' }, 3);
    expect(c.pending).toBe(0);
    expect((await c.request('WSS_Handshake', { user_token: 'renamed' })).error.message).toBe(
      'User token already exists for your IP.',
    );
    expect(logger.lines.some(([level, m]) => level === 'error' && m.includes('incoming hook threw'))).toBe(true);
  });

  it('sendRaw delivers an arbitrary frame to a session', async () => {
    const server = await fx.start();
    const a = await fx.joined(server);
    expect(server.sendRaw(a.privateId, '{"anything":true}')).toBe(true);
    expect(await a.nextFrame()).toBe('{"anything":true}');
    expect(server.sendRaw('nobody', 'x')).toBe(false);
  });

  it('dropConnections cuts every socket; sessions are cleaned up', async () => {
    const server = await fx.start();
    const a = await fx.joined(server);
    const b = await fx.joined(server);
    expect(server.sessions).toHaveLength(2);
    server.dropConnections();
    expect((await a.closed).code).toBe(1006);
    expect((await b.closed).code).toBe(1006);
    const c = await fx.client(server);
    expect((await c.join()).result.connect).toEqual([]);
    expect(server.sessions).toEqual([c.privateId]);

    server.dropConnections(4000);
    expect((await c.closed).code).toBe(4000);
    expect(() => server.dropConnections(1006)).toThrow(InvalidArgumentError);
  });

  it('logs direct messages to unknown private IDs at debug level', async () => {
    const logger = recordingLogger();
    const server = await fx.start({ logger });
    const a = await fx.joined(server);
    await a.request('WSS_Send', a.tokens({ type: 'direct', to: { rcp: ['ghost'] }, data: 1 }));
    expect(logger.lines).toContainEqual(['debug', expect.stringContaining('unknown private ID ghost dropped')]);
  });
});

describe('legacy 0.4.1 client flow', () => {
  it('reads each answer as the very next frame on its socket', async () => {
    const server = await fx.start();
    const chatter = await fx.joined(server);
    const legacy = await fx.client(server);
    const userToken = String(Math.random()).split('0.').join('');
    legacy.sendRaw(
      JSON.stringify({ jsonrpc: '2.0', method: 'WSS_Handshake', id: '1', params: { user_token: userToken } }),
    );
    const hs = await legacy.nextMessage();
    expect(hs.id).toBe('1');
    // A peer broadcasts while the legacy client connects: the connect answer still comes first.
    chatter.sendRaw(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'WSS_Send',
        id: 'b',
        params: chatter.tokens({ type: 'broadcast', data: 'hey' }),
      }),
    );
    legacy.sendRaw(
      JSON.stringify({
        jsonrpc: '2.0',
        method: 'WSS_Connect',
        id: '2',
        params: {
          options: { wss: true, webrtc: false, ortc: false },
          user_token: userToken,
          server_token: hs.result.server_token,
        },
      }),
    );
    const open = await legacy.nextMessage();
    expect(open.id).toBe('2');
    expect(open.result.message).toBe('open');
    expect(open.result.connect).toEqual([chatter.privateId]);
  });
});

describe('close()', () => {
  const handleCounts = (): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const name of process.getActiveResourcesInfo()) {
      if (name === 'TCPServerWrap' || name === 'TCPSocketWrap' || name === 'Timeout')
        counts[name] = (counts[name] ?? 0) + 1;
    }
    return counts;
  };

  // Handles are released in the close-callbacks phase of the event loop, after 'close' events run:
  // pass one full loop iteration before counting.
  const loopTurn = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

  it('closes every socket and the HTTP server and leaves no handles behind', async () => {
    await loopTurn();
    const before = handleCounts();
    const server = await createServer({ port: 0, handshakeTimeout: 60_000 });
    const a = await RawClient.open(server.url);
    await a.join();
    const b = await RawClient.open(server.url);
    await b.join();
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(server.httpUrl, { method: 'POST', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end('{"jsonrpc":"2.0","method":"WSS_Handshake","params":{"user_token":"pending"},"id":1}');
    });
    expect(status).toBe(200);
    expect(handleCounts().TCPServerWrap).toBe((before.TCPServerWrap ?? 0) + 1);

    await Promise.all([server.close(), server.close()]);
    expect((await a.closed).code).toBe(1001);
    expect((await b.closed).code).toBe(1001);
    await loopTurn();
    const after = handleCounts();
    for (const name of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      expect(after[name] ?? 0, name).toBeLessThanOrEqual(before[name] ?? 0);
    }
    await expect(RawClient.open(server.url)).rejects.toThrow();
  });
});
