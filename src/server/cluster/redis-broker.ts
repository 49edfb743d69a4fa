/**
 * The cluster {@link Broker}: WSS handshakes, sessions and deliveries shared
 * by every node through Redis (see docs/cluster.md). Each step that must be
 * atomic cluster-wide is one script of the {@link ClusterStore}; deliveries
 * go to this node's sessions at once and to other nodes with one publish
 * (a broadcast) or one per node holding recipients (a direct message). The
 * session logic above never knows which broker it has.
 *
 * While the link to Redis is down, steps that need it reject with
 * {@link ClusterUnavailableError} (answered -32006); deliveries still reach
 * this node's sessions first, and a session that ends is announced here at
 * once and to the cluster when the node registers its sessions again.
 */
import { ClusterUnavailableError } from '../../errors.js';
import type { Logger } from '../../util/logger.js';
import { Frame } from '../transport/frame.js';
import type {
  Broker,
  HandshakeClaim,
  HandshakeOpened,
  HandshakeView,
  JoinOutcome,
  JoinRequest,
  Mailbox,
  RenameOutcome,
} from '../wss/broker.js';
import { PeerCache } from '../wss/peer-cache.js';
import { connectPush, disconnectPush } from '../wss/push.js';
import { broadcastMessage, directMessage } from './bus.js';
import type { ClusterMetrics } from './metrics.js';
import { ClusterNode, type ClusterNodeHooks } from './node.js';
import type { ResolvedClusterOptions } from './options.js';
import { handshakeMember, type OwnSession } from './store.js';

/** A session whose socket is on this node. */
interface LocalSession extends OwnSession {
  readonly mailbox: Mailbox;
}

/** What the broker needs from the server around it. */
export interface RedisBrokerContext {
  readonly options: ResolvedClusterOptions;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** Closes the socket of a session this node had to give up (its private ID went to another node). */
  evict(privateId: string): void;
  /** This node's Signal rooms (none without the Signal endpoint). */
  readonly rooms: LocalRooms | null;
}

/** What the cluster needs of this node's Signal rooms. */
export interface LocalRooms {
  /** A room event from another node for this node's members (see `SignalEndpoint.deliverRoom`). */
  deliverRoom(room: string, except: string | null, event: string): void;
  /** Every room with its member count here. */
  roomCounts(): Iterable<readonly [room: string, members: number]>;
}

/** WSS sessions of a cluster, over Redis. */
export class RedisBroker implements Broker {
  readonly #context: RedisBrokerContext;
  readonly #local = new Map<string, LocalSession>();
  readonly #peers: PeerCache;
  #node: ClusterNode | null = null;

  private constructor(context: RedisBrokerContext) {
    this.#context = context;
    this.#peers = new PeerCache(() => this.node.presence.peers());
  }

  /**
   * Joins the cluster.
   * @throws ClusterUnavailableError when Redis cannot be reached.
   */
  static async start(context: RedisBrokerContext): Promise<RedisBroker> {
    const broker = new RedisBroker(context);
    broker.#node = await ClusterNode.start(context.options, context.logger, broker.#hooks());
    return broker;
  }

  /** The node (for `/healthz`). */
  get node(): ClusterNode {
    if (!this.#node) throw new Error('RedisBroker: not started');
    return this.#node;
  }

  async openHandshake(claim: HandshakeClaim): Promise<HandshakeOpened> {
    const member = handshakeMember(claim.ipKey, claim.userToken);
    return this.node.store.openHandshake(member, claim.serverToken, claim.ttlMs, claim.maxPerIp);
  }

  findHandshake(ipKey: string, userToken: string): Promise<HandshakeView | null> {
    return this.node.store.findHandshake(handshakeMember(ipKey, userToken));
  }

  async dropHandshake(ipKey: string, userToken: string): Promise<void> {
    // Cut off, the record is left to expire (handshakeTimeout) or to go with this node.
    if (this.node.up) await this.node.store.dropHandshake(handshakeMember(ipKey, userToken));
  }

  async join(request: JoinRequest): Promise<JoinOutcome> {
    const member = handshakeMember(request.ipKey, request.userToken);
    const { privateId, optionsJson, serverToken } = request;
    const joined = await this.node.store.join(member, serverToken, privateId, optionsJson, request.announce.text());
    if (!joined.ok) return joined;
    // One synchronous step: the peers known now are listed, every change from now on reaches the new session.
    const peers = this.#peers.snapshot();
    this.#deliverLocal(request.announce, privateId);
    this.#local.set(privateId, { pid: privateId, member, serverToken, optionsJson, mailbox: request.mailbox });
    this.node.presence.addOwn(privateId, optionsJson);
    return { ok: true, peers };
  }

  async rename(from: string, to: string, announce: Frame): Promise<RenameOutcome> {
    const renamed = await this.node.store.rename(from, to, announce.text());
    if (typeof renamed !== 'number') return renamed;
    const session = this.#local.get(from);
    if (session) {
      this.#local.delete(from);
      this.#local.set(to, { ...session, pid: to });
    }
    this.node.presence.renameOwn(from, to);
    this.#deliverLocal(announce, to);
    return 'renamed';
  }

  async leave(privateId: string, announce: Frame | null): Promise<void> {
    if (!this.#local.delete(privateId)) return;
    this.node.presence.removeOwn(privateId);
    if (announce) this.#deliverLocal(announce);
    // Cut off, the node's next registration (after the link is back) leaves this session out.
    if (!this.node.up) return;
    try {
      await this.node.store.leave(privateId, announce ? announce.text() : '');
    } catch (err) {
      if (!(err instanceof ClusterUnavailableError)) throw err;
      this.#context.logger.debug(`cluster: ${privateId} left while Redis was unreachable; announced on return`);
    }
  }

  async broadcast(from: string, frame: Frame, exclude: ReadonlySet<string>): Promise<void> {
    this.#deliverBroadcast(from, exclude, frame);
    if (!this.#othersHoldSessions()) return;
    await this.#publish('broadcast', this.node.store.bus, broadcastMessage(this.node.id, from, exclude, frame.text()));
  }

  async direct(to: ReadonlySet<string>, frame: Frame): Promise<readonly string[]> {
    const unknown: string[] = [];
    const byNode = new Map<string, string[]>();
    for (const id of to) {
      const local = this.#local.get(id);
      if (local) {
        local.mailbox.deliver(frame);
        continue;
      }
      const peer = this.node.presence.get(id);
      if (!peer) unknown.push(id);
      else {
        const ids = byNode.get(peer.node) ?? [];
        ids.push(id);
        byNode.set(peer.node, ids);
      }
    }
    if (byNode.size === 0) return unknown;
    const text = frame.text();
    const id = this.node.id;
    await Promise.all(
      Array.from(byNode, ([node, ids]) =>
        this.#publish('direct', this.node.store.inbox(node), directMessage(id, ids, text)),
      ),
    );
    return unknown;
  }

  async sessionCount(): Promise<number> {
    return this.node.presence.size;
  }

  async close(): Promise<void> {
    this.#local.clear();
    await this.#node?.close();
  }

  /** Whether any other node holds a session (a broadcast must cross). */
  #othersHoldSessions(): boolean {
    for (const node of this.node.presence.nodes) if (node !== this.node.id) return true;
    return false;
  }

  async #publish(kind: 'broadcast' | 'direct', channel: string, message: string): Promise<void> {
    await this.node.publish(channel, message);
    this.#context.metrics.sent(kind, Buffer.byteLength(message));
  }

  #deliverLocal(frame: Frame, except?: string): void {
    for (const session of this.#local.values()) if (session.pid !== except) session.mailbox.deliver(frame);
  }

  /** A broadcast to this node's sessions but its sender and `exclude`. */
  #deliverBroadcast(from: string, exclude: ReadonlySet<string>, frame: Frame): void {
    for (const session of this.#local.values()) {
      if (session.pid !== from && !exclude.has(session.pid)) session.mailbox.deliver(frame);
    }
  }

  #hooks(): ClusterNodeHooks {
    const metrics = this.#context.metrics;
    return {
      announce: (text, except) => this.#deliverLocal(Frame.text(text), except),
      connectPush: (privateId, optionsJson) => connectPush(privateId, optionsJson).text(),
      disconnectPush: (privateId) => disconnectPush(privateId).text(),
      changed: (peer) => (peer ? this.#peers.added(peer) : this.#peers.invalidate()),
      broadcast: (from, exclude, text) => this.#deliverBroadcast(from, new Set(exclude), Frame.text(text)),
      direct: (to, text) => {
        const frame = Frame.text(text);
        for (const id of to) this.#local.get(id)?.mailbox.deliver(frame);
      },
      room: (room, except, event) => this.#context.rooms?.deliverRoom(room, except, event),
      ownRooms: () => this.#context.rooms?.roomCounts() ?? [],
      ownSessions: () => this.#local.values(),
      conflicted: (ids) => {
        for (const id of ids) {
          if (this.#local.delete(id)) this.#context.evict(id);
        }
      },
      received: (kind, bytes) => metrics.received(kind, bytes),
      linkChanged: (up) => metrics.link(up),
      refused: () => metrics.unavailable(),
    };
  }
}
