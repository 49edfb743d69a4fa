/** Shared helpers of the Signal tests: tokens, servers, clients, a recording WebSocket and a hostile server. */
import { SignJWT } from 'jose';
import { vi } from 'vitest';
import { encrypt } from '../../src/crypto/index.js';
import { WebSocket, WebSocketServer } from 'ws';
import {
  createServer,
  type ServerOptions,
  type SignalServerOptions,
  type WssSessionsServer,
} from '../../src/server/index.js';
import { serverHandshake } from '../../src/server/signal/handshake.js';
import { resolveSignalOptions } from '../../src/server/signal/options.js';
import {
  EncryptedWebSocketClient,
  type IEncryptedWSClientOptions,
  type IWSLogger,
  type TConnectionState,
} from '../../src/signal/index.js';
import type { WebSocketLike } from '../../src/transport/websocket.js';

export const SECRET = 'test-secret-of-at-least-thirty-two-bytes!';
export const ECDH_INFO = 'wss-sessions-test';

/** An HS256 JWT for `sub`, valid for `expiresIn` (a jose time span or epoch seconds). */
export function makeToken(sub: string, expiresIn: string | number = '1h', secret = SECRET): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt();
  return jwt.setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));
}

/** A logger that keeps every line, for assertions. */
export function recordingLogger(): IWSLogger & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Forwards to a real `ws` WebSocket and records every frame the client sends. */
export class RecordingWebSocket implements WebSocketLike {
  static readonly instances: RecordingWebSocket[] = [];
  static readonly sent: string[] = [];
  static onSend: ((frame: string) => void) | null = null;
  /** Called with each frame a RecordingWebSocket receives, before the client sees it. */
  static onReceive: ((frame: unknown) => void) | null = null;
  readonly inner: WebSocket;
  // Forwarded to `inner` by the accessors defined below the class.
  declare onopen: WebSocketLike['onopen'];
  declare onmessage: WebSocketLike['onmessage'];
  declare onclose: WebSocketLike['onclose'];
  declare onerror: WebSocketLike['onerror'];

  constructor(url: string) {
    this.inner = new WebSocket(url);
    RecordingWebSocket.instances.push(this);
  }
  static reset(): void {
    RecordingWebSocket.instances.length = 0;
    RecordingWebSocket.sent.length = 0;
    RecordingWebSocket.onSend = null;
    RecordingWebSocket.onReceive = null;
  }
  get readyState(): number {
    return this.inner.readyState;
  }
  send(data: string): void {
    RecordingWebSocket.sent.push(data);
    RecordingWebSocket.onSend?.(data);
    this.inner.send(data);
  }
  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }
}
for (const handler of ['onopen', 'onmessage', 'onclose', 'onerror'] as const) {
  Object.defineProperty(RecordingWebSocket.prototype, handler, {
    get(this: RecordingWebSocket) {
      return this.inner[handler];
    },
    set(this: RecordingWebSocket, value: unknown) {
      const inner = this.inner as unknown as Record<string, unknown>;
      if (handler !== 'onmessage' || typeof value !== 'function') inner[handler] = value;
      else
        inner[handler] = (event: { data: unknown }) => {
          RecordingWebSocket.onReceive?.(event.data);
          value(event);
        };
    },
  });
}

/** The `authenticate` frames a RecordingWebSocket saw, parsed. */
export function sentAuthenticates(): Array<{ type: string; token: string; clientPublicKey: string }> {
  return RecordingWebSocket.sent
    .map((f) => JSON.parse(f))
    .filter((f) => f.event === 'authenticate')
    .map((f) => f.data);
}

/** Resolves with the next `data` of `event` on `client`. */
export function nextEvent<T = any>(client: EncryptedWebSocketClient, event: string): Promise<T> {
  return new Promise((resolve) => {
    const handler = (data: unknown): void => {
      client.off(event, handler);
      resolve(data as T);
    };
    client.on(event, handler);
  });
}

/** Resolves when `client` next enters `state` (at once if it is there). */
export function whenState(client: EncryptedWebSocketClient, state: TConnectionState): Promise<void> {
  if (client.getState() === state) return Promise.resolve();
  return new Promise((resolve) => client.onStateChange((s) => s === state && resolve()));
}

/** Starts reference servers and clients and cleans them all up. */
export function signalFixture() {
  const servers = new Set<WssSessionsServer>();
  const clients = new Set<EncryptedWebSocketClient>();
  return {
    async server(signal: Partial<SignalServerOptions> = {}, extra: ServerOptions = {}): Promise<WssSessionsServer> {
      const server = await createServer({
        port: 0,
        host: '127.0.0.1',
        ...extra,
        signal: { ecdhInfo: ECDH_INFO, jwtSecret: SECRET, ...signal },
      });
      servers.add(server);
      return server;
    },
    client(url: string, options: Partial<IEncryptedWSClientOptions> = {}): EncryptedWebSocketClient {
      const client = new EncryptedWebSocketClient({
        url,
        ecdhInfo: ECDH_INFO,
        token: 'missing',
        WebSocket,
        logger: recordingLogger(),
        ...options,
      });
      clients.add(client);
      return client;
    },
    async cleanup(): Promise<void> {
      for (const c of clients) c.destroy();
      clients.clear();
      await Promise.all([...servers].map((s) => s.close()));
      servers.clear();
    },
  };
}

export function signalUrl(server: WssSessionsServer): string {
  return `${server.url}/stream`;
}

/** One socket accepted by the hostile server, with a queue of received frames. */
export class HostileConn {
  readonly #queue: any[] = [];
  readonly #waiters: Array<(frame: any) => void> = [];
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#queue.push(frame);
    });
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve(code)));
  }
  next(): Promise<any> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  /** Reads frames until one with `event` arrives (others are discarded). */
  async nextOf(event: string): Promise<any> {
    for (;;) {
      const frame = await this.next();
      if (frame.event === event) return frame;
    }
  }
  send(event: string, data?: unknown): void {
    this.ws.send(JSON.stringify(data === undefined ? { event } : { event, data }));
  }
  sendRaw(text: string): void {
    this.ws.send(text);
  }
}

/** A plain `ws` server on loopback port 0 that tests script frame by frame. */
export class HostileServer {
  readonly #wss: WebSocketServer;
  readonly #queue: HostileConn[] = [];
  readonly #waiters: Array<(conn: HostileConn) => void> = [];
  connections = 0;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    wss.on('connection', (ws) => {
      this.connections++;
      const conn = new HostileConn(ws);
      const waiter = this.#waiters.shift();
      if (waiter) waiter(conn);
      else this.#queue.push(conn);
    });
  }
  static start(): Promise<HostileServer> {
    return new Promise((resolve) => {
      const wss: WebSocketServer = new WebSocketServer({ port: 0, host: '127.0.0.1' }, (): void =>
        resolve(new HostileServer(wss)),
      );
    });
  }
  get url(): string {
    const address = this.#wss.address();
    return `ws://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/stream`;
  }
  nextConnection(): Promise<HostileConn> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  close(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }
}

/**
 * Reads the client's `authenticate` and does the server's side of the key
 * agreement, sending nothing: returns the honest `connected` data, the
 * session key and the client's key.
 */
export async function serverOffer(
  conn: HostileConn,
  signingKey?: CryptoKey,
): Promise<{ aesKey: CryptoKey; clientPublicKey: string; connected: Record<string, unknown> }> {
  const auth = await conn.nextOf('authenticate');
  const options = await resolveSignalOptions({ ecdhInfo: ECDH_INFO, jwtSecret: SECRET, signingKey });
  const { aesKey, ...offer } = await serverHandshake(auth.data.clientPublicKey, options);
  const connected = { id: 'conn-1', userId: 'mallory', time: new Date().toISOString(), ...offer };
  return { aesKey, clientPublicKey: auth.data.clientPublicKey, connected };
}

/**
 * Reads the client's `authenticate` and answers an honest `connected`
 * (optionally changed by `tweak`); returns the session key and the client's key.
 */
export async function honestHandshake(
  conn: HostileConn,
  tweak: (data: Record<string, unknown>) => Record<string, unknown> = (d) => d,
  signingKey?: CryptoKey,
): Promise<{ aesKey: CryptoKey; clientPublicKey: string; connected: Record<string, unknown> }> {
  const offer = await serverOffer(conn, signingKey);
  const connected = tweak(offer.connected);
  conn.send('connected', connected);
  return { ...offer, connected };
}

/** An `encrypted` payload of `{event, data}` under `aesKey`. */
export function envelope(aesKey: CryptoKey, event: string, data: unknown): Promise<{ iv: string; ct: string }> {
  return encrypt({ plaintext: JSON.stringify({ event, data }), aesKey });
}

/** Connects `client` to `hostile` through an honest handshake; returns the connection and the session key. */
export async function connectHostile(
  client: EncryptedWebSocketClient,
  hostile: HostileServer,
): Promise<{ conn: HostileConn; aesKey: CryptoKey }> {
  const connecting = client.connect();
  const conn = await hostile.nextConnection();
  const { aesKey } = await honestHandshake(conn);
  await connecting;
  return { conn, aesKey };
}

/** Resolves once everything sent before this call has been handled by the client (an echo-free barrier). */
export async function barrier(client: EncryptedWebSocketClient, conn: HostileConn, aesKey: CryptoKey): Promise<void> {
  const seen = nextEvent(client, 'barrier');
  conn.send('encrypted', await envelope(aesKey, 'barrier', null));
  await seen;
}

/**
 * Holds the next call of `crypto.subtle[method]` in this process at a gate:
 * `started` resolves once it is waiting there, `release()` lets it finish.
 * Holding `deriveBits` (the key agreement) makes frames that reach a client
 * meanwhile wait behind its `connected`; holding `decrypt`, frames behind one
 * that WebCrypto decrypts (on Node, only frames over 1 MiB: the others are
 * decrypted synchronously as they arrive). Undone by `vi.restoreAllMocks()`.
 */
export function holdSubtle(method: 'deriveBits' | 'decrypt'): { started: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const subtle = crypto.subtle as unknown as Record<typeof method, (...args: unknown[]) => Promise<ArrayBuffer>>;
  const real = subtle[method].bind(subtle);
  const started = new Promise<void>((resolve) => {
    vi.spyOn(subtle, method).mockImplementationOnce(async (...args: unknown[]) => {
      resolve();
      await gate;
      return real(...args);
    });
  });
  return { started, release };
}
