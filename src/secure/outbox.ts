/**
 * The outbox: sends wait here in submission order (while reconnecting, up to
 * `queueSize` of them), are grouped into batches for the same recipients, sealed
 * as one envelope per batch for the current connection, and written one batch at
 * a time. Envelopes of reliable delivery (a {@link FrameSource}) are sealed and
 * written by the same loop, in turn with the batches, so that every envelope of
 * a connection reaches the relay in counter order. Spec §6, §9 "Queue" and §11.
 */
import type { WSSClient } from '../client/wss-client.js';
import { utf8Encode } from '../crypto/bytes.js';
import { QueueFullError, toError } from '../errors.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import type { Frame, Proof } from './delivery.js';
import { encodePayload, toJson } from './frames.js';
import { noPeer, noUsableKey, type PeerEntry, type PeerTable, usable } from './peers.js';
import { type LocalKeys, type SealFor, seal, type TypeLetter } from './scheme.js';

/** What a broadcast went to. */
export interface BroadcastResult {
  /** Private IDs the message was sent to. */
  recipients: string[];
  /** Peers left out because they have no usable key (identity failed, no key published). */
  skipped: string[];
}

/** A send waiting to be written. Sends that {@link joins} allows may share one envelope. */
interface Job {
  kind: TypeLetter;
  /** Direct: the recipients. Broadcast: the private IDs left out. */
  ids: string[];
  data: unknown;
  /** The data as JSON (encrypted sessions). */
  json: string;
  options: RequestOptions;
  /** It has a per-request `signal` or `timeoutMs`, or the session is plaintext: it shares no envelope. */
  alone: boolean;
  resolve: (result: BroadcastResult) => void;
  reject: (error: Error) => void;
  /** Told which peers it goes to, just before it is written (extended items: whose answer to expect). */
  writing?: ((peers: PeerEntry[]) => void) | undefined;
}

/** Envelopes of reliable delivery, made when the outbox can write them (so that they carry the latest receipts). */
export interface FrameSource {
  /** The next envelope's content for a connection with this proof, if there is one. */
  next(proof: Proof): Frame | undefined;
}

/** The connection the outbox writes to. */
export interface OutboxLink {
  readonly client: WSSClient;
  /** `null` on a plaintext session. */
  readonly keys: LocalKeys | null;
  /** With reliable delivery: the connection's session proof. */
  readonly proof: Proof | undefined;
}

/**
 * Most messages one envelope carries, and most JSON characters, so envelopes stay far
 * below relay frame limits (reliable delivery's envelopes too).
 */
export const BATCH_MESSAGES = 64;
export const BATCH_CHARS = 64 * 1024;

type Write = () => Promise<BroadcastResult>;

/** A usable peer as a recipient of {@link seal}, with its entry (`extra`) for an extended envelope. */
const sealFor = (peer: PeerEntry, extra?: Uint8Array): SealFor => ({
  pk: peer.keys.pk as string,
  kid: peer.kid as string,
  send: peer.keys.send as CryptoKey,
  extra,
});

/** Whether `next` may share `first`'s envelope: neither goes alone, same kind, same private IDs in the same order. */
function joins(first: Job, next: Job): boolean {
  const { ids } = first;
  return (
    !first.alone &&
    !next.alone &&
    next.kind === first.kind &&
    next.ids.length === ids.length &&
    next.ids.every((id, i) => id === ids[i])
  );
}

/** The send queue of one session; it outlives connections, so sends wait across a reconnect. */
export class Outbox {
  readonly #table: PeerTable;
  readonly #queueSize: number;
  /** The connection to write to, while the session is connected. */
  readonly #link: () => OutboxLink | undefined;
  readonly #source: FrameSource | undefined;
  #queue: Job[] = [];
  #pumping = false;

  constructor(table: PeerTable, queueSize: number, link: () => OutboxLink | undefined, source?: FrameSource) {
    this.#table = table;
    this.#queueSize = queueSize;
    this.#link = link;
    this.#source = source;
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
    return this.#enqueue(queueing, () => ({
      kind,
      ids,
      data,
      json: encrypted ? toJson(data) : '',
      options,
      alone: options.signal !== undefined || options.timeoutMs !== undefined || !encrypted,
    }));
  }

  /**
   * Queues unsequenced extended items (requests and answers to a peer that is not
   * reached reliably) for private ID `to`; `item` is the items' JSON. Resolves on
   * the server's acceptance. `writing` is told the peer it goes to.
   */
  submitItem(
    to: string,
    item: string,
    queueing: boolean,
    writing?: (peers: PeerEntry[]) => void,
  ): Promise<BroadcastResult> {
    return this.#enqueue(queueing, () => ({
      kind: 'x',
      ids: [to],
      data: null,
      json: item,
      options: {},
      alone: false,
      writing,
    }));
  }

  /** Rejects every queued send. */
  stop(error: Error): void {
    for (const job of this.#queue.splice(0)) job.reject(error);
  }

  /**
   * Writes the queue in order, one batch at a time, while connected: the first
   * send and those after it that may join it, within the limits. A batch
   * prepared for a connection that dropped meanwhile is thrown away and its sends
   * stay queued for the next one: nothing written is written again.
   */
  async pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    let turn = false;
    for (let link = this.#link(); link; link = this.#link()) {
      // Batches and reliable delivery's envelopes take turns, so neither waits long behind the other.
      turn = !turn;
      const frame = link.proof && (turn || !this.#queue.length) ? this.#source?.next(link.proof) : undefined;
      if (frame) {
        await this.#frame(link, frame);
        continue;
      }
      if (!this.#queue.length) break;
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

  /**
   * Queues the send `make` gives, unless the session is reconnecting (`queueing`) and
   * the queue is at its bound. What `make` throws (data that is not JSON) rejects this send only.
   */
  #enqueue(queueing: boolean, make: () => Omit<Job, 'resolve' | 'reject'>): Promise<BroadcastResult> {
    const size = this.#queueSize;
    if (queueing && this.#queue.length >= size)
      return Promise.reject(
        new QueueFullError(`send queue full (queueSize ${size}): wait for the reconnect or raise queueSize`),
      );
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...make(), resolve, reject });
      void this.pump();
    });
  }

  /** Seals a reliable delivery envelope and writes it to the recipients still current (a drop or a key change may have come meanwhile). */
  async #frame(link: OutboxLink, frame: Frame): Promise<void> {
    const recipients = frame.recipients.map(({ peer, extra }) => sealFor(peer, extra));
    try {
      const envelope = await seal(link.keys as LocalKeys, recipients, 'x', frame.plaintext);
      const live = frame.live();
      if (this.#link() !== link || !live.length) return;
      link.client.send(live, envelope).then(frame.written, (error: unknown) => frame.failed(toError(error)));
    } catch (error) {
      frame.failed(toError(error));
    }
  }

  /** The first queued send and those after it that may join it, at most BATCH_MESSAGES of them and BATCH_CHARS of JSON. */
  #nextBatch(): Job[] {
    const queue = this.#queue;
    const first = queue[0] as Job;
    let size = 1;
    let chars = first.json.length;
    for (; size < BATCH_MESSAGES; size++) {
      const next = queue[size];
      if (!next || !joins(first, next)) break;
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
    const targets = kind === 'b' ? this.#others(ids) : ids.map((id) => this.#peer(id));
    const sendable: PeerEntry[] = [];
    const skipped: string[] = [];
    for (const peer of targets) {
      if (usable(peer)) sendable.push(peer);
      else if (kind !== 'b') throw noUsableKey(peer);
      else skipped.push(peer.id);
    }
    const list = batch.length === 1 ? (batch[0] as Job).json : batch.map((job) => job.json).join(',');
    const plaintext = utf8Encode(kind === 'x' ? encodePayload([list]) : `[${list}]`);
    const envelope = sendable.length
      ? await seal(
          keys,
          sendable.map((peer) => sealFor(peer)),
          kind,
          plaintext,
        )
      : undefined;
    return async () => {
      // Private IDs are read at write time: a peer may have been renamed while this was sealed.
      const to = sendable.map((p) => p.id);
      for (const job of batch) job.writing?.(sendable);
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
    if (!peer) throw noPeer(id);
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
