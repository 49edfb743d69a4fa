/**
 * One pushed message as an inbox task: what can be checked without keys is
 * checked on arrival, decryption starts on arrival with the keys the sender will
 * have by the time the message's turn comes, and the checks that depend on the
 * peer table (sender, key, counter; spec §5 gives their order) run in arrival
 * order, just before the message is delivered or dropped.
 */
import type { MessageEvent } from '../client/events.js';
import { decodeUtf8 } from '../crypto/bytes.js';
import { AuthenticationError, DecryptError, ProtocolError, ReplayError } from '../errors.js';
import { hasOwn, isRecord } from '../protocol/guards.js';
import type { PushMessage } from '../protocol/wss.js';
import { andThen, type Soon } from '../util/soon.js';
import type { DecryptErrorEvent, DecryptErrorReason } from './events.js';
import { type Entry, isSeq, type Payload, parseEntry, parsePayload } from './frames.js';
import { type InboxTask, sizeOf } from './inbox.js';
import type { PeerEntry, PeerTable } from './peers.js';
import { checkSessionProof, open, openExtended, type PeerKeys, type TypeLetter, VERSION } from './scheme.js';

/** What the receive path needs of its connection. */
export interface Receiver {
  /** Whether this connection encrypts (it has keys). */
  readonly encrypted: boolean;
  /** This connection's key id: the member of an envelope's `k` meant for it. */
  readonly kid: string;
  readonly table: PeerTable;
  /** The checked keys `privateId` will have once the tasks queued so far have run, if any (at once when checked already). */
  keysOf(privateId: string): Soon<PeerKeys> | undefined;
  /** Hands authenticated messages (or, on a plaintext session, plain ones) on, in order. */
  deliver(from: string, type: 'broadcast' | 'direct', items: unknown[], raw: PushMessage, encrypted: boolean): void;
  /** Reports a dropped message. */
  reject(event: DecryptErrorEvent): void;
  /** Application label (session proofs are checked against it). */
  readonly info: string;
  /** Whether this session runs reliable delivery (only then are session proofs checked). */
  readonly reliable: boolean;
  /**
   * Hands an authenticated extended envelope from `peer` on, in order.
   * @returns why it is dropped after all (delivery's own checks), or nothing.
   */
  extended(peer: PeerEntry, frame: Extended, raw: PushMessage): Refusal | undefined;
}

/** An extended envelope's content: its payload, this recipient's entry, and whether its session proof (if any) verified. */
export interface Extended {
  payload: Payload;
  entry: Entry;
  proven: boolean;
}

/** Why an extended envelope was dropped after decryption: the `decrypt_error` reason and error. */
export type Refusal = [DecryptErrorReason, Error];

/** What opening an envelope gave: the messages (or an extended envelope's content), or why not (`error`: authentication; none: malformed). */
interface Opened {
  /** The key it was opened with. */
  pk: string | null;
  items?: unknown[];
  frame?: Extended;
  error?: DecryptError;
}

/**
 * What decryption gave, parsed: at once where it was synchronous. A decryption that
 * failed is an authentication failure (`error`); any other failure, malformed.
 */
function parsed<T>(opened: Soon<T>, pk: string | null, parse: (value: T) => Soon<Opened>): Soon<Opened> {
  return opened instanceof Promise
    ? opened.then(parse, (error: unknown) => (error instanceof DecryptError ? { pk, error } : { pk }))
    : parse(opened);
}

/** Decrypts and parses an envelope's payload: at once where decryption is synchronous (Node). Never rejects. */
function openItems(keys: PeerKeys, t: TypeLetter, n: number, ct: string, wrap: string): Soon<Opened> {
  const { pk } = keys;
  const parse = (plaintext: Uint8Array): Opened => {
    try {
      const items: unknown = JSON.parse(decodeUtf8(plaintext));
      return Array.isArray(items) && items.length ? { pk, items } : { pk };
    } catch {
      // Not UTF-8 or not JSON is reported like the other shapes that are not a list of messages.
      return { pk };
    }
  };
  return parsed(open(keys.receive as CryptoKey, t, n, ct, wrap), pk, parse);
}

/**
 * Decrypts and parses an extended envelope, and checks its session proof if it has one
 * (and this session runs reliable delivery). Never rejects.
 */
function openFrame(r: Receiver, keys: PeerKeys, n: number, ct: string, wrap: string): Soon<Opened> {
  const pk = keys.pk as string;
  const parse = ({ plaintext, extra }: { plaintext: Uint8Array; extra: Uint8Array }): Soon<Opened> => {
    let payload: Payload | null = null;
    let entry: Entry | null = null;
    try {
      payload = parsePayload(decodeUtf8(plaintext));
      entry = parseEntry(decodeUtf8(extra));
    } catch {
      // Not UTF-8: reported below with the other shapes that are not an extended envelope.
    }
    if (!payload || !entry) return { pk };
    const { s, g } = payload;
    const content = { payload, entry, proven: false };
    if (!s || !g || !r.reliable) return { pk, frame: content };
    return checkSessionProof(s, g, r.info, pk).then((proven) => ({ pk, frame: { ...content, proven } }));
  };
  return parsed(openExtended(keys.receive as CryptoKey, n, ct, wrap), pk, parse);
}

/** The inbox task of one pushed message, owned by `owner` (its connection). */
export function messageTask(r: Receiver, owner: object, { type, from, data, raw }: MessageEvent): InboxTask {
  const size = sizeOf(data);
  if (!r.encrypted) return { owner, size, commit: () => void r.deliver(from, type, [data], raw, false) };
  // A drop found before any decryption is a ProtocolError naming the sender and the reason (the frame travels with the event).
  const drop = (reason: DecryptErrorReason, error: Error = new ProtocolError(`message from ${from}: ${reason}`)) =>
    void r.reject({ reason, from, type, error, raw });
  if (!isRecord(data) || !hasOwn(data, 'e2e')) return { owner, size, commit: () => drop('plaintext') };
  const { e2e, t, n, ct, k } = data;
  if (e2e !== VERSION || (t !== 'b' && t !== 'd' && t !== 'x') || !isSeq(n) || typeof ct !== 'string' || !isRecord(k))
    return { owner, size, commit: () => drop('malformed') };
  // A key id is base64, so it never names an inherited member of a parsed object.
  const wrap = k[r.kid];
  const opening = (keys: PeerKeys): Soon<Opened | undefined> =>
    !keys.receive
      ? undefined
      : t === 'x'
        ? openFrame(r, keys, n, ct, wrap as string)
        : openItems(keys, t, n, ct, wrap as string);
  /** The task that waits for `work`; where it is done already (Node, keys known), one that commits at once. */
  const task = (work: Soon<Opened | undefined> | undefined): InboxTask =>
    work instanceof Promise ? { owner, size, ready: work, commit } : { owner, size, commit: () => commit(work) };
  const commit = (opened: Opened | undefined): InboxTask | undefined => {
    const entry = r.table.get(from);
    if (!entry) return drop('unknown-sender');
    if (typeof wrap !== 'string') return drop(wrap === undefined ? 'not-for-us' : 'malformed');
    const { keys, counter } = entry;
    if (!keys.receive || !counter)
      return drop('untrusted-peer', keys.error ?? new AuthenticationError(`peer ${from}: no usable key`));
    if (n <= counter.received) return drop('replay', new ReplayError(`message from ${from}: replay`));
    // Opened on arrival with another key than the sender has now: open it again with the right one.
    if (opened?.pk !== keys.pk) return task(opening(keys));
    if (opened.error) return drop('authentication', opened.error);
    const { items, frame } = opened;
    if (!items && !frame) return drop('malformed');
    counter.received = n;
    if (items) return void r.deliver(from, t === 'b' ? 'broadcast' : 'direct', items, raw, true);
    const refused = r.extended(entry, frame as Extended, raw);
    if (refused) drop(...refused);
  };
  const keys = typeof wrap === 'string' ? r.keysOf(from) : undefined;
  return task(keys && andThen(keys, opening));
}
