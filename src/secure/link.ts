/**
 * One connection of a SecureSession: its `WSSClient` and keys, and what turns
 * the client's pushes into inbox tasks in arrival order (peer announcements,
 * departures, renames, messages, updates) and those into table changes and events.
 */
import type { CloseEvent } from '../client/events.js';
import { WSSClient } from '../client/wss-client.js';
import { ProtocolError, QueueFullError } from '../errors.js';
import { isRecord } from '../protocol/guards.js';
import type { ConnectOptions, PushMessage } from '../protocol/wss.js';
import type { Logger } from '../util/logger.js';
import type { Soon } from '../util/soon.js';
import type { DecryptErrorEvent, SecureSessionEvents } from './events.js';
import { type Inbox, type InboxTask, sizeOf } from './inbox.js';
import type { ResolvedSecureOptions } from './options.js';
import { messageTask, type Receiver } from './receive.js';
import type { PeerEntry, PeerTable } from './peers.js';
import type { Proof } from './delivery.js';
import { checkPeer, keyId, type LocalKeys, type PeerKeys, unusable } from './scheme.js';

/** The session's guarded emit. */
export type Emit = <E extends keyof SecureSessionEvents>(event: E, ...args: Parameters<SecureSessionEvents[E]>) => void;

/** What a connection needs of its session. */
export interface LinkHost {
  readonly options: ResolvedSecureOptions;
  readonly logger: Logger;
  readonly table: PeerTable;
  readonly inbox: Inbox;
  readonly emit: Emit;
  /** Where messages go, in order (see {@link Receiver.deliver}). */
  readonly deliver: Receiver['deliver'];
  /**
   * The connection is over: its socket closed (`info`), or it went past a bound
   * (`failure`: the backlog, or the retired keys), and the session must end it.
   */
  lost(link: Link, info: CloseEvent | null, failure?: Error): void;
  /** Where extended envelopes go, in order (see {@link Receiver.extended}). */
  readonly extended: Receiver['extended'];
  /** A peer entry joined the table (a new peer, or a known private ID with another key), in arrival order. */
  keyed(peer: PeerEntry): void;
  /** A peer entry left the table (the peer left, or its private ID got another key). */
  gone(peer: PeerEntry): void;
  /** A peer's private ID changed. */
  renamed(oldPrivateId: string, newPrivateId: string): void;
}

/** Where a private ID's messages will be opened: its published key, and its check (`checked` once done). */
interface Route {
  pk: unknown;
  checking: Promise<PeerKeys>;
  checked?: PeerKeys;
}

/** A connection, from its `WSSClient`'s first event to its end. */
export class Link implements Receiver {
  readonly client: WSSClient;
  /** This connection's keys; `null` on a plaintext session. */
  readonly keys: LocalKeys | null;
  readonly encrypted: boolean;
  readonly kid: string;
  readonly table: PeerTable;
  readonly deliver: Receiver['deliver'];
  readonly extended: Receiver['extended'];
  readonly info: string;
  readonly reliable: boolean;
  /** This connection's proof of the session, with reliable delivery (spec §11). */
  readonly proof: Proof | undefined;
  /** Why the session ended this connection, when it did (a bound). */
  failure: Error | undefined;
  readonly #host: LinkHost;
  /**
   * Private ID → the published key and key check of the entry it will have once the
   * queued tasks have run: lets decryption start on arrival.
   */
  readonly #routing = new Map<string, Route>();

  /** `reconnecting`: the peers the server lists on connecting are announced (`peerconnect`), as after a drop. */
  constructor(host: LinkHost, keys: LocalKeys | null, reconnecting: boolean, proof?: Proof) {
    const { client, info, delivery } = host.options;
    this.#host = host;
    this.keys = keys;
    this.encrypted = !!keys;
    this.kid = keys ? keyId(keys.pk) : '';
    this.table = host.table;
    this.deliver = host.deliver;
    this.extended = host.extended;
    this.info = info;
    this.reliable = !!delivery;
    this.proof = proof;
    this.client = new WSSClient({
      ...client,
      connectOptions: { ...client.connectOptions, ...(keys && { e2e: keys.advert }) },
    });
    this.#listen(reconnecting);
  }

  keysOf(privateId: string): Soon<PeerKeys> | undefined {
    const route = this.#routing.get(privateId);
    return route && (route.checked ?? route.checking);
  }

  reject(event: DecryptErrorEvent): void {
    this.#host.emit('decrypt_error', event);
  }

  /** Lets go of the client: no listener left, the socket closed with `code` (1000 by default). */
  close(code?: number, reason?: string): Promise<void> {
    // WSSClient.disconnect() never rejects: it resolves once the socket is closed.
    return this.client.removeAllListeners().disconnect(code, reason);
  }

  #listen(reconnecting: boolean): void {
    const { client } = this;
    const host = this.#host;
    // The peers of the `WSS_Connect` result, taken before any push that follows it.
    client.on('state', ({ state }) => {
      if (state === 'connected') this.#announced([...client.peers], reconnecting);
    });
    client.on('peerconnect', (e) => this.#announced([[e.privateId, e.options]], true));
    client.on('peerdisconnect', ({ privateId }) => this.#left(privateId));
    client.on('peerpid', ({ oldPrivateId, newPrivateId, raw }) => this.#renamed(oldPrivateId, newPrivateId, raw));
    client.on('message', (e) => this.#push(messageTask(this, this, e)));
    client.on('update', (e) => this.#queue(sizeOf(e.data), () => void host.emit('update', e)));
    client.on('close', (e) => host.lost(this, e));
    client.on('error', (e) => host.emit('error', e));
  }

  #push(task: InboxTask): void {
    if (!this.#host.inbox.push(task)) this.#host.lost(this, null, this.#overflow());
  }

  /** Queues what a frame leads to, with no work to wait for; `size`: the frame's share of the bytes bound. */
  #queue(size: number, commit: InboxTask['commit']): void {
    this.#push({ owner: this, size, commit });
  }

  #overflow(): Error {
    const { inbox, options } = this.#host;
    return new QueueFullError(
      `incoming backlog full: ${inbox.frames} frames (${inbox.bytes} bytes) were waiting for keys or decryption ` +
        `(maxBacklogFrames ${options.maxBacklogFrames}, maxBacklogBytes ${options.maxBacklogBytes}); ` +
        'the connection was closed and its backlog dropped; reconnecting',
    );
  }

  /** Peers announced by one frame: their keys are checked at once; they join the table in arrival order. */
  #announced(peers: Array<[string, ConnectOptions]>, announce: boolean): void {
    if (!peers.length) return;
    const { keys: own } = this;
    const checks = own ? peers.map(([id, options]) => this.#check(id, options, own)) : undefined;
    let size = 0;
    for (const [, options] of peers) size += sizeOf(options);
    this.#push({
      owner: this,
      size,
      ready: checks && Promise.all(checks),
      commit: (keys) => {
        for (const [i, [id, options]] of peers.entries())
          this.#apply(id, options, (keys as PeerKeys[] | undefined)?.[i] ?? unusable(), announce);
      },
    });
  }

  /** Checks a peer's advert; the same key announced again under the same private ID is not checked again (nothing changes). */
  #check(privateId: string, options: ConnectOptions, own: LocalKeys): Promise<PeerKeys> {
    const pk = isRecord(options.e2e) ? options.e2e.pk : undefined;
    const known = this.#routing.get(privateId);
    if (known && typeof pk === 'string' && known.pk === pk) return known.checking;
    const route: Route = { pk, checking: checkPeer(privateId, options.e2e, own, this.#host.options) };
    // checkPeer never rejects. Once it is done, messages from the peer are opened at once, without a promise.
    route.checking.then((keys) => {
      route.checked = keys;
    });
    this.#routing.set(privateId, route);
    return route.checking;
  }

  /** One announced peer takes its place in the table. */
  #apply(privateId: string, options: ConnectOptions, keys: PeerKeys, announce: boolean): void {
    const host = this.#host;
    const { emit, logger, table } = host;
    const before = table.get(privateId);
    const changed = table.announce(this.keys, privateId, options, keys);
    // The same key announced again changes nothing.
    if (!changed) {
      logger.debug(`wss-sessions: peer ${privateId} announced again, same key`);
      return;
    }
    if (before) host.gone(before);
    host.keyed(table.get(privateId) as PeerEntry);
    if (changed.refused) logger.warn(`wss-sessions: ${changed.key?.error?.message}`);
    if (announce && changed.joined) emit('peerconnect', { privateId, options });
    if (changed.key) emit('peerkey', changed.key);
    if (changed.overflow) this.#host.lost(this, null, this.#retiredOverflow());
  }

  #left(privateId: string): void {
    this.#routing.delete(privateId);
    this.#queue(0, () => {
      const entry = this.#host.table.get(privateId);
      if (entry) this.#host.gone(entry);
      const { listed, overflow } = this.#host.table.remove(privateId);
      if (!listed) this.#host.logger.debug(`wss-sessions: peer ${privateId} left, but was not listed`);
      else this.#host.emit('peerdisconnect', { privateId });
      if (overflow) this.#host.lost(this, null, this.#retiredOverflow());
    });
  }

  /** A rename onto a private ID another peer holds is refused: both entries stay as they are. */
  #renamed(oldPrivateId: string, newPrivateId: string, raw: PushMessage): void {
    const routing = this.#routing;
    const moved = routing.get(oldPrivateId);
    if (moved && (oldPrivateId === newPrivateId || !routing.has(newPrivateId))) {
      routing.delete(oldPrivateId);
      routing.set(newPrivateId, moved);
    }
    const { emit, logger, table } = this.#host;
    this.#queue(0, () => {
      const result = table.rename(oldPrivateId, newPrivateId);
      if (result === 'taken') {
        const error = new ProtocolError(
          `peer rename ${oldPrivateId} -> ${newPrivateId} refused: ${newPrivateId} is another peer's; both left unchanged`,
          { frame: JSON.stringify(raw) },
        );
        logger.warn(`wss-sessions: ${error.message}`);
        return void emit('error', error);
      }
      if (result === 'unknown') logger.debug(`wss-sessions: peer ${oldPrivateId} renamed, but was not listed`);
      else this.#host.renamed(oldPrivateId, newPrivateId);
      emit('peerpid', { oldPrivateId, newPrivateId });
    });
  }

  #retiredOverflow(): Error {
    return new ProtocolError(
      `more than ${this.#host.options.maxRetiredPeerKeys} peer keys left this connection (maxRetiredPeerKeys): reconnecting with new keys`,
    );
  }
}
