/** Shared set-up for SecureSession tests: a reference server on loopback and sessions that are closed afterwards. */
import { SecureSession, type SecureSessionEvents, type SecureSessionOptions } from '../../src/secure/index.js';
import { createServer, type ServerOptions, type WssSessionsServer } from '../../src/server/index.js';
import { WebSocket as WsWebSocket } from 'ws';
import { eventsOf } from '../helpers/events.js';
import type { WebSocketConstructor } from '../../src/index.js';

/** Typed `next(emitter, event, match?)` and `collect(emitter, event)` for SecureSession events. */
export const { next, collect } = eventsOf<SecureSessionEvents>();

/** Fast reconnects, no jitter: tests wait on events, never on time. */
export const FAST_RECONNECT = { interval: 0, maxInterval: 0, jitter: 0 } as const;

export class Harness {
  server!: WssSessionsServer;
  readonly sessions: SecureSession[] = [];

  async start(options: ServerOptions = {}): Promise<WssSessionsServer> {
    this.server = await createServer({ port: 0, host: '127.0.0.1', maxConnectionsPerIp: 1000, ...options });
    return this.server;
  }

  session(options: Partial<SecureSessionOptions> = {}): SecureSession {
    const s = new SecureSession({ url: this.server.url, info: 'test-app', reconnect: FAST_RECONNECT, ...options });
    this.sessions.push(s);
    return s;
  }

  /** Connects `n` sessions one after another and waits until every one has agreed keys with every other. */
  async group(n: number, options: Partial<SecureSessionOptions> = {}): Promise<SecureSession[]> {
    const group: SecureSession[] = [];
    for (let i = 0; i < n; i++) {
      const s = this.session(options);
      await s.connect();
      await Promise.all(group.map((other) => untilPeer(other, () => s.privateId)));
      group.push(s);
    }
    return group;
  }

  async stop(): Promise<void> {
    await Promise.all(this.sessions.splice(0).map((s) => s.disconnect()));
    await this.server?.close();
  }
}

/** Resolves once `session` lists the peer whose private ID `id()` gives (read when each event arrives). */
export function untilPeer(session: SecureSession, id: () => string | null): Promise<void> {
  const has = (): boolean => {
    const pid = id();
    return pid !== null && session.peers.has(pid);
  };
  if (has()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = (): void => {
      if (!has()) return;
      session.off('peerkey', check);
      session.off('peerconnect', check);
      session.off('peerpid', check);
      resolve();
    };
    session.on('peerkey', check);
    session.on('peerconnect', check);
    session.on('peerpid', check);
  });
}

/** Resolves with the next `state` event that reaches `state`. */
export function untilState(session: SecureSession, state: SecureSession['state']): Promise<unknown> {
  if (session.state === state) return Promise.resolve();
  return next(session, 'state', (e) => e.state === state);
}

/** A `ws` WebSocket constructor that remembers every socket it opens, so a test can cut one session's connection. */
export function trackedWebSocket(): { WebSocket: WebSocketConstructor; sockets: WsWebSocket[] } {
  const sockets: WsWebSocket[] = [];
  class Tracked extends WsWebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WebSocket: Tracked, sockets };
}

/** Counts of `process.getActiveResourcesInfo()` by resource type. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}
