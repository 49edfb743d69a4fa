/**
 * Where Signal room events go beyond this node's own members. A single
 * server has no relay; a cluster node's relay (see `cluster/cluster-rooms.ts`)
 * reaches the members on the other nodes. The endpoint never knows which.
 */

/** Room traffic to and from other nodes. */
export interface RoomRelay {
  /** This node now has `members` members in `room` (0: none left). Never throws. */
  counted(room: string, members: number): void;
  /**
   * Sends a room event to the room's members on other nodes, except client
   * `except`. `event` is the JSON text `{"event","data"}` each member gets
   * encrypted; `localMembers` is this node's member count of the room.
   * Resolves with how many members on other nodes it went to.
   * @throws ClusterUnavailableError when the other nodes cannot be reached.
   */
  publish(room: string, event: string, except: string | null, localMembers: number): Promise<number>;
}
