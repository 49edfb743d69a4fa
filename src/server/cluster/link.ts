/**
 * A node's two connections to Redis (node-redis, `@redis/client`): one for
 * commands (scripts and publishes, in the order the node issues them, which
 * keeps each sender's order), one for subscriptions. Commands fail at once
 * while a connection is down (no offline queue): a node must answer "cluster
 * unavailable" then, not hold requests until Redis is back. Both connections
 * reconnect by themselves, the subscriber subscribing again; the link reports
 * `down` when either is lost and `up` when both are back.
 *
 * `@redis/client` is imported here only, and this module only from the
 * cluster broker, which the server loads when the `cluster` option is set.
 */
import { createHash } from 'node:crypto';
import type { RedisClientType } from '@redis/client';
import { ClusterUnavailableError } from '../../errors.js';
import type { Logger } from '../../util/logger.js';
import { redactedUrl, type ResolvedClusterOptions } from './options.js';

/** A Lua script and its SHA1, run with EVALSHA (EVAL when Redis does not know it, as after a restart). */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function luaScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** What the link tells its owner. */
export interface LinkEvents {
  /** A message on a subscribed channel. */
  message(text: string, channel: string): void;
  /** Both connections are ready again after being down. */
  up(): void;
  /** A connection was lost; commands fail until `up`. */
  down(cause: Error): void;
  /** A command failed because Redis could not be reached. */
  refused(): void;
}

/** Most commands waiting for their reply before new ones fail (`commandsQueueMaxLength`). */
const MAX_QUEUED_COMMANDS = 10_000;

type Client = RedisClientType;

/** Reconnect delays: 50, 100, 200, 400 ms, then every 500 ms, each with up to 20 % jitter. */
function reconnectDelay(retries: number): number {
  const base = Math.min(50 * 2 ** retries, 500);
  return Math.round(base * (1 + Math.random() * 0.2));
}

/** The command and subscriber connections of one node. */
export class RedisLink {
  readonly #commands: Client;
  readonly #subscriber: Client;
  readonly #events: LinkEvents;
  readonly #logger: Logger;
  readonly #where: string;
  readonly #replyError: new (
    ...args: never[]
  ) => Error;
  #up = false;
  /** Set once open() connected both clients: later `ready` events are reconnects. */
  #opened = false;
  #closed = false;

  private constructor(
    commands: Client,
    subscriber: Client,
    replyError: new (...args: never[]) => Error,
    events: LinkEvents,
    logger: Logger,
    where: string,
  ) {
    this.#commands = commands;
    this.#replyError = replyError;
    this.#subscriber = subscriber;
    this.#events = events;
    this.#logger = logger;
    this.#where = where;
  }

  /**
   * Connects both clients and subscribes to `channels`.
   * @throws ClusterUnavailableError when Redis cannot be reached now.
   */
  static async open(
    options: ResolvedClusterOptions,
    channels: readonly string[],
    events: LinkEvents,
    logger: Logger,
  ): Promise<RedisLink> {
    const { createClient, ErrorReply } = await import('@redis/client');
    // Until open() succeeded a failed connect is final (the server does not start); afterwards, retry forever.
    const state = { opened: false };
    const reconnectStrategy = (retries: number, cause: Error): number | Error =>
      state.opened ? reconnectDelay(retries) : cause;
    const commands = createClient({
      url: options.redis,
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      commandOptions: { timeout: options.commandTimeout },
      socket: { connectTimeout: options.commandTimeout, reconnectStrategy },
    }) as Client;
    const where = redactedUrl(options.redis);
    const link = new RedisLink(commands, commands.duplicate(), ErrorReply, events, logger, where);
    await link.#connect(channels);
    state.opened = true;
    return link;
  }

  /** Whether both connections are ready. */
  get up(): boolean {
    return this.#up;
  }

  /** Runs a script with `args` (ARGV; no KEYS). @throws ClusterUnavailableError when Redis is not reachable. */
  async run(script: LuaScript, args: readonly string[]): Promise<unknown> {
    try {
      return await this.#commands.sendCommand(['EVALSHA', script.sha, '0', ...args]);
    } catch (err) {
      // Redis error replies start with their code; NOSCRIPT: Redis does not have this script (yet, or any more).
      const noScript = err instanceof this.#replyError && err.message.startsWith('NOSCRIPT');
      if (!noScript) throw this.#failure(`script ${script.name}`, err);
    }
    try {
      return await this.#commands.sendCommand(['EVAL', script.source, '0', ...args]);
    } catch (err) {
      throw this.#failure(`script ${script.name}`, err);
    }
  }

  /** Publishes `message` on `channel`. @throws ClusterUnavailableError when Redis is not reachable. */
  async publish(channel: string, message: string): Promise<void> {
    await this.command(['PUBLISH', channel, message]);
  }

  /** Any other command. @throws ClusterUnavailableError when Redis is not reachable. */
  async command(args: readonly string[]): Promise<unknown> {
    try {
      return await this.#commands.sendCommand([...args]);
    } catch (err) {
      throw this.#failure(args[0] ?? 'command', err);
    }
  }

  /** Subscribes to more channels (or stops listening to some). */
  async subscribe(channels: readonly string[]): Promise<void> {
    await this.#subscriber.subscribe([...channels], (text, channel) => this.#events.message(text, channel));
  }

  async unsubscribe(channels: readonly string[]): Promise<void> {
    await this.#subscriber.unsubscribe([...channels]);
  }

  /** Closes both connections; nothing is reported after this. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#up = false;
    for (const client of [this.#commands, this.#subscriber]) client.destroy();
  }

  async #connect(channels: readonly string[]): Promise<void> {
    const clients = [this.#commands, this.#subscriber];
    for (const client of clients) {
      client.on('error', (err: Error) => this.#lost(err));
      client.on('ready', () => this.#ready());
    }
    try {
      await Promise.all(clients.map((client) => client.connect()));
      await this.subscribe(channels);
    } catch (err) {
      await this.close();
      throw new ClusterUnavailableError(`Could not reach Redis at ${this.#where}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#up = true;
    this.#opened = true;
  }

  #lost(err: Error): void {
    if (this.#closed) return;
    if (!this.#up) {
      this.#logger.debug(`cluster: Redis at ${this.#where} still unreachable: ${err.message}`);
      return;
    }
    this.#up = false;
    this.#logger.warn(`cluster: lost Redis at ${this.#where} (${err.message}); reconnecting`);
    this.#events.down(err);
  }

  #ready(): void {
    if (this.#closed || this.#up || !this.#commands.isReady || !this.#subscriber.isReady) return;
    // The first `ready` of each client comes during open(); `up` is reported for reconnects only.
    if (!this.#opened) return;
    this.#up = true;
    this.#logger.info(`cluster: Redis at ${this.#where} is back`);
    this.#events.up();
  }

  #failure(what: string, err: unknown): Error {
    if (err instanceof this.#replyError)
      return new Error(`cluster: Redis refused ${what}: ${(err as Error).message}`, { cause: err });
    return new ClusterUnavailableError(
      `The cluster is unavailable: ${what} could not reach Redis at ${this.#where} (${(err as Error).message})`,
      { cause: err },
    );
  }
}
