/**
 * What `connect()` says when there is no WebSocket Sessions server at the URL, against real
 * listeners: a free port with nothing listening, and a plain `node:http` server that answers
 * every request, upgrades included, with an HTTP error.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionClosedError, WSSClient, type WSSClientOptions } from '../../src/index.js';
import { freePort } from '../../scripts/cluster/processes.mjs';

const servers: Server[] = [];

/**
 * A plain HTTP server (no WebSocket support) answering `status`; resolves with its port, the
 * paths it was asked for, and a promise per connection that settles when the connection is gone.
 */
async function httpServer(status: number): Promise<{ port: number; paths: string[]; gone: Array<Promise<unknown>> }> {
  const paths: string[] = [];
  const gone: Array<Promise<unknown>> = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(status, { 'Content-Type': 'text/plain' });
    res.end('not here');
  });
  server.on('connection', (socket) => gone.push(new Promise((done) => socket.once('close', done))));
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { port: (server.address() as { port: number }).port, paths, gone };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
});

/** The error `connect()` rejects with, and the client's state after it. */
async function connectError(options: WSSClientOptions): Promise<{ error: ConnectionClosedError; client: WSSClient }> {
  const client = new WSSClient(options);
  const error = await client.connect().then(
    () => {
      throw new Error('connect() resolved');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConnectionClosedError);
  expect(client.state).toBe('disconnected');
  return { error: error as ConnectionClosedError, client };
}

describe('connect() where no WebSocket Sessions server is', () => {
  it('nothing listening: says the connection was refused and what to check, with the system error as cause', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/`;
    const { error } = await connectError({ url });
    expect(error.code).toBe('ERR_CONNECTION_CLOSED');
    expect(error.message).toBe(
      `opening ${url} failed: the connection was refused; check the URL and that the server is running`,
    );
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(error.httpStatus).toBeUndefined();
    expect(error.closeCode).toBe(1006);
  });

  it('nothing listening at the HTTP handshake URL: the same, for the POST', async () => {
    const port = await freePort();
    const { error } = await connectError({ url: `ws://127.0.0.1:${port}/`, handshakeUrl: `http://127.0.0.1:${port}/` });
    expect(error.message).toBe(
      `HTTP POST http://127.0.0.1:${port}/ failed: the connection was refused; check the URL and that the server is running`,
    );
  });

  for (const status of [404, 400]) {
    it(`an HTTP server that answers the upgrade with ${status}: says so, with the status as a number`, async () => {
      const { port, paths } = await httpServer(status);
      const url = `ws://127.0.0.1:${port}/wrong/path`;
      const { error } = await connectError({ url });
      expect(error.httpStatus).toBe(status);
      expect(error.message).toBe(
        `opening ${url} failed: the server answered the WebSocket upgrade with HTTP ${status}; ` +
          'check the path in the URL and that a WebSocket Sessions server listens there',
      );
      expect(paths).toEqual(['/wrong/path']);
    });
  }

  it('a refused upgrade leaves no connection open: the client ends it, the server need not', async () => {
    const { port, gone } = await httpServer(404);
    await connectError({ url: `ws://127.0.0.1:${port}/` });
    expect(gone).toHaveLength(1);
    await Promise.all(gone);
  });
});
