/**
 * Turning an incoming message's `data` into a delivered message or a reasoned
 * drop. Lookups happen synchronously on arrival (peer state may change right
 * after); the counter is only advanced after authentication, in arrival order
 * (see {@link acceptCounter}), so forged counters cannot block real messages.
 */
import { DecryptError, ProtocolError, ReplayError, toError } from '../errors.js';
import { utf8Decode } from '../crypto/bytes.js';
import { counterFor, openEnvelope } from './cipher.js';
import { letterType, looksLikeEnvelope, parseEnvelope, type Envelope } from './envelope.js';
import type { DecryptErrorReason } from './events.js';
import type { LocalKeys } from './local-keys.js';
import type { PeerEntry, PeerTable } from './peer-table.js';
import type { MessageType } from './scheme.js';

/** The result of opening one message. */
export type Opened =
  | { ok: true; entry: PeerEntry; n: number; type: MessageType; items: unknown[]; from: string }
  | { ok: false; reason: DecryptErrorReason; error: Error };

const drop = (reason: DecryptErrorReason, error: Error): Opened => ({ ok: false, reason, error });

const replay = (n: number, entry: PeerEntry): Opened =>
  drop('replay', new ReplayError(`message counter ${n} from peer ${entry.privateId} is not above ${entry.receiveCounter}: replayed, duplicated or reordered`));

/** Checks what can be checked without crypto; returns the sender entry, counter and envelope, or a drop. */
function locate(local: LocalKeys, table: PeerTable, data: unknown): Opened | { envelope: Envelope; entry: PeerEntry; n: number } {
  if (!looksLikeEnvelope(data)) return drop('plaintext', new DecryptError({ cause: new ProtocolError('a plaintext message arrived on an encrypted session') }));
  let envelope: Envelope;
  try {
    envelope = parseEnvelope(data);
  } catch (error) {
    return drop('malformed', toError(error));
  }
  const entry = table.byKid(envelope.s);
  if (!entry) {
    const what = envelope.s === local.kid ? "this session's own key (a reflected message)" : 'no current peer';
    return drop('unknown-sender', new DecryptError({ cause: new ProtocolError(`the sender key id belongs to ${what}`) }));
  }
  let n: number | null;
  try {
    n = counterFor(envelope, local.kid);
  } catch (error) {
    return drop('malformed', toError(error));
  }
  if (n === null) return drop('not-for-us', new DecryptError({ cause: new ProtocolError("the message holds nothing for this session's key") }));
  if (n <= entry.receiveCounter) return replay(n, entry);
  return { envelope, entry, n };
}

/** Authenticates and decrypts one message's `data`. Never rejects. */
export async function openMessage(local: LocalKeys, table: PeerTable, data: unknown): Promise<Opened> {
  const located = locate(local, table, data);
  if ('ok' in located) return located;
  const { envelope, entry, n } = located;
  // The sender's private ID as of arrival: later renames reach listeners as their own events.
  const from = entry.privateId;
  const security = await entry.ready;
  if (!security.keys) return drop('untrusted-peer', new DecryptError({ cause: security.error ?? undefined }));
  let plaintext: Uint8Array;
  try {
    plaintext = await openEnvelope({ sender: { publicRaw: (entry.advert as NonNullable<PeerEntry['advert']>).publicRaw, kid: envelope.s }, recipient: local, receiveKey: security.keys.receive }, envelope);
  } catch (error) {
    return drop('authentication', error instanceof DecryptError ? error : new DecryptError({ cause: error }));
  }
  let items: unknown;
  try {
    items = JSON.parse(utf8Decode(plaintext));
  } catch (error) {
    return drop('malformed', new ProtocolError(`peer ${from} sent an authenticated message that is not UTF-8 JSON`, { cause: error }));
  }
  if (!Array.isArray(items) || items.length === 0) return drop('malformed', new ProtocolError(`peer ${from} sent an authenticated message that is not a non-empty JSON array of messages`));
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
