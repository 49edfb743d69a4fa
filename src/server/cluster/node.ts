/**
 * One node's membership in the cluster: its link to Redis, its heartbeat,
 * the countdowns of the other nodes, the presence it keeps in step with the
 * bus, and the resynchronisation after it was cut off (the link dropped,
 * a gap in the events, or the cluster took it for dead).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import { type BusMessage, decodeBusMessage } from './bus.js';
import { type LinkEvents, RedisLink } from './link.js';
import { NodeWatch } from './node-watch.js';
import type { ResolvedClusterOptions } from './options.js';
import { ClusterPresence, type PresenceOutput } from './presence.js';
import { EventSequencer } from './sequencer.js';
import { busChannel, ClusterStore, inboxChannel, type OwnSession } from './store.js';

/** A node is dead once its heartbeat has been missing this many heartbeats. */
export const DEAD_AFTER_HEARTBEATS = 1.5;

/** What the node needs from the server around it. */
export interface ClusterNodeHooks extends PresenceOutput {
  /** A broadcast from another node, for this node's sessions (except `from` and `exclude`). */
  broadcast(from: string, exclude: readonly string[], frame: string): void;
  /** A direct message from another node, for the listed sessions of this node. */
  direct(to: readonly string[], frame: string): void;
  /** A Signal room event from another node (`event`: JSON `{"event","data"}`), for this node's members but `except`. */
  room(room: string, except: string | null, event: string): void;
  /** This node's Signal rooms and their member counts, to register again after the link came back. */
  ownRooms(): Iterable<readonly [room: string, count: number]>;
  /** This node's sessions, to register again after the link came back. */
  ownSessions(): Iterable<OwnSession>;
  /** Sessions whose private ID another node took while this one was cut off: close them. */
  conflicted(privateIds: readonly string[]): void;
  /** Messages read from Redis, and their size, by kind (`bad` for refused ones). */
  received(kind: BusMessage['kind'] | 'bad', bytes: number): void;
  /** The link went down or came back. */
  linkChanged(up: boolean): void;
  /** A Redis command failed because Redis could not be reached. */
  refused(): void;
}

/** The link state as `/healthz` reports it. */
export type ClusterStatus = 'up' | 'down' | 'resyncing';

/** A running cluster node. */
export class ClusterNode {
  readonly id: string;
  readonly store: ClusterStore;
  readonly presence: ClusterPresence;
  readonly #options: ResolvedClusterOptions;
  readonly #logger: Logger;
  readonly #hooks: ClusterNodeHooks;
  readonly #link: RedisLink;
  readonly #watch: NodeWatch;
  readonly #sequencer = new EventSequencer();
  #beat: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #beating = false;
  #resyncing: Promise<void> | null = null;
  #again = false;
  #closed = false;

  private constructor(
    id: string,
    link: RedisLink,
    options: ResolvedClusterOptions,
    logger: Logger,
    hooks: ClusterNodeHooks,
  ) {
    this.id = id;
    this.#link = link;
    this.#options = options;
    this.#logger = logger;
    this.#hooks = hooks;
    this.store = new ClusterStore(link, options.prefix, id);
    this.presence = new ClusterPresence(id, hooks);
    this.#watch = new NodeWatch(this.deadAfterMs, (node) => this.#silent(node));
  }

  /**
   * Connects to Redis, registers the node and loads the presence.
   * @throws ClusterUnavailableError when Redis cannot be reached.
   */
  static async start(options: ResolvedClusterOptions, logger: Logger, hooks: ClusterNodeHooks): Promise<ClusterNode> {
    const id = randomBytes(8).toString('hex');
    // The link reports to the node once it exists; before that (a starting node has no sessions) nothing is lost
    // that the snapshot below does not cover.
    const events: LinkEvents = { message: () => {}, up: () => {}, down: () => {}, refused: () => {} };
    const channels = [busChannel(options.prefix), inboxChannel(options.prefix, id)];
    const link = await RedisLink.open(options, channels, events, logger);
    const node = new ClusterNode(id, link, options, logger, hooks);
    events.message = (text) => node.#onMessage(text);
    events.up = () => node.#onUp();
    events.down = () => node.#onDown();
    events.refused = () => hooks.refused();
    try {
      await node.#resync();
    } catch (err) {
      await link.close();
      throw err;
    }
    node.#beat = setInterval(() => node.#heartbeat(), options.heartbeat);
    node.#beat.unref();
    logger.info(`cluster: node ${id} joined the cluster at ${options.prefix} (${node.presence.size} sessions)`);
    return node;
  }

  /** Milliseconds of silence after which another node is taken for dead. */
  get deadAfterMs(): number {
    return Math.round(this.#options.heartbeat * DEAD_AFTER_HEARTBEATS);
  }

  get status(): ClusterStatus {
    if (!this.#link.up) return 'down';
    return this.#resyncing || this.#sequencer.holding ? 'resyncing' : 'up';
  }

  /** Whether cross-node steps can be taken now. */
  get up(): boolean {
    return this.#link.up;
  }

  /** Other nodes this node hears from. */
  get peers(): number {
    return this.#watch.size;
  }

  /** Publishes on the bus or an inbox. @throws ClusterUnavailableError while the link is down. */
  publish(channel: string, message: string): Promise<void> {
    return this.#link.publish(channel, message);
  }

  /**
   * Stops the heartbeat and every countdown, leaves the cluster (any session
   * of this node still in Redis leaves with it, announced to every node) and
   * closes the link.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#beat) clearInterval(this.#beat);
    if (this.#retry) clearTimeout(this.#retry);
    this.#watch.clear();
    if (this.#link.up) {
      try {
        await this.store.depart();
      } catch (err) {
        this.#logger.warn(
          `cluster: could not leave the cluster cleanly (${(err as Error).message}); it will reap this node`,
        );
      }
    }
    await this.#link.close();
  }

  #onMessage(text: string): void {
    if (this.#closed) return;
    const decoded = decodeBusMessage(text);
    if (!decoded.ok) {
      this.#hooks.received('bad', Buffer.byteLength(text));
      this.#logger.warn(`cluster: dropped a bus message: ${decoded.reason}`);
      return;
    }
    const message = decoded.message;
    this.#hooks.received(message.kind, Buffer.byteLength(text));
    if (message.node !== this.id) this.#watch.heard(message.node);
    this.#take(message);
  }

  #take(message: BusMessage): void {
    const verdict = this.#sequencer.accept(message);
    if (verdict === 'gap') {
      this.#logger.warn(
        `cluster: missed presence events before seq ${'seq' in message ? message.seq : '?'}; resyncing`,
      );
      this.#requestResync();
    }
    if (verdict === 'apply') this.#apply(message);
  }

  #apply(message: BusMessage): void {
    switch (message.kind) {
      case 'beat':
        return;
      case 'broadcast':
        if (message.node !== this.id) this.#hooks.broadcast(message.from, message.exclude, message.frame);
        return;
      case 'direct':
        this.#hooks.direct(message.to, message.frame);
        return;
      case 'room':
        if (message.node !== this.id) this.#hooks.room(message.room, message.except, message.event);
        return;
      case 'reaped':
        this.#reaped(message.dead);
        this.presence.apply(message);
        return;
      default:
        this.presence.apply(message);
    }
  }

  #reaped(dead: string): void {
    if (dead !== this.id) {
      // Reaped, or left (closing): either way it is gone.
      this.#watch.forget(dead);
      return;
    }
    this.#logger.warn('cluster: this node was taken for dead (its heartbeat stopped too long); registering again');
    this.#requestResync();
  }

  async #heartbeat(): Promise<void> {
    if (this.#beating || !this.#link.up) return;
    this.#beating = true;
    try {
      const unknown = await this.store.beat(this.deadAfterMs);
      if (unknown && !this.#resyncing) {
        this.#logger.warn(
          'cluster: Redis did not know this node any more (restarted, or reaped it); registering again',
        );
        this.#requestResync();
      }
    } catch (err) {
      this.#logger.debug(`cluster: heartbeat failed: ${(err as Error).message}`);
    } finally {
      this.#beating = false;
    }
  }

  async #silent(node: string): Promise<void> {
    if (this.#closed) return;
    try {
      const result = await this.store.reap(node);
      if (result.kind === 'alive') this.#watch.recheck(node, result.ms + 1);
      else if (result.kind === 'unknown') this.presence.dropNode(node);
      else this.#logger.info(`cluster: node ${node} was dead; ${result.count} of its sessions left the cluster`);
    } catch (err) {
      // Cut off: check again once the link is back (#onUp restarts every countdown).
      this.#watch.heard(node);
      this.#logger.debug(`cluster: could not check node ${node}: ${(err as Error).message}`);
    }
  }

  #onDown(): void {
    this.#sequencer.hold();
    this.#hooks.linkChanged(false);
  }

  #onUp(): void {
    this.#hooks.linkChanged(true);
    this.#watch.restartAll();
    this.#requestResync();
  }

  #requestResync(): void {
    this.#sequencer.hold();
    if (this.#resyncing) {
      this.#again = true;
      return;
    }
    this.#resyncing = this.#resync()
      .catch((err: unknown) => this.#resyncFailed(err as Error))
      .finally(() => {
        this.#resyncing = null;
        if (this.#again && this.#link.up && !this.#closed) {
          this.#again = false;
          this.#requestResync();
        }
      });
  }

  /** Retries after a heartbeat while the link is up (it failed for another reason); else when the link is back. */
  #resyncFailed(err: Error): void {
    this.#logger.warn(`cluster: resync failed (${err.message}); trying again`);
    if (!this.#link.up || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (!this.#closed) this.#requestResync();
    }, this.#options.heartbeat);
    this.#retry.unref();
  }

  /** Registers this node's sessions again, loads the presence, then replays what was held meanwhile. */
  async #resync(): Promise<void> {
    const { conflicts } = await this.store.sync(this.#hooks.ownSessions(), this.deadAfterMs);
    if (conflicts.length > 0) {
      this.#logger.warn(
        `cluster: ${conflicts.length} private IDs were taken by other nodes meanwhile; closing those sessions`,
      );
      this.#hooks.conflicted(conflicts);
    }
    await this.store.syncRooms(this.#hooks.ownRooms());
    const snapshot = await this.store.snapshot();
    this.presence.resync(snapshot);
    for (const node of snapshot.nodes) if (node !== this.id) this.#watch.heard(node);
    for (const node of this.presence.nodes) if (node !== this.id) this.#watch.heard(node);
    if (this.#sequencer.dropped > 0) this.#again = true;
    for (const message of this.#sequencer.release(snapshot.seq)) this.#take(message);
  }
}
