import { EventEmitter } from '../util/emitter.js';
import { checkRecipients } from '../client/args.js';
import type { CloseEvent, MessageEvent } from '../client/events.js';
import { WSSClient } from '../client/wss-client.js';
import { utf8Decode, utf8Encode } from '../crypto/bytes.js';
import {
  AuthenticationError,
  ConnectionClosedError,
  DecryptError,
  InvalidArgumentError,
  InvalidStateError,
  KeyFormatError,
  NotConnectedError,
  ProtocolError,
  QueueFullError,
  ReplayError,
  toError,
} from '../errors.js';
import { hasOwn, isRecord } from '../protocol/guards.js';
import type { ConnectOptions } from '../protocol/wss.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import type { Logger } from '../util/logger.js';
import type { DecryptErrorReason, SecurePeer, SecureSessionEvents, SecureSessionState } from './events.js';
import {
  backoffDelay,
  resolveSecureOptions,
  type ResolvedSecureOptions,
  type SecureSessionOptions,
} from './options.js';
import {
  checkPeer,
  createLocalKeys,
  keyId,
  loadIdentity,
  open,
  seal,
  unusable,
  VERSION,
  type LocalIdentity,
  type LocalKeys,
  type PeerKeys,
  type TypeLetter,
} from './scheme.js';

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

/** What a broadcast went to. */
export interface BroadcastResult {
  /** Private IDs the message was sent to. */
  recipients: string[];
  /** Peers left out because they have no usable key (identity failed, no key published). */
  skipped: string[];
}

/** A peer as the session keeps it: its checked keys and the highest counter accepted from it. */
interface Peer extends PeerKeys {
  id: string;
  options: ConnectOptions;
  received: number;
}

/** A send waiting to be written. Sends with the same `batch` key may share one envelope. */
interface Job {
  kind: TypeLetter;
  /** Direct: the recipients. Broadcast: the private IDs left out. */
  ids: string[];
  data: unknown;
  /** The data as JSON (encrypted sessions). */
  json: string;
  options: RequestOptions;
  /** Sends with equal keys may share an envelope. */
  batch: unknown;
  resolve: (result: BroadcastResult) => void;
  reject: (error: Error) => void;
}

/** Most messages one envelope carries, and most JSON characters, so batches stay far below relay frame limits. */
const BATCH_MESSAGES = 64;
const BATCH_CHARS = 64 * 1024;

const isCounter = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;

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
  /** The client's logger (silent by default). */
  readonly #logger: Logger;
  /** Peers by private ID, changed only by tasks of the inbox, in arrival order. */
  readonly #peers = new Map<string, Peer>();
  /** What `peers` shows: a frozen summary of each of {@link #peers}. */
  readonly #view = new Map<string, SecurePeer>();
  #queue: Job[] = [];
  #pumping = false;
  #state: SecureSessionState = 'disconnected';
  /** The current connection's client (a reconnect makes a new one) and its keys (`null` with `encryption: false`). */
  #client: WSSClient | undefined;
  #keys: LocalKeys | null | undefined;
  #identity: LocalIdentity | undefined;
  /** The private ID last set with `setPrivateId`, restored on every connect. */
  #desiredPrivateId: string | undefined;
  #privateId: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inbox: Promise<void> = Promise.resolve();
  #epoch = 0;
  #closing: Promise<void> = this.#inbox;

  /** @throws {InvalidArgumentError} for a bad option or combination, naming it. */
  constructor(options: SecureSessionOptions) {
    super();
    this.#options = resolveSecureOptions(options);
    this.#logger = this.#options.logger;
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
    return this.#identity?.fingerprint ?? null;
  }

  /**
   * Safety number to compare out of band. With a peer's private ID: the pair's
   * number, the same at both ends unless a relay replaced a key. Without: this
   * connection's own key. `null` while not connected, for an unknown or
   * unusable peer, and on a plaintext session.
   */
  fingerprint(privateId?: string): string | null {
    if (this.#state !== 'connected') return null;
    return (privateId === undefined ? this.#keys : this.#peers.get(privateId))?.fingerprint ?? null;
  }

  /**
   * Connects, publishes this connection's key and agrees keys with every peer.
   * A failed first connect rejects (no retries); drops after that reconnect.
   * @throws {InvalidStateError} unless the state is `'disconnected'`.
   */
  async connect(): Promise<SecureConnectInfo> {
    if (this.#state !== 'disconnected')
      throw new InvalidStateError(`connect() needs state 'disconnected', but it is '${this.#state}'`);
    const epoch = this.#epoch;
    this.#setState('connecting');
    try {
      return { privateId: await this.#establish(false), peers: [...this.#peers.keys()] };
    } catch (error) {
      if (epoch === this.#epoch) {
        void this.#discard();
        this.#setState('disconnected');
      }
      throw error;
    }
  }

  /**
   * Sends to one or more peers, encrypted for each. Resolves when the server
   * accepted it (not delivered). While reconnecting it waits in the queue and
   * is encrypted with the new keys.
   * @throws (rejects) {InvalidArgumentError} for an unknown peer or data that is not JSON,
   *   {AuthenticationError} for a peer without a usable key, {QueueFullError}, {NotConnectedError}.
   */
  async send(to: string | readonly string[], data: unknown, options: RequestOptions = {}): Promise<void> {
    await this.#submit('send', 'd', checkRecipients('to', to, false), data, options);
  }

  /**
   * Sends to every usable peer but those in `exclude`. Encrypted, it travels
   * as one direct `WSS_Send` to exactly the recipients, each able to decrypt
   * only its own key wrap; receivers see `type: 'broadcast'`.
   * @returns who it went to and which peers were skipped (no usable key).
   */
  async broadcast(data: unknown, options: SecureBroadcastOptions = {}): Promise<BroadcastResult> {
    return this.#submit(
      'broadcast',
      'b',
      options.exclude === undefined ? [] : checkRecipients('exclude', options.exclude, true),
      data,
      options,
    );
  }

  /**
   * Changes this session's private ID; peers see a `peerpid` event. The ID is
   * restored after every reconnect (and on a later `connect()`).
   * @throws (rejects) {NotConnectedError} unless the state is `'connected'`; `RpcError` when the server refuses the ID.
   */
  async setPrivateId(privateId: string, options: RequestOptions = {}): Promise<string> {
    // The client checks the ID.
    const client = this.#connected('setPrivateId');
    const result = await client.setPrivateId(privateId, options);
    this.#desiredPrivateId = result;
    if (this.#client === client) this.#setPrivateIdValue(result);
    return result;
  }

  /** Asks the server for this session's private ID. */
  async getPrivateId(options: RequestOptions = {}): Promise<string> {
    return this.#connected('getPrivateId').getPrivateId(options);
  }

  /**
   * Closes the session and stops reconnecting: no timer, listener or socket is
   * left. Queued sends reject with `ConnectionClosedError`. Safe in any state.
   */
  disconnect(): Promise<void> {
    // 'disconnecting' is this session's state exactly while a shutdown runs.
    if (this.#state !== 'disconnecting')
      this.#closing = this.#state === 'disconnected' ? this.#inbox : this.#shutdown();
    return this.#closing;
  }

  /** The current client, for an operation that needs state `'connected'`. */
  #connected(operation: string): WSSClient {
    // A 'close' listener runs while the state still reads 'connected' but the client is already let go of.
    const client = this.#client;
    if (this.#state !== 'connected' || !client) throw new NotConnectedError(operation, this.#state);
    return client;
  }

  async #shutdown(): Promise<void> {
    this.#epoch++;
    const wasUp = this.#state === 'connected';
    this.#setState('disconnecting');
    clearTimeout(this.#timer);
    await this.#discard(false);
    await this.#inbox;
    // Nothing was written meanwhile (the state is not 'connected'), so the queue is still what it was.
    this.#stop(new ConnectionClosedError('send', 1000, 'disconnect() was called'));
    if (wasUp) this.#emit('close', { code: 1000, reason: 'Session terminated by client', requested: true });
  }

  /**
   * Connects one client with fresh keys, restores the private ID and waits
   * until every peer it listed has been checked; then the session is usable.
   * @returns the private ID.
   */
  async #establish(reconnecting: boolean): Promise<string> {
    const epoch = this.#epoch;
    const { encryption, info, client: clientOptions, identity } = this.#options;
    // The identity's public half is exported once, on the first connect that gets that far, and kept.
    if (encryption && identity) this.#identity ??= await loadIdentity(identity);
    const keys = encryption ? await createLocalKeys(info, this.#identity) : null;
    // After each wait: disconnect() may have made this attempt stale, or the socket closed.
    const check = (): void => {
      if (epoch !== this.#epoch || this.#client !== client || client.state !== 'connected')
        throw new ConnectionClosedError('connect', undefined, 'closed while connecting');
    };
    // Stale already: check() throws before it reads `client`.
    if (epoch !== this.#epoch) check();
    const client = new WSSClient({
      ...clientOptions,
      connectOptions: { ...clientOptions.connectOptions, ...(keys && { e2e: keys.advert }) },
    });
    this.#client = client;
    this.#keys = keys;
    this.#listen(client, keys, reconnecting);
    await client.connect();
    check();
    const desired = this.#desiredPrivateId;
    if (desired && client.privateId !== desired) {
      await client.setPrivateId(desired);
      check();
    }
    // Every peer known so far has a task in the inbox that waits for its keys.
    await this.#inbox;
    check();
    this.#setState('connected');
    this.#setPrivateIdValue(client.privateId as string);
    void this.#pump();
    return client.privateId as string;
  }

  /** Turns one client's events into this session's, through the inbox; `keys` are the connection's (`null`: plaintext). */
  #listen(client: WSSClient, keys: LocalKeys | null, reconnecting: boolean): void {
    // The peers of the `WSS_Connect` result, taken before any push that follows it.
    client.on('state', ({ state }) => {
      if (state !== 'connected') return;
      for (const [id, options] of client.peers) this.#addPeer(keys, id, options, reconnecting);
    });
    client.on('peerconnect', (e) => this.#addPeer(keys, e.privateId, e.options, true));
    client.on('message', (e) => this.#onMessage(keys, e));
    client.on('update', (e) => this.#enqueue(() => this.#emit('update', e)));
    client.on('peerdisconnect', ({ privateId }) => this.#enqueue(() => this.#left(privateId)));
    client.on('peerpid', ({ oldPrivateId, newPrivateId }) =>
      this.#enqueue(() => this.#renamed(oldPrivateId, newPrivateId)),
    );
    client.on('close', (e) => this.#onClose(e));
    client.on('error', (e) => this.#emit('error', e));
  }

  #setPrivateIdValue(privateId: string): void {
    if (privateId === this.#privateId) return;
    this.#privateId = privateId;
    this.#emit('privateid', { privateId });
  }

  /** Lets go of the current connection (listeners off, socket closed) and of its peers, announcing their departure unless `announce` is false. */
  #discard(announce = true): Promise<void> | undefined {
    const client = this.#client;
    this.#client = undefined;
    this.#enqueue(() => {
      for (const privateId of this.#peers.keys()) this.#left(privateId, announce);
    });
    // WSSClient.disconnect() never rejects: it resolves once the socket is closed.
    return client?.removeAllListeners().disconnect();
  }

  /** The socket closed. A client that was let go of has no listeners, so this is the current one; closing while connecting fails the connect instead. */
  #onClose(info: CloseEvent): void {
    if (this.#state !== 'connected') return;
    void this.#discard();
    this.#emit('close', info);
    const closed = (operation: string): ConnectionClosedError =>
      new ConnectionClosedError(operation, info.code, info.reason);
    if (this.#options.reconnect.enabled) {
      this.#setState('reconnecting');
      this.#schedule(1, this.#epoch, closed('connect'));
    } else this.#stop(closed('send'));
  }

  /** Ends the session: queued sends reject. */
  #stop(error: Error): void {
    for (const job of this.#queue.splice(0)) job.reject(error);
    this.#setState('disconnected');
  }

  #schedule(attempt: number, epoch: number, lastError: Error): void {
    const current = (): boolean => epoch === this.#epoch && this.#state === 'reconnecting';
    if (!current()) return;
    const reconnect = this.#options.reconnect;
    if (attempt > reconnect.maxRetries) {
      this.#stop(new ConnectionClosedError('send', undefined, 'reconnecting gave up'));
      this.#emit('reconnect_failed', { attempts: attempt - 1, error: lastError });
      return;
    }
    const delay = backoffDelay(attempt, reconnect);
    this.#emit('reconnecting', { attempt, delay });
    // A listener may have called disconnect().
    if (!current()) return;
    this.#timer = setTimeout(
      () =>
        this.#establish(true).then(
          (privateId) => this.#emit('reconnected', { attempts: attempt, privateId }),
          (error: unknown) => {
            if (epoch !== this.#epoch) return;
            void this.#discard();
            this.#logger.debug('wss-sessions: reconnect failed', error);
            this.#schedule(attempt + 1, epoch, toError(error));
          },
        ),
      delay,
    );
  }

  /**
   * A peer from the `WSS_Connect` result (`announce` after a reconnect) or a
   * push. Its keys are checked at once; it joins the peer list in arrival order.
   */
  #addPeer(own: LocalKeys | null, privateId: string, options: ConnectOptions, announce: boolean): void {
    const checking = own && checkPeer(privateId, options.e2e, own, this.#options);
    this.#enqueue(async () => {
      let keys = (await checking) ?? unusable();
      const { pk } = keys;
      const old = this.#peers.get(privateId);
      // The same key announced again changes nothing.
      if (old?.pk === pk) return this.#logger.debug(`wss-sessions: peer ${privateId} announced again, same key`);
      // One key, one peer: a key that is this session's own or another peer's would let messages be reflected or counted twice.
      if (pk && (pk === own?.pk || [...this.#peers.values()].some((p) => p.pk === pk))) {
        keys = unusable(null, new KeyFormatError(`peer ${privateId}: key in use`));
      }
      const { error } = keys;
      const summary = this.#putPeer({ ...keys, id: privateId, options, received: 0 });
      if (announce && !old) this.#emit('peerconnect', { privateId, options });
      if (own)
        this.#emit('peerkey', {
          ...summary,
          ...(old && { previousFingerprint: old.fingerprint }),
          ...(error && { error }),
        });
    });
  }

  /** Lists a peer. @returns what `peerkey` reports of it. */
  #putPeer(peer: Peer): Pick<SecurePeer, 'privateId' | 'fingerprint' | 'verified' | 'identityFingerprint'> {
    const { id: privateId, options, fingerprint, verified, identityFingerprint } = peer;
    const summary = { privateId, fingerprint, verified, identityFingerprint };
    this.#peers.set(privateId, peer);
    this.#view.set(privateId, Object.freeze({ ...summary, options, usable: !this.encrypted || !!peer.send }));
    return summary;
  }

  /** A peer changed its private ID. */
  #renamed(oldPrivateId: string, newPrivateId: string): void {
    const peer = this.#peers.get(oldPrivateId);
    // Renamed in place: a batch sealed meanwhile reads the new ID when it is written.
    if (peer) {
      this.#left(oldPrivateId, false);
      this.#putPeer(Object.assign(peer, { id: newPrivateId }));
    }
    this.#emit('peerpid', { oldPrivateId, newPrivateId });
  }

  /** Forgets a peer; announces it gone (unless `announce` is false) if it was listed. */
  #left(privateId: string, announce = true): void {
    this.#peers.delete(privateId);
    if (!this.#view.delete(privateId)) this.#logger.debug(`wss-sessions: peer ${privateId} left, but was not listed`);
    else if (announce) this.#emit('peerdisconnect', { privateId });
  }

  /**
   * Delivers one pushed message: plaintext sessions as is; encrypted ones
   * authenticated and decrypted, checking first what can be checked without
   * crypto (spec §5 gives the order), else one `decrypt_error`. Runs in the
   * inbox, so the counter it advances is the one the next message is checked against.
   */
  #onMessage(own: LocalKeys | null, { type, from, data, raw }: MessageEvent): void {
    this.#enqueue(async () => {
      if (!own) return this.#emit('message', { type, from, data, encrypted: false, raw });
      // A drop found before any decryption is a ProtocolError naming the sender and the reason (the frame travels with the event).
      const drop = (
        reason: DecryptErrorReason,
        error: Error = new ProtocolError(`message from ${from}: ${reason}`),
      ): void => this.#emit('decrypt_error', { reason, from, type, error, raw });
      if (!isRecord(data) || !hasOwn(data, 'e2e')) return drop('plaintext');
      const { e2e, t, n, ct, k } = data;
      if (e2e !== VERSION || (t !== 'b' && t !== 'd') || !isCounter(n) || typeof ct !== 'string' || !isRecord(k))
        return drop('malformed');
      const peer = this.#peers.get(from);
      if (!peer) return drop('unknown-sender');
      // A key id is base64, so it never names an inherited member of a parsed object.
      const wrap = k[keyId(own.pk)];
      if (typeof wrap !== 'string') return drop(wrap === undefined ? 'not-for-us' : 'malformed');
      if (!peer.receive) return drop('untrusted-peer', peer.error as Error);
      if (n <= peer.received) return drop('replay', new ReplayError(`message from ${from}: replay`));
      let items: unknown;
      try {
        items = JSON.parse(utf8Decode(await open(peer.receive, t, n, ct, wrap)));
      } catch (error) {
        if (error instanceof DecryptError) return drop('authentication', error);
        // Not UTF-8 or not JSON: reported below with the other shapes that are not a list of messages.
      }
      if (!Array.isArray(items) || !items.length) return drop('malformed');
      peer.received = n;
      for (const item of items)
        this.#emit('message', { type: t === 'b' ? 'broadcast' : 'direct', from, data: item, encrypted: true, raw });
    });
  }

  /** Queues a send; encrypted sessions serialise the data first, so bad data rejects its own send only. */
  async #submit(
    operation: string,
    kind: TypeLetter,
    ids: string[],
    data: unknown,
    options: RequestOptions,
  ): Promise<BroadcastResult> {
    const state = this.#state;
    const { encryption, queueSize } = this.#options;
    if (state !== 'connected' && state !== 'reconnecting') throw new NotConnectedError(operation, state);
    if (state !== 'connected' && this.#queue.length >= queueSize)
      throw new QueueFullError(`send queue full (queueSize ${queueSize}): wait for the reconnect or raise queueSize`);
    let json: string | undefined;
    try {
      json = encryption ? JSON.stringify(data ?? null) : '';
    } catch {
      // BigInt and cycles throw; functions and symbols give undefined. Both are reported below.
    }
    if (json === undefined) throw new InvalidArgumentError('data must be JSON-serialisable');
    // A send that must go alone gets a batch key of its own: an object equals no other.
    const alone = options.signal !== undefined || options.timeoutMs !== undefined || !encryption;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        kind,
        ids,
        data,
        json,
        options,
        batch: alone ? {} : kind + JSON.stringify(ids),
        resolve,
        reject,
      });
      void this.#pump();
    });
  }

  /**
   * Writes the queue in order, one batch at a time, while connected: the
   * first send and those after it with the same batch key, within the limits.
   * A batch prepared for a connection that dropped meanwhile is thrown away,
   * its sends stay queued for the next one: nothing written is written again.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    while (this.#state === 'connected' && this.#queue.length) {
      const client = this.#client as WSSClient;
      const batch = this.#nextBatch();
      // A batch that cannot be sent (unknown recipient, no usable key) rejects when written, like one the server refuses.
      const write = await this.#prepare(client, batch).catch((error: unknown) => () => Promise.reject(error));
      if (this.#client !== client || this.#state !== 'connected') continue;
      this.#queue.splice(0, batch.length);
      write().then(
        (result) => {
          for (const job of batch) job.resolve(result);
        },
        (error: unknown) => {
          for (const job of batch) job.reject(toError(error));
        },
      );
    }
    this.#pumping = false;
  }

  /** The first queued send and those after it with its batch key, at most BATCH_MESSAGES of them and BATCH_CHARS of JSON. */
  #nextBatch(): Job[] {
    const queue = this.#queue;
    const { batch, json } = queue[0] as Job;
    let size = 1;
    let chars = json.length;
    for (; size < BATCH_MESSAGES; size++) {
      const next = queue[size];
      if (!next || next.batch !== batch) break;
      chars += next.json.length;
      if (chars > BATCH_CHARS) break;
    }
    return queue.slice(0, size);
  }

  /**
   * Resolves a batch's recipients and seals it (encrypted) for the current connection.
   * @returns the write: it sends the frame at once and resolves on the server's answer.
   */
  async #prepare(client: WSSClient, batch: Job[]): Promise<() => Promise<BroadcastResult>> {
    const keys = this.#keys;
    const { kind, ids, data, options } = batch[0] as Job;
    const direct = kind === 'd';
    // Plaintext sessions send to any private ID (the server answers for unknown ones) and use the server's own broadcast.
    const targets = direct
      ? ids.map(
          (id) => this.#peers.get(id) ?? (keys ? fail(new InvalidArgumentError(`no peer '${id}'`)) : ({ id } as Peer)),
        )
      : [...this.#peers.values()].filter((p) => !ids.includes(p.id));
    const usable = targets.filter((p): p is Peer & { pk: string; send: CryptoKey } => !keys || !!p.send);
    const skipped = targets.filter((p) => !usable.includes(p as never));
    if (direct && skipped[0])
      throw new AuthenticationError(`peer ${skipped[0].id}: no usable key`, { cause: skipped[0].error });
    const envelope =
      keys && usable[0] && (await seal(keys, usable, kind, utf8Encode(`[${batch.map((job) => job.json).join(',')}]`)));
    return async () => {
      // Private IDs are read at write time: a peer may have been renamed while this was sealed.
      const recipients = usable.map((p) => p.id);
      await (keys
        ? envelope && client.send(recipients, envelope, options)
        : direct
          ? client.send(ids, data, options)
          : client.broadcast(data, { ...options, ...(ids[0] && { exclude: ids }) }));
      return { recipients, skipped: skipped.map((p) => p.id) };
    };
  }

  /** Peer events and messages go through one chain, so they keep their arrival order while keys are checked and messages decrypted. */
  #enqueue(task: () => void | Promise<void>): void {
    this.#inbox = this.#inbox
      .then(task)
      .catch((error: unknown) => this.#logger.error('wss-sessions: event failed', error));
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

function fail(error: Error): never {
  throw error;
}
