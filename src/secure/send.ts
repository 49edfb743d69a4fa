/**
 * Preparing a send for one connection: recipients resolved and counters
 * allocated synchronously (so they reach the wire in order), then sealed.
 */
import type { WSSClient } from '../client/wss-client.js';
import { utf8Encode } from '../crypto/bytes.js';
import { AuthenticationError, InvalidArgumentError } from '../errors.js';
import type { RequestOptions } from '../transport/rpc-channel.js';
import { sealMulti, sealSingle, type SealTarget } from './cipher.js';
import type { LocalKeys } from './local-keys.js';
import type { PeerEntry, PeerTable } from './peer-table.js';
import { MAX_COUNTER, type MessageType } from './scheme.js';

/** A send as the application asked for it (before any connection-specific work). */
export interface Outgoing {
  kind: MessageType;
  /** Direct: the recipients. Broadcast: the private IDs left out. */
  ids: string[];
  data: unknown;
  options: RequestOptions;
  /** The data as JSON text (encrypted sessions; checked when the send is made). */
  json?: string;
  /** Sends with the same key may share one envelope: encrypted, same recipients, no per-request options. */
  batchKey?: string;
}

/** Most messages one envelope carries. */
export const MAX_BATCH_MESSAGES = 64;
/** Most JSON characters one envelope carries, so batches stay far below relay frame limits. */
export const MAX_BATCH_CHARS = 64 * 1024;

/**
 * A send request. Encrypted sessions serialise the data up front, so a bad
 * value rejects its own send only.
 * @throws {InvalidArgumentError} when the data cannot be serialised.
 */
export function outgoing(kind: MessageType, ids: string[], data: unknown, options: RequestOptions, encrypted: boolean): Outgoing {
  if (!encrypted) return { kind, ids, data, options };
  const alone = options.signal !== undefined || options.timeoutMs !== undefined;
  return { kind, ids, data, options, json: encodeData(data), batchKey: alone ? undefined : kind + JSON.stringify(ids) };
}

/** Whether `next` may share an envelope with `batch` (see {@link Outgoing.batchKey}), within the size limits. */
export function canJoinBatch(batch: readonly Outgoing[], next: Outgoing): boolean {
  if (next.batchKey === undefined || next.batchKey !== batch[0]?.batchKey || batch.length >= MAX_BATCH_MESSAGES) return false;
  let chars = (next.json as string).length;
  for (const request of batch) chars += (request.json as string).length;
  return chars <= MAX_BATCH_CHARS;
}

/** What a broadcast went to. */
export interface BroadcastResult {
  /** Private IDs the message was sent to. */
  recipients: string[];
  /** Peers left out because they have no usable key (identity failed, no key published). */
  skipped: string[];
}

/** A prepared send: calling it writes the frame at once and resolves on the server's answer. */
export type Write = () => Promise<BroadcastResult>;

/**
 * JSON text of the data; `undefined` travels as `null`, as on the plaintext wire.
 * @throws {InvalidArgumentError} when the data cannot be serialised.
 */
export function encodeData(data: unknown): string {
  let cause: unknown;
  try {
    const text = JSON.stringify(data ?? null);
    if (text !== undefined) return text;
  } catch (error) {
    cause = error;
  }
  throw new InvalidArgumentError('message data must be JSON-serialisable (no functions, symbols, cycles or BigInt)', { cause });
}

const ids = (entries: PeerEntry[]): string[] => entries.map((e) => e.privateId);

/**
 * Encrypts a batch of sends to the same recipients (see {@link canJoinBatch})
 * for this connection's peers: one envelope whose plaintext is the JSON array
 * of their data.
 */
export async function prepareEncrypted(client: WSSClient, local: LocalKeys, table: PeerTable, batch: Outgoing[]): Promise<Write> {
  const { kind, ids: list, options } = batch[0] as Outgoing;
  const excluded = new Set(list);
  const targets =
    kind === 'broadcast'
      ? [...table.entries()].filter((e) => !excluded.has(e.privateId))
      : list.map((id) => table.get(id) ?? fail(new InvalidArgumentError(`no connected peer has private ID '${id.slice(0, 128)}'; check 'peers' or wait for 'peerconnect'`)));
  const plaintext = utf8Encode(`[${batch.map((r) => r.json).join(',')}]`);
  const counters = targets.map((e) => (e.sendCounter < MAX_COUNTER ? ++e.sendCounter : fail(new InvalidArgumentError(`the message counter for peer ${e.privateId} is exhausted; reconnect for new keys`))));
  await Promise.all(targets.map((e) => e.ready));
  const seal: SealTarget[] = [];
  const usable: PeerEntry[] = [];
  const skipped: PeerEntry[] = [];
  targets.forEach((e, i) => {
    const keys = e.security?.keys;
    if (!keys || !e.advert || !e.kid) return void skipped.push(e);
    usable.push(e);
    seal.push({ publicRaw: e.advert.publicRaw, kid: e.kid, sendKey: keys.send, n: counters[i] as number });
  });
  const first = skipped[0];
  if (kind === 'direct' && first) throw new AuthenticationError(`peer ${first.privateId} cannot receive encrypted messages: ${first.security?.error?.message ?? 'it has no usable key'}`);
  if (usable.length === 0) return async () => ({ recipients: [], skipped: ids(skipped) });
  const envelope = seal.length === 1 ? await sealSingle(local, seal[0] as SealTarget, kind, plaintext) : await sealMulti(local, seal, kind, plaintext);
  return async () => {
    // Private IDs are read at write time: a peer may have been renamed while this was sealed.
    const recipients = ids(usable);
    await client.send(recipients, envelope, options);
    return { recipients, skipped: ids(skipped) };
  };
}

function fail(error: Error): never {
  throw error;
}

/** A plaintext send (`encryption: false`; never batched): the server's own broadcast and direct messages. */
export async function preparePlain(client: WSSClient, table: PeerTable, [request]: Outgoing[]): Promise<Write> {
  const { kind, ids: list, data, options } = request as Outgoing;
  return async () => {
    if (kind === 'direct') {
      await client.send(list, data, options);
      return { recipients: list, skipped: [] };
    }
    const excluded = new Set(list);
    const recipients = ids([...table.entries()]).filter((id) => !excluded.has(id));
    await client.broadcast(data, { ...options, ...(list.length > 0 ? { exclude: list } : {}) });
    return { recipients, skipped: [] };
  };
}
