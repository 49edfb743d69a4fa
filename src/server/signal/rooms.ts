/** Room membership of the Signal endpoint: room → members, and each member's own set. */

/** Anything that can be in a room. */
export interface RoomMember {
  readonly rooms: Set<string>;
}

/** Rooms and their members; a room exists while it has members. */
export class RoomRegistry<M extends RoomMember> {
  readonly #rooms = new Map<string, Set<M>>();

  join(member: M, room: string): void {
    let members = this.#rooms.get(room);
    if (!members) {
      members = new Set();
      this.#rooms.set(room, members);
    }
    members.add(member);
    member.rooms.add(room);
  }

  leave(member: M, room: string): void {
    member.rooms.delete(room);
    const members = this.#rooms.get(room);
    if (!members) return;
    members.delete(member);
    if (members.size === 0) this.#rooms.delete(room);
  }

  leaveAll(member: M): void {
    for (const room of [...member.rooms]) this.leave(member, room);
  }

  /** A snapshot of the room's members (empty for an unknown room). */
  members(room: string): M[] {
    return [...(this.#rooms.get(room) ?? [])];
  }

  clear(): void {
    this.#rooms.clear();
  }
}
