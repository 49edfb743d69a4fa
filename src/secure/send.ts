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
import { MAX_COUNTER } from './scheme.js';

/** A send as the application asked for it (before any connection-specific work). */
export type Outgoing = (
  | { kind: 'direct'; to: string[]; data: unknown; options: RequestOptions }
  | { kind: 'broadcast'; exclude: string[]; data: unknown; options: RequestOptions }
) & {
  /** The data as JSON text (encrypted sessions; checked when the send is made). */
  json?: string;
};

/** Most messages one envelope carries. */
export const MAX_BATCH_MESSAGES = 64;
/** Most JSON characters one envelope carries, so batches stay far below relay frame limits. */
export const MAX_BATCH_CHARS = 64 * 1024;

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((id, i) => id === b[i]);

/**
 * Whether `next` may share an envelope with `batch`: an encrypted send to the
 * same recipients, without per-request options, within the size limits.
 */
export function canJoinBatch(batch: readonly Outgoing[], next: Outgoing): boolean {
  const first = batch[0] as Outgoing;
  if (batch.length >= MAX_BATCH_MESSAGES || next.json === undefined || first.json === undefined) return false;
  if (hasRequestOptions(first) || hasRequestOptions(next)) return false;
  if (first.kind === 'direct' ? next.kind !== 'direct' || !sameList(first.to, next.to) : next.kind !== 'broadcast' || !sameList(first.exclude, next.exclude)) return false;
  let chars = next.json.length;
  for (const request of batch) chars += (request.json as string).length;
  return chars <= MAX_BATCH_CHARS;
}

function hasRequestOptions(request: Outgoing): boolean {
  return request.options.signal !== undefined || request.options.timeoutMs !== undefined;
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
  let text: string | undefined;
  try {
    text = JSON.stringify(data === undefined ? null : data);
  } catch (cause) {
    throw new InvalidArgumentError('message data must be JSON-serialisable (no cycles, no BigInt)', { cause });
  }
  if (text === undefined) throw new InvalidArgumentError(`message data must be JSON-serialisable, got a ${typeof data}`);
  return text;
}

function directTargets(table: PeerTable, to: readonly string[]): PeerEntry[] {
  return to.map((privateId) => {
    const entry = table.get(privateId);
    if (!entry) throw new InvalidArgumentError(`no connected peer has private ID '${privateId.slice(0, 128)}'; check 'peers' or wait for 'peerconnect'`);
    return entry;
  });
}

function nextCounter(entry: PeerEntry): number {
  if (entry.sendCounter >= MAX_COUNTER) throw new InvalidArgumentError(`the message counter for peer ${entry.privateId} is exhausted; reconnect for new keys`);
  return ++entry.sendCounter;
}

/**
 * Encrypts a batch of sends to the same recipients (see {@link canJoinBatch})
 * for this connection's peers: one envelope whose plaintext is the JSON array
 * of their data.
 */
export async function prepareEncrypted(client: WSSClient, local: LocalKeys, table: PeerTable, batch: Outgoing[]): Promise<Write> {
  const request = batch[0] as Outgoing;
  const excluded = new Set(request.kind === 'broadcast' ? request.exclude : []);
  const targets = request.kind === 'direct' ? directTargets(table, request.to) : [...table.entries()].filter((e) => !excluded.has(e.privateId));
  const plaintext = utf8Encode(`[${batch.map((r) => r.json ?? encodeData(r.data)).join(',')}]`);
  const counters = targets.map(nextCounter);
  const securities = await Promise.all(targets.map((e) => e.ready));
  const sealTargets: SealTarget[] = [];
  const usable: PeerEntry[] = [];
  const skipped: PeerEntry[] = [];
  targets.forEach((entry, i) => {
    const keys = securities[i]?.keys;
    if (!keys || !entry.advert) return void skipped.push(entry);
    usable.push(entry);
    sealTargets.push({ publicRaw: entry.advert.publicRaw, kid: entry.kid as string, sendKey: keys.send, n: counters[i] as number });
  });
  if (request.kind === 'direct' && skipped.length > 0) {
    const first = skipped[0] as PeerEntry;
    throw new AuthenticationError(`peer ${first.privateId} cannot receive encrypted messages: ${first.security?.error?.message ?? 'it has no usable key'}`);
  }
  const skippedIds = (): string[] => skipped.map((e) => e.privateId);
  if (usable.length === 0) return () => Promise.resolve({ recipients: [], skipped: skippedIds() });
  const type = request.kind === 'direct' ? 'direct' : 'broadcast';
  const envelope = sealTargets.length === 1 ? await sealSingle(local, sealTargets[0] as SealTarget, type, plaintext) : await sealMulti(local, sealTargets, type, plaintext);
  return async () => {
    // Private IDs are read at write time: a peer may have been renamed while this was sealed.
    const recipients = usable.map((e) => e.privateId);
    await client.send(recipients, envelope, request.options);
    return { recipients, skipped: skippedIds() };
  };
}

/** A plaintext send (`encryption: false`; never batched): the server's own broadcast and direct messages. */
export async function preparePlain(client: WSSClient, table: PeerTable, batch: Outgoing[]): Promise<Write> {
  const request = batch[0] as Outgoing;
  if (request.kind === 'direct') {
    const recipients = request.to;
    return async () => {
      await client.send(recipients, request.data, request.options);
      return { recipients, skipped: [] };
    };
  }
  const { exclude } = request;
  return async () => {
    const excluded = new Set(exclude);
    const recipients = Array.from(table.entries(), (e) => e.privateId).filter((id) => !excluded.has(id));
    await client.broadcast(request.data, { ...request.options, ...(exclude.length > 0 ? { exclude } : {}) });
    return { recipients, skipped: [] };
  };
}
