/** A promise-based raw WebSocket client for server tests: no sleeps, every wait is on an event. */
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import { createServer, type ServerOptions, type WssSessionsServer } from '../../src/server/index.js';

export type Json = Record<string, any>;

/** Whether a frame is a push (a `result` with a `type`, and no `id`), not an answer. */
export const isPush = (m: any): boolean => !Array.isArray(m) && !('id' in m) && typeof m.result?.type === 'string';

/** The `result` of the next push `client` receives (answers before it stay queued). */
export const pushOf = (client: RawClient): Promise<any> => client.until(isPush).then((m) => m.result);

/** A raw `ws` client that queues every frame it receives. */
export class RawClient {
  readonly ws: WebSocket;
  readonly #queue: string[] = [];
  readonly #waiters: Array<{ resolve: (frame: string) => void; reject: (err: Error) => void }> = [];
  #nextId = 1;
  closed: Promise<{ code: number; reason: string }>;
  userToken = '';
  serverToken = '';
  privateId = '';

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const frame = data.toString();
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(frame);
      else this.#queue.push(frame);
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        for (const w of this.#waiters.splice(0))
          w.reject(new Error(`socket closed (${code}) while waiting for a frame`));
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on('error', () => {});
  }

  /** Opens a socket; `headers` go with the upgrade request (an `X-Forwarded-For`, for example). */
  static open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const client = new RawClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Next raw frame (queued or future). */
  nextFrame(): Promise<string> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Next frame, parsed. */
  async nextMessage(): Promise<any> {
    return JSON.parse(await this.nextFrame());
  }

  /** Frames received and not yet read. */
  get pending(): number {
    return this.#queue.length;
  }

  sendRaw(frame: string): void {
    this.ws.send(frame);
  }

  /** Sends a request and resolves with the next frame (callers that expect pushes in between use `until`). */
  async request(method: string, params?: unknown, id: string | number = String(this.#nextId++)): Promise<Json> {
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
    return this.until((m) => !Array.isArray(m) && 'id' in m && m.id === id);
  }

  /** Reads frames until one matches; earlier frames are returned to the queue in order. */
  async until(match: (message: any) => boolean): Promise<any> {
    const skipped: string[] = [];
    try {
      for (;;) {
        const frame = await this.nextFrame();
        const message = JSON.parse(frame);
        if (match(message)) return message;
        skipped.push(frame);
      }
    } finally {
      this.#queue.unshift(...skipped);
    }
  }

  /** Handshake + connect on this socket; fills the tokens and private ID. */
  async join(options: Json = { wss: true, webrtc: false, ortc: false }, userToken = randomToken()): Promise<Json> {
    const hs = await this.request('WSS_Handshake', { user_token: userToken });
    if (hs.error) throw new Error(`handshake failed: ${hs.error.message}`);
    this.userToken = userToken;
    this.serverToken = hs.result.server_token;
    const res = await this.request('WSS_Connect', this.tokens({ options }));
    if (res.error) throw new Error(`connect failed: ${res.error.message}`);
    this.privateId = res.result.private_id;
    return res;
  }

  tokens(extra: Json = {}): Json {
    return { user_token: this.userToken, server_token: this.serverToken, ...extra };
  }

  /** A request/response round trip: everything the server sent this socket before it has arrived. */
  async barrier(): Promise<void> {
    const res = await this.request('WSS_Nothing_Barrier');
    if (res.error?.code !== -32601) throw new Error('barrier got an unexpected answer');
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close();
    await this.closed;
  }
}

export function randomToken(): string {
  return createHash('sha256')
    .update(String(Math.random()) + String(process.hrtime.bigint()))
    .digest('hex')
    .slice(0, 24);
}

export function privateIdOf(serverToken: string, userToken: string): string {
  return createHash('sha256').update(`${serverToken}:${userToken}`).digest('hex');
}

/** POSTs a body to the server's HTTP address. */
export async function post(server: WssSessionsServer, body: string, init: RequestInit = {}): Promise<Response> {
  return fetch(server.httpUrl, { method: 'POST', body, headers: { 'Content-Type': 'application/json' }, ...init });
}

/** Starts a server for one test file and gives back helpers that clean up after themselves. */
export function serverFixture() {
  const clients = new Set<RawClient>();
  const servers = new Set<WssSessionsServer>();
  return {
    async start(options: ServerOptions = {}): Promise<WssSessionsServer> {
      const server = await createServer({ port: 0, host: '127.0.0.1', ...options });
      servers.add(server);
      return server;
    },
    async client(server: WssSessionsServer, headers?: Record<string, string>): Promise<RawClient> {
      const c = await RawClient.open(server.url, headers);
      clients.add(c);
      return c;
    },
    async joined(server: WssSessionsServer, options?: Json): Promise<RawClient> {
      const c = await this.client(server);
      await c.join(options);
      return c;
    },
    async cleanup(): Promise<void> {
      await Promise.all([...clients].map((c) => c.close()));
      clients.clear();
      await Promise.all([...servers].map((s) => s.close()));
      servers.clear();
    },
  };
}
