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
export type Outgoing =
  | { kind: 'direct'; to: string[]; data: unknown; options: RequestOptions }
  | { kind: 'broadcast'; exclude: string[]; data: unknown; options: RequestOptions };

/** What a broadcast went to. */
export interface BroadcastResult {
  /** Private IDs the message was sent to. */
  recipients: string[];
  /** Peers left out because they have no usable key (identity failed, no key published). */
  skipped: string[];
}

/** A prepared send: calling it writes the frame at once and resolves on the server's answer. */
export type Write = () => Promise<BroadcastResult>;

/** UTF-8 JSON of the data; `undefined` travels as `null`, as on the plaintext wire. */
function encodeData(data: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(data === undefined ? null : data);
  } catch (cause) {
    throw new InvalidArgumentError('message data must be JSON-serialisable (no cycles, no BigInt)', { cause });
  }
  if (text === undefined) throw new InvalidArgumentError(`message data must be JSON-serialisable, got a ${typeof data}`);
  return utf8Encode(text);
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

/** Encrypts a send for this connection's peers. */
export async function prepareEncrypted(client: WSSClient, local: LocalKeys, table: PeerTable, request: Outgoing): Promise<Write> {
  const excluded = new Set(request.kind === 'broadcast' ? request.exclude : []);
  const targets = request.kind === 'direct' ? directTargets(table, request.to) : [...table.entries()].filter((e) => !excluded.has(e.privateId));
  const plaintext = encodeData(request.data);
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

/** A plaintext send (`encryption: false`): the server's own broadcast and direct messages. */
export async function preparePlain(client: WSSClient, table: PeerTable, request: Outgoing): Promise<Write> {
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
