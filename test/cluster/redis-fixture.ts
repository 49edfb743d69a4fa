/**
 * A real redis-server for one test file (started in beforeAll on a free port, stopped in
 * afterAll even when a test failed), node-redis clients for the tests' own looks at it, and a
 * listener that queues what is published on a channel so tests wait for messages.
 */
import { createClient, type RedisClientType } from '@redis/client';
import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from '../../scripts/cluster/processes.mjs';

/** Messages published on some channels, read in order. */
export class ChannelTap {
  readonly #queue: Array<{ channel: string; text: string }> = [];
  readonly #waiters: Array<(entry: { channel: string; text: string }) => void> = [];

  push(text: string, channel: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter({ channel, text });
    else this.#queue.push({ channel, text });
  }

  /** The next message (queued or future). */
  next(): Promise<{ channel: string; text: string }> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Reads messages until one satisfies `match`, dropping the others. */
  async until(match: (text: string, channel: string) => boolean): Promise<string> {
    for (;;) {
      const { text, channel } = await this.next();
      if (match(text, channel)) return text;
    }
  }

  get pending(): number {
    return this.#queue.length;
  }
}

/** What {@link useRedis} provides once its beforeAll ran. */
export interface RedisFixture {
  readonly server: RedisServer;
  readonly url: string;
  /** A plain client for the test's own commands. */
  readonly client: RedisClientType;
  /** Subscribes a fresh client to `channels`; closed in afterAll. */
  tap(channels: string[]): Promise<ChannelTap>;
}

export function useRedis(): RedisFixture {
  let server: RedisServer | undefined;
  let client: RedisClientType | undefined;
  const extra: RedisClientType[] = [];

  beforeAll(async () => {
    server = await RedisServer.start();
    client = createClient({ url: server.url }) as RedisClientType;
    client.on('error', () => {});
    await client.connect();
  });

  afterAll(async () => {
    for (const c of [client, ...extra]) c?.destroy();
    await server?.close();
  });

  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useRedis(): use the fixture inside tests and hooks');
    return value;
  };

  return {
    get server() {
      return need(server);
    },
    get url() {
      return need(server).url;
    },
    get client() {
      return need(client);
    },
    async tap(channels) {
      const tap = new ChannelTap();
      const sub = createClient({ url: need(server).url }) as RedisClientType;
      sub.on('error', () => {});
      extra.push(sub);
      await sub.connect();
      await sub.subscribe(channels, (text, channel) => tap.push(text, channel));
      return tap;
    },
  };
}
