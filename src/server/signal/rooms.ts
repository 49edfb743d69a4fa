/** Room membership of the Signal endpoint: room → members, and each member's own set. */

/** Anything that can be in a room. */
export interface RoomMember {
  readonly rooms: Set<string>;
}

/** Rooms and their members; a room exists while it has members. */
export class RoomRegistry<M extends RoomMember> {
  readonly #rooms = new Map<string, Set<M>>();
  readonly #counted: (room: string, members: number) => void;

  /** @param counted told each time a room's member count changes (0: the room is gone). */
  constructor(counted: (room: string, members: number) => void = () => {}) {
    this.#counted = counted;
  }

  join(member: M, room: string): void {
    let members = this.#rooms.get(room);
    if (!members) {
      members = new Set();
      this.#rooms.set(room, members);
    }
    const before = members.size;
    members.add(member);
    member.rooms.add(room);
    if (members.size !== before) this.#counted(room, members.size);
  }

  /** Members of `room` now. */
  count(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  /** Every room with its member count. */
  *counts(): IterableIterator<[room: string, members: number]> {
    for (const [room, members] of this.#rooms) yield [room, members.size];
  }

  leave(member: M, room: string): void {
    member.rooms.delete(room);
    const members = this.#rooms.get(room);
    if (!members?.delete(member)) return;
    if (members.size === 0) this.#rooms.delete(room);
    this.#counted(room, members.size);
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
