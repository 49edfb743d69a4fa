import { EventEmitter } from 'eventemitter3';
import { checkPrivateId, checkRecipients } from '../client/args.js';
import type { CloseEvent, MessageEvent } from '../client/events.js';
import { WSSClient } from '../client/wss-client.js';
import { ConnectionClosedError, InvalidStateError, NotConnectedError, toError } from '../errors.js';
import type { ConnectOptions } from '../protocol/wss.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { SecurePeer, SecureSessionEvents, SecureSessionState } from './events.js';
import { ADVERT_KEY, createLocalKeys, loadIdentity, type LocalIdentity, type LocalKeys } from './local-keys.js';
import { backoffDelay, resolveSecureOptions, type ResolvedSecureOptions, type SecureSessionOptions } from './options.js';
import { Outbox } from './outbox.js';
import { PeerTable } from './peer-table.js';
import { acceptCounter, openMessage } from './receive.js';
import { canJoinBatch, outgoing, prepareEncrypted, preparePlain, type BroadcastResult, type Outgoing } from './send.js';

/** What `connect()` resolves with. */
export interface SecureConnectInfo {
  /** This session's private ID. */
  privateId: string;
  /** Private IDs of the peers already connected. */
  peers: string[];
}

/** Options of `broadcast()`. */
export interface SecureBroadcastOptions extends RequestOptions {
  /** Private IDs that must not receive the broadcast (they get nothing they could decrypt). */
  exclude?: readonly string[];
}

/** One connection: its client, keys and peers. A reconnect makes a new one. */
interface Link {
  readonly client: WSSClient;
  readonly local: LocalKeys | null;
  readonly table: PeerTable;
  /** How its socket closed, once it has. */
  closed: CloseEvent | null;
  established: boolean;
}

/**
 * End-to-end encrypted peer messaging over any WebSocket Sessions server, with
 * reconnect and session restore. Each connection publishes a fresh ECDH P-256
 * key in its `WSS_Connect` options; every peer pair derives its own keys, one
 * per direction; messages carry counters bound into their authentication, so
 * replayed, reflected, reordered or altered messages are dropped with a
 * `decrypt_error`. See docs/secure-session-spec.md.
 *
 * @example
 * const s = new SecureSession({ url: 'ws://127.0.0.1:8090', info: 'my-app-e2e' });
 * s.on('message', ({ from, data }) => console.log(from, data));
 * await s.connect();
 * await s.broadcast({ text: 'hello' });
 * console.log(s.fingerprint(somePeer)); // compare out of band
 */
export class SecureSession extends EventEmitter<SecureSessionEvents> {
  readonly #options: ResolvedSecureOptions;
  readonly #logger: Logger;
  readonly #outbox: Outbox<Outgoing, BroadcastResult>;
  readonly #view = new Map<string, SecurePeer>();
  #state: SecureSessionState = 'disconnected';
  #link: Link | null = null;
  #identity: Promise<LocalIdentity> | null = null;
  #identityFingerprint: string | null = null;
  #desiredPrivateId: string | null = null;
  #privateId: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inbox: Promise<void> = Promise.resolve();
  #epoch = 0;
  #disconnecting: Promise<void> | null = null;

  /** @throws {InvalidArgumentError} for a bad option or combination, naming it. */
  constructor(options: SecureSessionOptions) {
    super();
    this.#options = resolveSecureOptions(options);
    this.#logger = this.#options.client.logger ?? silentLogger;
    this.#outbox = new Outbox(this.#options.queueSize, canJoinBatch);
  }

  /** Session state; `'connected'` only while the session is usable (keys agreed, private ID restored). */
  get state(): SecureSessionState {
    return this.#state;
  }

  /** This session's private ID; `null` before the first connect. */
  get privateId(): string | null {
    return this.#privateId;
  }

  /** Connected peers with their safety numbers: private ID → {@link SecurePeer}. Live, read-only. */
  get peers(): ReadonlyMap<string, SecurePeer> {
    return this.#view;
  }

  /** Whether messages are end-to-end encrypted. */
  get encrypted(): boolean {
    return this.#options.encryption;
  }

  /** Safety number of this session's identity key (with `identity`), once connected. */
  get identityFingerprint(): string | null {
    return this.#identityFingerprint;
  }

  /**
   * Safety number to compare out of band. With a peer's private ID: the pair's
   * number, the same at both ends unless a relay replaced a key. Without: this
   * connection's own key. `null` while not connected, for an unknown or
   * unusable peer, and on a plaintext session.
   */
  fingerprint(privateId?: string): string | null {
    const link = this.#link;
    if (!link?.established) return null;
    if (privateId === undefined) return link.local?.fingerprint ?? null;
    return link.table.get(privateId)?.security?.fingerprint ?? null;
  }

  /**
   * Connects, publishes this connection's key and agrees keys with every peer.
   * A failed first connect rejects (no retries); drops after that reconnect.
   * @throws {InvalidStateError} unless the state is `'disconnected'`.
   */
  async connect(): Promise<SecureConnectInfo> {
    if (this.#state !== 'disconnected') throw new InvalidStateError(`connect() needs state 'disconnected', but it is '${this.#state}'`);
    const epoch = this.#epoch;
    this.#setState('connecting');
    try {
      const link = await this.#establish(false);
      this.#goLive(link);
      return { privateId: link.client.privateId as string, peers: Array.from(link.table.entries(), (e) => e.privateId) };
    } catch (error) {
      if (epoch === this.#epoch) {
        this.#discard(this.#link);
        this.#setState('disconnected');
      }
      throw error;
    }
  }

  /**
   * Sends to one or more peers, encrypted for each. Resolves when the server
   * accepted it (not delivered). While reconnecting it waits in the queue and
   * is encrypted with the new keys.
   * @throws (rejects) {InvalidArgumentError} for an unknown peer, {AuthenticationError}
   *   for a peer without a usable key, {QueueFullError}, {NotConnectedError}.
   */
  async send(to: string | readonly string[], data: unknown, options: RequestOptions = {}): Promise<void> {
    const ids = checkRecipients('to', to, false);
    await this.#submit('send', outgoing('direct', ids, data, options, this.encrypted));
  }

  /**
   * Sends to every usable peer but those in `exclude`. Encrypted, it travels
   * as one direct `WSS_Send` to exactly the recipients, each able to decrypt
   * only its own key wrap; receivers see `type: 'broadcast'`.
   * @returns who it went to and which peers were skipped (no usable key).
   */
  async broadcast(data: unknown, options: SecureBroadcastOptions = {}): Promise<BroadcastResult> {
    const exclude = options.exclude === undefined ? [] : checkRecipients('exclude', options.exclude, true);
    const request: RequestOptions = { signal: options.signal, timeoutMs: options.timeoutMs };
    return this.#submit('broadcast', outgoing('broadcast', exclude, data, request, this.encrypted));
  }

  /**
   * Changes this session's private ID; peers see a `peerpid` event. The ID is
   * restored after every reconnect (and on a later `connect()`).
   * @throws (rejects) {NotConnectedError} unless the state is `'connected'`; `RpcError` when the server refuses the ID.
   */
  async setPrivateId(privateId: string, options: RequestOptions = {}): Promise<string> {
    checkPrivateId('privateId', privateId);
    const link = this.#connected('setPrivateId');
    const result = await link.client.setPrivateId(privateId, options);
    this.#desiredPrivateId = result;
    if (this.#link === link && this.#privateId !== result) {
      this.#privateId = result;
      this.#emit('privateid', { privateId: result });
    }
    return result;
  }

  /** Asks the server for this session's private ID. */
  async getPrivateId(options: RequestOptions = {}): Promise<string> {
    return this.#connected('getPrivateId').client.getPrivateId(options);
  }

  /** The current connection, for an operation that needs state `'connected'`. */
  #connected(operation: string): Link {
    if (this.#state !== 'connected' || !this.#link) throw new NotConnectedError(operation, this.#state);
    return this.#link;
  }

  /**
   * Closes the session and stops reconnecting: no timer, listener or socket is
   * left. Queued sends reject with `ConnectionClosedError`. Safe in any state.
   */
  disconnect(): Promise<void> {
    if (this.#state === 'disconnected') return this.#inbox;
    this.#disconnecting ??= this.#shutdown().finally(() => (this.#disconnecting = null));
    return this.#disconnecting;
  }

  async #shutdown(): Promise<void> {
    this.#epoch++;
    const link = this.#link;
    const wasUp = link?.established === true;
    this.#setState('disconnecting');
    clearTimeout(this.#timer);
    this.#link = null;
    this.#outbox.rejectAll(new ConnectionClosedError('send', 1000, 'disconnect() was called'));
    if (link) {
      link.client.removeAllListeners();
      await link.client.disconnect();
    }
    this.#enqueue(() => this.#clearView(false));
    await this.#inbox;
    this.#setState('disconnected');
    if (wasUp) this.#emit('close', { code: 1000, reason: 'Session terminated by client', requested: true });
  }

  #submit(operation: string, request: Outgoing): Promise<BroadcastResult> {
    if (this.#state !== 'connected' && this.#state !== 'reconnecting') return Promise.reject(new NotConnectedError(operation, this.#state));
    return this.#outbox.submit(request);
  }

  async #establish(reconnecting: boolean): Promise<Link> {
    const epoch = this.#epoch;
    const { encryption, info, client: clientOptions } = this.#options;
    const local = encryption ? await createLocalKeys(info, await this.#loadIdentity()) : null;
    if (epoch !== this.#epoch) throw new ConnectionClosedError('connect', undefined, 'disconnect() was called while connecting');
    const connectOptions: ConnectOptions = { ...clientOptions.connectOptions, ...(local ? { [ADVERT_KEY]: local.advert } : {}) };
    const client = new WSSClient({ ...clientOptions, connectOptions });
    const policy = { require: this.#options.requirePeerIdentity, trust: this.#options.verifyPeerIdentity };
    const link: Link = { client, local, table: new PeerTable(local, info, policy), closed: null, established: false };
    this.#link = link;
    this.#wire(link, reconnecting);
    await client.connect();
    this.#check(link);
    if (this.#desiredPrivateId !== null && client.privateId !== this.#desiredPrivateId) {
      await client.setPrivateId(this.#desiredPrivateId);
      this.#check(link);
    }
    // Every peer known so far has a task in the chain that waits for its keys.
    await this.#inbox;
    this.#check(link);
    return link;
  }

  #check(link: Link): void {
    const info = link.closed;
    if (!info && this.#link === link) return;
    throw new ConnectionClosedError('connect', info?.code, info?.reason ?? 'the connection closed while the session was being set up');
  }

  async #loadIdentity(): Promise<LocalIdentity | null> {
    const pair = this.#options.identity;
    if (!pair) return null;
    // Loaded once: the pair was checked up front, so a failure (no WebCrypto) would only repeat.
    const identity = await (this.#identity ??= loadIdentity(pair));
    this.#identityFingerprint = identity.fingerprint;
    return identity;
  }

  #goLive(link: Link): void {
    this.#check(link);
    link.established = true;
    const { client, local, table } = link;
    const privateId = client.privateId as string;
    const changed = privateId !== this.#privateId;
    this.#privateId = privateId;
    this.#setState('connected');
    this.#outbox.attach((batch) => (local ? prepareEncrypted(client, local, table, batch) : preparePlain(client, table, batch)));
    if (changed) this.#emit('privateid', { privateId });
  }

  #wire(link: Link, reconnecting: boolean): void {
    const c = link.client;
    const live = (): boolean => this.#link === link;
    // The peers of the `WSS_Connect` result, taken before any push that follows it.
    c.on('state', ({ state }) => state === 'connected' && live() && c.peers.forEach((options, id) => this.#addPeer(link, id, options, reconnecting)));
    c.on('message', (e) => live() && this.#onMessage(link, e));
    c.on('update', (e) => live() && this.#enqueue(() => this.#emit('update', e)));
    c.on('peerconnect', (e) => live() && this.#addPeer(link, e.privateId, e.options, true));
    c.on('peerdisconnect', (e) => live() && this.#onPeerDisconnect(link, e.privateId));
    c.on('peerpid', (e) => live() && this.#onPeerPid(link, e.oldPrivateId, e.newPrivateId));
    c.on('close', (e) => this.#onClose(link, e));
    c.on('error', (e) => live() && this.#emit('error', e));
  }

  #onMessage(link: Link, { type, from, data, raw }: MessageEvent): void {
    if (!link.local) {
      this.#enqueue(() => this.#emit('message', { type, from, data, encrypted: false, raw }));
      return;
    }
    const opened = openMessage(link.local, link.table, data);
    this.#enqueue(async () => {
      let result = await opened;
      if (result.ok) result = acceptCounter(result);
      if (result.ok) {
        for (const item of result.items) this.#emit('message', { type: result.type, from: result.from, data: item, encrypted: true, raw });
        return;
      }
      this.#logger.debug(`wss-sessions: dropped a message relayed from ${from} (${result.reason}): ${result.error.message}`);
      this.#emit('decrypt_error', { reason: result.reason, from, type, error: result.error, raw });
    });
  }

  /**
   * A peer from the `WSS_Connect` result (`announce` after a reconnect) or a
   * push. Its entry exists at once; its events wait for its keys, in order.
   */
  #addPeer(link: Link, privateId: string, options: ConnectOptions, announce: boolean): void {
    const { entry, added, replaced } = link.table.add(privateId, options);
    if (!added) return this.#logger.debug(`wss-sessions: peer ${privateId} was announced again with the same key; ignored`);
    this.#enqueue(async () => {
      const { keys, error, ...security } = await entry.ready;
      this.#view.set(privateId, Object.freeze({ privateId, options, ...security, usable: !link.local || keys !== null }));
      if (announce && !replaced) this.#emit('peerconnect', { privateId, options });
      if (!link.local) return;
      const previous = replaced ? { previousFingerprint: replaced.security?.fingerprint ?? null } : {};
      this.#emit('peerkey', { privateId, ...security, ...previous, ...(error ? { error } : {}) });
    });
  }

  #onPeerDisconnect(link: Link, privateId: string): void {
    link.table.remove(privateId);
    this.#enqueue(() => {
      if (this.#view.delete(privateId)) this.#emit('peerdisconnect', { privateId });
      else this.#logger.debug(`wss-sessions: disconnect of unknown peer ${privateId} ignored`);
    });
  }

  #onPeerPid(link: Link, oldPrivateId: string, newPrivateId: string): void {
    link.table.rename(oldPrivateId, newPrivateId);
    this.#enqueue(() => {
      const peer = this.#view.get(oldPrivateId);
      this.#view.delete(oldPrivateId);
      if (peer) this.#view.set(newPrivateId, Object.freeze({ ...peer, privateId: newPrivateId }));
      this.#emit('peerpid', { oldPrivateId, newPrivateId });
    });
  }

  #onClose(link: Link, info: CloseEvent): void {
    link.closed = info;
    if (this.#link !== link || !link.established) return;
    this.#outbox.detach();
    this.#discard(link);
    this.#enqueue(() => this.#clearView(true));
    this.#emit('close', info);
    if (!this.#options.reconnect.enabled) {
      this.#outbox.rejectAll(new ConnectionClosedError('send', info.code, info.reason));
      this.#setState('disconnected');
      return;
    }
    this.#setState('reconnecting');
    this.#schedule(1, this.#epoch, new ConnectionClosedError('connect', info.code, info.reason));
  }

  #schedule(attempt: number, epoch: number, lastError: Error): void {
    if (epoch !== this.#epoch || this.#state !== 'reconnecting') return;
    const reconnect = this.#options.reconnect;
    if (attempt > reconnect.maxRetries) {
      this.#setState('disconnected');
      this.#outbox.rejectAll(new ConnectionClosedError('send', undefined, `reconnecting gave up after ${attempt - 1} attempts`));
      this.#emit('reconnect_failed', { attempts: attempt - 1, error: lastError });
      return;
    }
    const delay = backoffDelay(attempt, reconnect);
    this.#emit('reconnecting', { attempt, delay });
    if (epoch !== this.#epoch || this.#state !== 'reconnecting') return;
    this.#timer = setTimeout(() => void this.#attempt(attempt, epoch), delay);
  }

  async #attempt(attempt: number, epoch: number): Promise<void> {
    let link: Link;
    try {
      link = await this.#establish(true);
      this.#goLive(link);
    } catch (error) {
      if (epoch !== this.#epoch) return;
      this.#discard(this.#link);
      this.#logger.debug(`wss-sessions: reconnect attempt ${attempt} failed: ${toError(error).message}`);
      this.#schedule(attempt + 1, epoch, toError(error));
      return;
    }
    this.#emit('reconnected', { attempts: attempt, privateId: link.client.privateId as string });
  }

  /** Lets go of a connection: listeners off, socket closed. */
  #discard(link: Link | null): void {
    if (!link) return;
    if (this.#link === link) this.#link = null;
    link.client.removeAllListeners();
    link.client.disconnect().catch((error: unknown) => this.#logger.debug(`wss-sessions: closing a dropped connection failed: ${toError(error).message}`));
  }

  /** Empties the peer list; after a drop each peer gets a `peerdisconnect` (it is out of reach until the reconnect). */
  #clearView(announce: boolean): void {
    const ids = [...this.#view.keys()];
    this.#view.clear();
    if (announce) for (const privateId of ids) this.#emit('peerdisconnect', { privateId });
  }

  /** Peer events and messages are emitted through one chain, so they keep their arrival order while decryption runs. */
  #enqueue(task: () => void | Promise<void>): void {
    this.#inbox = this.#inbox.then(task).catch((error: unknown) => this.#logger.error('wss-sessions: a secure session event failed', toError(error)));
  }

  #setState(state: SecureSessionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.#emit('state', { state, previous });
  }

  /** Listener exceptions must not unwind into the socket's event loop. */
  #emit<E extends keyof SecureSessionEvents>(event: E, ...args: Parameters<SecureSessionEvents[E]>): void {
    try {
      (this.emit as (event: E, ...args: Parameters<SecureSessionEvents[E]>) => boolean)(event, ...args);
    } catch (error) {
      this.#logger.error(`wss-sessions: a '${event}' listener threw`, toError(error));
    }
  }
}
