/**
 * The cluster's shared state in Redis, one typed method per script of lua.ts.
 * Replies are checked before use: a reply of the wrong shape is a server
 * fault (an Error, answered -32603), never guessed at.
 */
import { beatMessage, joinHeader, leaveHeader, renameHeader } from './bus.js';
import type { RedisLink } from './link.js';
import { luaScript } from './link.js';
import * as lua from './lua.js';

const SCRIPTS = {
  openHandshake: luaScript('OPEN_HANDSHAKE', lua.OPEN_HANDSHAKE),
  dropHandshake: luaScript('DROP_HANDSHAKE', lua.DROP_HANDSHAKE),
  join: luaScript('JOIN', lua.JOIN),
  rename: luaScript('RENAME', lua.RENAME),
  leave: luaScript('LEAVE', lua.LEAVE),
  beat: luaScript('BEAT', lua.BEAT),
  reap: luaScript('REAP', lua.REAP),
  sync: luaScript('SYNC', lua.SYNC),
  snapshot: luaScript('SNAPSHOT', lua.SNAPSHOT),
  roomCount: luaScript('ROOM_COUNT', lua.ROOM_COUNT),
  roomsSync: luaScript('ROOMS_SYNC', lua.ROOMS_SYNC),
  roomPublish: luaScript('ROOM_PUBLISH', lua.ROOM_PUBLISH),
};

/** The cluster's bus channel (presence events, broadcasts, heartbeats, room events; lua.ts publishes there too). */
export const busChannel = (prefix: string): string => `${prefix}bus`;

/** Node `node`'s inbox channel (direct messages for its sessions). */
export const inboxChannel = (prefix: string, node: string): string => `${prefix}inbox:${node}`;

/** A handshake's key in Redis: the client's address key and its user token. */
export const handshakeMember = (ipKey: string, userToken: string): string => `${ipKey}\n${userToken}`;

export type OpenOutcome =
  | { ok: true; perIp: number; total: number }
  | { ok: false; reason: 'exists' }
  | { ok: false; reason: 'limit'; perIp: number };

export type JoinResult =
  | { ok: true; seq: number }
  | { ok: false; reason: 'no-handshake' | 'token-mismatch' | 'bound' | 'taken' };

export type ReapResult = { kind: 'alive'; ms: number } | { kind: 'reaped'; count: number } | { kind: 'unknown' };

/** A session as `SYNC` registers it again. */
export interface OwnSession {
  readonly pid: string;
  readonly member: string;
  readonly serverToken: string;
  readonly optionsJson: string;
}

/** One session of a snapshot. */
export interface SnapshotEntry {
  readonly pid: string;
  readonly node: string;
  readonly optionsJson: string;
}

/** The presence at one point of the event order. */
export interface Snapshot {
  readonly seq: number;
  readonly nodes: readonly string[];
  /** In presence order. */
  readonly sessions: readonly SnapshotEntry[];
}

function bad(script: string, reply: unknown): Error {
  return new Error(`cluster: unexpected reply from script ${script}: ${JSON.stringify(reply)?.slice(0, 200)}`);
}

const isList = (value: unknown): value is unknown[] => Array.isArray(value);
const isStrings = (value: unknown): value is string[] => isList(value) && value.every((v) => typeof v === 'string');

/** Typed access to the scripts, for one node. */
export class ClusterStore {
  readonly #link: RedisLink;
  readonly #prefix: string;
  /** This node's id. */
  readonly node: string;

  constructor(link: RedisLink, prefix: string, node: string) {
    this.#link = link;
    this.#prefix = prefix;
    this.node = node;
  }

  /** Channel names with the prefix. */
  get bus(): string {
    return busChannel(this.#prefix);
  }

  inbox(node: string): string {
    return inboxChannel(this.#prefix, node);
  }

  async openHandshake(member: string, serverToken: string, ttlMs: number, maxPerIp: number): Promise<OpenOutcome> {
    const args = [member, serverToken, String(ttlMs), String(maxPerIp), this.node];
    const reply = await this.#run(SCRIPTS.openHandshake, args);
    if (isList(reply) && reply[0] === 'ok' && typeof reply[1] === 'number' && typeof reply[2] === 'number')
      return { ok: true, perIp: reply[1], total: reply[2] };
    if (isList(reply) && reply[0] === 'exists') return { ok: false, reason: 'exists' };
    if (isList(reply) && reply[0] === 'limit' && typeof reply[1] === 'number')
      return { ok: false, reason: 'limit', perIp: reply[1] };
    throw bad('OPEN_HANDSHAKE', reply);
  }

  /** The live record of a handshake: its server token and the private ID bound to it (or null). */
  async findHandshake(member: string): Promise<{ serverToken: string; privateId: string | null } | null> {
    const reply = await this.#link.command(['HMGET', `${this.#prefix}hs:${member}`, 'st', 'pid']);
    if (!isList(reply)) throw bad('HMGET', reply);
    const [serverToken, privateId] = reply;
    if (typeof serverToken !== 'string') return null;
    return { serverToken, privateId: typeof privateId === 'string' ? privateId : null };
  }

  async dropHandshake(member: string): Promise<void> {
    await this.#run(SCRIPTS.dropHandshake, [member]);
  }

  async join(
    member: string,
    serverToken: string,
    pid: string,
    optionsJson: string,
    announce: string,
  ): Promise<JoinResult> {
    const header = joinHeader(this.node, pid);
    const reply = await this.#run(SCRIPTS.join, [member, serverToken, pid, optionsJson, this.node, header, announce]);
    if (isList(reply) && reply[0] === 'ok' && typeof reply[1] === 'number') return { ok: true, seq: reply[1] };
    const reason = isList(reply) ? reply[0] : undefined;
    if (reason === 'no-handshake' || reason === 'token-mismatch' || reason === 'bound' || reason === 'taken')
      return { ok: false, reason };
    throw bad('JOIN', reply);
  }

  /** @returns the event's seq, or why not. */
  async rename(from: string, to: string, announce: string): Promise<number | 'taken' | 'gone'> {
    const reply = await this.#run(SCRIPTS.rename, [from, to, this.node, renameHeader(this.node, from, to), announce]);
    if (isList(reply) && reply[0] === 'renamed' && typeof reply[1] === 'number') return reply[1];
    if (isList(reply) && (reply[0] === 'taken' || reply[0] === 'gone')) return reply[0];
    throw bad('RENAME', reply);
  }

  /** @returns the event's seq, or `gone` when this node holds no such session in Redis. */
  async leave(pid: string, announce: string): Promise<number | 'gone'> {
    const reply = await this.#run(SCRIPTS.leave, [pid, this.node, leaveHeader(this.node, pid), announce]);
    if (isList(reply) && reply[0] === 'left' && typeof reply[1] === 'number') return reply[1];
    if (isList(reply) && reply[0] === 'gone') return 'gone';
    throw bad('LEAVE', reply);
  }

  /** Renews this node for `ttlMs`. @returns `true` when Redis did not know the node (new, reaped or emptied). */
  async beat(ttlMs: number): Promise<boolean> {
    const reply = await this.#run(SCRIPTS.beat, [this.node, String(ttlMs), beatMessage(this.node)]);
    if (reply !== 0 && reply !== 1) throw bad('BEAT', reply);
    return reply === 1;
  }

  async reap(dead: string): Promise<ReapResult> {
    const reply = await this.#run(SCRIPTS.reap, [dead, this.node]);
    if (isList(reply) && reply[0] === 'alive' && typeof reply[1] === 'number') return { kind: 'alive', ms: reply[1] };
    if (isList(reply) && reply[0] === 'reaped' && typeof reply[1] === 'number')
      return { kind: 'reaped', count: reply[1] };
    if (isList(reply) && reply[0] === 'unknown') return { kind: 'unknown' };
    throw bad('REAP', reply);
  }

  /** Registers this node again with exactly `sessions`. @returns the event's seq and the private IDs in conflict. */
  async sync(sessions: Iterable<OwnSession>, ttlMs: number): Promise<{ seq: number; conflicts: string[] }> {
    const args = [this.node, String(ttlMs)];
    for (const s of sessions) args.push(s.pid, s.member, s.serverToken, s.optionsJson);
    const reply = await this.#run(SCRIPTS.sync, args);
    if (isList(reply) && typeof reply[0] === 'number' && isStrings(reply[1]))
      return { seq: reply[0], conflicts: reply[1] };
    throw bad('SYNC', reply);
  }

  async snapshot(): Promise<Snapshot> {
    const reply = await this.#run(SCRIPTS.snapshot, []);
    if (!isList(reply) || typeof reply[0] !== 'number' || !isStrings(reply[1]) || !isStrings(reply[2]))
      throw bad('SNAPSHOT', reply);
    if (!isStrings(reply[3])) throw bad('SNAPSHOT', reply);
    const entries = new Map<string, string>();
    for (let i = 0; i + 1 < reply[3].length; i += 2) entries.set(reply[3][i] as string, reply[3][i + 1] as string);
    const sessions: SnapshotEntry[] = [];
    for (const pid of reply[2]) {
      const entry = parseEntry(entries.get(pid));
      if (!entry) throw bad('SNAPSHOT', `session ${pid} has no valid entry`);
      sessions.push({ pid, node: entry.node, optionsJson: entry.optionsJson });
    }
    return { seq: reply[0], nodes: reply[1], sessions };
  }

  /** Records how many members a Signal room has on this node (0: none). */
  async roomCount(room: string, count: number): Promise<void> {
    await this.#run(SCRIPTS.roomCount, [this.node, room, String(count)]);
  }

  /** Replaces this node's Signal room counts (after Redis lost them). */
  async syncRooms(rooms: Iterable<readonly [room: string, count: number]>): Promise<void> {
    const args = [this.node];
    for (const [room, count] of rooms) args.push(room, String(count));
    await this.#run(SCRIPTS.roomsSync, args);
  }

  /** Publishes a Signal room event. @returns the room's members on every node (this one included). */
  async roomPublish(room: string, message: string): Promise<number> {
    const reply = await this.#run(SCRIPTS.roomPublish, [room, message]);
    if (typeof reply !== 'number') throw bad('ROOM_PUBLISH', reply);
    return reply;
  }

  /** Takes this node out of the cluster (closing), with any session of it still registered, and tells every node. */
  async depart(): Promise<void> {
    await this.reap(this.node);
  }

  #run(script: (typeof SCRIPTS)[keyof typeof SCRIPTS], args: readonly string[]): Promise<unknown> {
    return this.#link.run(script, [this.#prefix, ...args]);
  }
}

/** `[node, handshake, options JSON]` as JOIN stores it. */
function parseEntry(raw: string | undefined): { node: string; optionsJson: string } | null {
  if (raw === undefined) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (isStrings(value) && value.length === 3) return { node: value[0] as string, optionsJson: value[2] as string };
  } catch {
    // Falls through: not an entry.
  }
  return null;
}
