/**
 * Signal rooms across the cluster: each node keeps its own members (and
 * encrypts for each of them); Redis keeps how many members every room has on
 * every node; a room event is published once on the bus, and every other
 * node hands it to its members of that room.
 */
import type { Logger } from '../../util/logger.js';
import type { RoomRelay } from '../signal/relay.js';
import { roomMessage } from './bus.js';
import type { ClusterMetrics } from './metrics.js';
import type { ClusterNode } from './node.js';

/** The {@link RoomRelay} of a cluster node. */
export class ClusterRooms implements RoomRelay {
  readonly #node: () => ClusterNode;
  readonly #metrics: ClusterMetrics;
  readonly #logger: Logger;

  /** @param node the node (read when used: the rooms are wired before the node starts). */
  constructor(node: () => ClusterNode, metrics: ClusterMetrics, logger: Logger) {
    this.#node = node;
    this.#metrics = metrics;
    this.#logger = logger;
  }

  counted(room: string, members: number): void {
    const node = this.#node();
    // Cut off, the count is registered again with all of this node's rooms once the link is back.
    if (!node.up) return;
    node.store
      .roomCount(room, members)
      .catch((err: unknown) =>
        this.#logger.debug(`cluster: room count of '${room.slice(0, 80)}' not recorded: ${(err as Error).message}`),
      );
  }

  async publish(room: string, event: string, except: string | null, localMembers: number): Promise<number> {
    const node = this.#node();
    const message = roomMessage(node.id, room, except, event);
    const members = await node.store.roomPublish(room, message);
    this.#metrics.sent('room', Buffer.byteLength(message));
    return Math.max(0, members - localMembers);
  }
}
