/**
 * The outbox: sends wait here in submission order (while reconnecting, up to
 * `queueSize` of them), are grouped into batches for the same recipients, sealed
 * as one envelope per batch for the current connection, and written one batch at
 * a time. Spec §6 and §9 "Queue".
 */
import type { WSSClient } from '../client/wss-client.js';
import { utf8Encode } from '../crypto/bytes.js';
import { AuthenticationError, InvalidArgumentError, QueueFullError, toError } from '../errors.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import type { PeerEntry, PeerTable } from './peers.js';
import { type LocalKeys, seal, type TypeLetter } from './scheme.js';

/** What a broadcast went to. */
export interface BroadcastResult {
  /** Private IDs the message was sent to. */
  recipients: string[];
  /** Peers left out because they have no usable key (identity failed, no key published). */
  skipped: string[];
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
  batch: unknown;
  resolve: (result: BroadcastResult) => void;
  reject: (error: Error) => void;
}

/** The connection the outbox writes to. */
export interface OutboxLink {
  readonly client: WSSClient;
  /** `null` on a plaintext session. */
  readonly keys: LocalKeys | null;
}

/** Most messages one envelope carries, and most JSON characters, so batches stay far below relay frame limits. */
const BATCH_MESSAGES = 64;
const BATCH_CHARS = 64 * 1024;

type Write = () => Promise<BroadcastResult>;

/** The send queue of one session; it outlives connections, so sends wait across a reconnect. */
export class Outbox {
  readonly #table: PeerTable;
  readonly #queueSize: number;
  /** The connection to write to, while the session is connected. */
  readonly #link: () => OutboxLink | undefined;
  #queue: Job[] = [];
  #pumping = false;

  constructor(table: PeerTable, queueSize: number, link: () => OutboxLink | undefined) {
    this.#table = table;
    this.#queueSize = queueSize;
    this.#link = link;
  }

  /**
   * Queues a send: `kind` `'d'` to the private IDs `ids`, `'b'` to every peer but them.
   * Encrypted sessions serialise the data first, so bad data rejects its own send only.
   * `queueing`: the session is reconnecting, and the queue's bound applies.
   */
  submit(
    kind: TypeLetter,
    ids: string[],
    data: unknown,
    options: RequestOptions,
    encrypted: boolean,
    queueing: boolean,
  ): Promise<BroadcastResult> {
    const size = this.#queueSize;
    if (queueing && this.#queue.length >= size)
      return Promise.reject(
        new QueueFullError(`send queue full (queueSize ${size}): wait for the reconnect or raise queueSize`),
      );
    let json: string | undefined;
    try {
      json = encrypted ? JSON.stringify(data ?? null) : '';
    } catch {
      // BigInt and cycles throw; functions and symbols give undefined. Both are reported below.
    }
    if (json === undefined) return Promise.reject(new InvalidArgumentError('data must be JSON-serialisable'));
    // A send that must go alone gets a batch key of its own: an object equals no other.
    const alone = options.signal !== undefined || options.timeoutMs !== undefined || !encrypted;
    const batch = alone ? {} : kind + JSON.stringify(ids);
    return new Promise((resolve, reject) => {
      this.#queue.push({ kind, ids, data, json, options, batch, resolve, reject });
      void this.pump();
    });
  }

  /** Rejects every queued send. */
  stop(error: Error): void {
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  /**
   * Writes the queue in order, one batch at a time, while connected: the first
   * send and those after it with the same batch key, within the limits. A batch
   * prepared for a connection that dropped meanwhile is thrown away and its sends
   * stay queued for the next one: nothing written is written again.
   */
  async pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    for (let link = this.#link(); link && this.#queue.length; link = this.#link()) {
      const batch = this.#nextBatch();
      let write: Write;
      try {
        write = await this.#prepare(link, batch);
      } catch (error) {
        // A batch that cannot be sent (unknown recipient, no usable key) rejects when written, like one the server refuses.
        write = () => Promise.reject(error);
      }
      if (this.#link() !== link) continue;
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
   * Resolves a batch's recipients and seals it (encrypted) for `link`.
   * @returns the write: it sends the frame at once and resolves on the server's answer.
   */
  async #prepare({ client, keys }: OutboxLink, batch: Job[]): Promise<Write> {
    const { kind, ids, data, options } = batch[0] as Job;
    if (!keys) return this.#plain(client, kind, ids, data, options);
    const targets = kind === 'd' ? ids.map((id) => this.#peer(id)) : this.#others(ids);
    const usable: PeerEntry[] = [];
    const skipped: string[] = [];
    for (const peer of targets) {
      if (peer.keys.send && peer.kid) usable.push(peer);
      else if (kind === 'd')
        throw new AuthenticationError(`peer ${peer.id}: no usable key`, { cause: peer.keys.error ?? undefined });
      else skipped.push(peer.id);
    }
    const recipients = usable.map(({ keys, kid }) => ({
      pk: keys.pk as string,
      kid: kid as string,
      send: keys.send as CryptoKey,
    }));
    const plaintext = utf8Encode(
      batch.length === 1 ? `[${(batch[0] as Job).json}]` : `[${batch.map((job) => job.json).join(',')}]`,
    );
    const envelope = usable.length ? await seal(keys, recipients, kind, plaintext) : undefined;
    return async () => {
      // Private IDs are read at write time: a peer may have been renamed while this was sealed.
      const to = usable.map((p) => p.id);
      if (envelope) await client.send(to, envelope, options);
      return { recipients: to, skipped };
    };
  }

  /** A plaintext session sends to any private ID (the server answers for unknown ones) and uses the server's own broadcast. */
  #plain(client: WSSClient, kind: TypeLetter, ids: string[], data: unknown, options: RequestOptions): Write {
    if (kind === 'd')
      return async () => {
        await client.send(ids, data, options);
        return { recipients: ids, skipped: [] };
      };
    const recipients = this.#others(ids).map((p) => p.id);
    const exclude = ids[0] ? { exclude: ids } : undefined;
    return async () => {
      await client.broadcast(data, { ...options, ...exclude });
      return { recipients, skipped: [] };
    };
  }

  #peer(id: string): PeerEntry {
    const peer = this.#table.get(id);
    if (!peer) throw new InvalidArgumentError(`no peer '${id}'`);
    return peer;
  }

  /** Every listed peer but those in `exclude`. */
  #others(exclude: string[]): PeerEntry[] {
    const left = new Set(exclude);
    const out: PeerEntry[] = [];
    for (const peer of this.#table.values()) if (!left.has(peer.id)) out.push(peer);
    return out;
  }
}
