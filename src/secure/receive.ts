/**
 * Turning an incoming message's `data` into a delivered message or a reasoned
 * drop. Lookups happen synchronously on arrival (peer state may change right
 * after); the counter is only advanced after authentication, in arrival order
 * (see {@link acceptCounter}), so forged counters cannot block real messages.
 */
import { DecryptError, ProtocolError, ReplayError, toError } from '../errors.js';
import { utf8Decode } from '../crypto/bytes.js';
import { openEnvelope } from './cipher.js';
import { letterType, looksLikeEnvelope, parseEnvelope, type ReceivedEnvelope } from './envelope.js';
import type { DecryptErrorReason } from './events.js';
import type { LocalKeys } from './local-keys.js';
import type { PeerEntry, PeerTable } from './peer-table.js';
import type { MessageType } from './scheme.js';

/** The result of opening one message. */
export type Opened =
  | { ok: true; entry: PeerEntry; n: number; type: MessageType; items: unknown[]; from: string }
  | { ok: false; reason: DecryptErrorReason; error: Error };

const drop = (reason: DecryptErrorReason, error: Error): Opened => ({ ok: false, reason, error });

/** A drop found before any decryption: the fixed `DecryptError`, with what was wrong as its cause. */
const refuse = (reason: DecryptErrorReason, why: string): Opened => drop(reason, new DecryptError({ cause: new ProtocolError(why) }));

const replay = (n: number, entry: PeerEntry): Opened =>
  drop('replay', new ReplayError(`message counter ${n} from peer ${entry.privateId} is not above ${entry.receiveCounter}: replayed, duplicated or reordered`));

/** The JSON value of UTF-8 bytes, or `undefined` when they are not UTF-8 JSON (the caller reports it). */
function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch {
    return undefined;
  }
}

/**
 * Authenticates and decrypts one message's `data`, checking first what can be
 * checked without crypto (spec §5 gives the order). Never rejects.
 */
export async function openMessage(local: LocalKeys, table: PeerTable, data: unknown): Promise<Opened> {
  if (!looksLikeEnvelope(data)) return refuse('plaintext', 'a plaintext message arrived on an encrypted session');
  let envelope: ReceivedEnvelope;
  try {
    envelope = parseEnvelope(data, local.kid);
  } catch (error) {
    return drop('malformed', toError(error));
  }
  const { s, n } = envelope;
  const entry = table.byKid(s);
  if (!entry) return refuse('unknown-sender', `the sender key id belongs to ${s === local.kid ? "this session's own key (a reflected message)" : 'no current peer'}`);
  if (n === null) return refuse('not-for-us', "the message holds nothing for this session's key");
  if (n <= entry.receiveCounter) return replay(n, entry);
  // The sender's private ID as of arrival: later renames reach listeners as their own events.
  const from = entry.privateId;
  const { keys, error } = await entry.ready;
  if (!keys || !entry.advert) return drop('untrusted-peer', new DecryptError({ cause: error ?? undefined }));
  let plaintext: Uint8Array;
  try {
    plaintext = await openEnvelope({ sender: { publicRaw: entry.advert.publicRaw, kid: s }, recipient: local, receiveKey: keys.receive }, envelope);
  } catch (error) {
    return drop('authentication', toError(error));
  }
  const items = parseJson(plaintext);
  if (!Array.isArray(items) || items.length === 0) return drop('malformed', new ProtocolError(`peer ${from} sent an authenticated message that is not a non-empty UTF-8 JSON array of messages`));
  return { ok: true, entry, n, from, type: letterType(envelope.t), items };
}

/**
 * Accepts an opened message's counter if it is above the last accepted one.
 * Called in arrival order, after authentication.
 */
export function acceptCounter(opened: Extract<Opened, { ok: true }>): Opened {
  if (opened.n <= opened.entry.receiveCounter) return replay(opened.n, opened.entry);
  opened.entry.receiveCounter = opened.n;
  return opened;
}
