/**
 * The set-up of the Signal client tests against a scripted hostile server: a fresh
 * `HostileServer` for each test, the recording WebSocket reset before it, and after it
 * the spies restored, every client and server of the fixture closed, and the hostile
 * server closed.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import type { EncryptedWebSocketClient, IEncryptedWSClientOptions, TConnectionState } from '../../src/signal/index.js';
import { HostileServer, RecordingWebSocket, signalFixture } from '../signal/helpers.js';

/** What {@link hostileSetup} gives a test file. */
export interface HostileSetup {
  /** Clients and servers closed after each test. */
  readonly fx: ReturnType<typeof signalFixture>;
  /** This test's hostile server; a test that closed it may start another (closed after the test too). */
  server: HostileServer;
  /** A client of {@link server} with `defaults` and `options`, whose every state is recorded. */
  client(options?: Partial<IEncryptedWSClientOptions>): {
    client: EncryptedWebSocketClient;
    states: TConnectionState[];
  };
}

/**
 * Registers the hooks for the test file that calls it (at its top level).
 * `defaults`: the options of every {@link HostileSetup.client}.
 */
export function hostileSetup(defaults: Partial<IEncryptedWSClientOptions> = {}): HostileSetup {
  const fx = signalFixture();
  const setup: HostileSetup = {
    fx,
    server: undefined as unknown as HostileServer,
    client(options = {}) {
      const client = fx.client(setup.server.url, { ...defaults, ...options });
      const states: TConnectionState[] = [];
      client.onStateChange((s) => states.push(s));
      return { client, states };
    },
  };
  beforeEach(async () => {
    RecordingWebSocket.reset();
    setup.server = await HostileServer.start();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await fx.cleanup();
    await setup.server.close();
  });
  return setup;
}
