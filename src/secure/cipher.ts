/** Sealing and opening envelopes with the pair keys (AES-256-GCM, counter IVs, bound additional data). */
import { base64ToBytes, bytesToBase64 } from '../crypto/base64.js';
import { DecryptError } from '../errors.js';
import { letterType, typeLetter, type MultiEnvelope, type ReceivedEnvelope, type SingleEnvelope } from './envelope.js';
import { buildAad, counterIv, Format, type FormatCode, type MessageType } from './scheme.js';
import { aesGcm, importAesGcmKey } from '../crypto/aead.js';
import { randomBytes } from '../crypto/env.js';

/** A sender or recipient key as the cipher needs it. */
export interface PartyKey {
  publicRaw: Uint8Array;
  kid: string;
}

/** One recipient of a seal: its key, the send key of the pair, and the counter allocated for it. */
export interface SealTarget extends PartyKey {
  sendKey: CryptoKey;
  n: number;
}

// The one-time message key of a multi-recipient envelope encrypts exactly one payload, so a fixed IV is safe.
const PAYLOAD_IV = new Uint8Array(12);

/** Encryption under a pair key: counter IV, additional data binding both keys, the counter and (for a wrap) the payload. */
const pairSeal = (format: FormatCode, type: MessageType, sender: PartyKey, t: SealTarget, plaintext: Uint8Array<ArrayBuffer>, payload?: Uint8Array) =>
  aesGcm('encrypt', t.sendKey, counterIv(t.n), plaintext, buildAad({ format, type, sender: sender.publicRaw, recipient: t.publicRaw, counter: t.n, payload }));

const payloadAad = (type: MessageType, sender: Uint8Array) => buildAad({ format: Format.payload, type, sender });

/** Encrypts for one recipient. */
export async function sealSingle(sender: PartyKey, target: SealTarget, type: MessageType, plaintext: Uint8Array<ArrayBuffer>): Promise<SingleEnvelope> {
  const ct = await pairSeal(Format.single, type, sender, target, plaintext);
  return { e2e: 1, t: typeLetter(type), s: sender.kid, r: target.kid, n: target.n, ct: bytesToBase64(ct) };
}

/**
 * Encrypts once under a fresh message key and wraps that key for each
 * recipient. Each wrap authenticates the whole payload ciphertext as
 * additional data under the pair key, so a recipient, who knows the message
 * key, still cannot pass off another payload to the others under the
 * sender's name (GCM alone is not key-committing).
 */
export async function sealMulti(sender: PartyKey, targets: readonly SealTarget[], type: MessageType, plaintext: Uint8Array<ArrayBuffer>): Promise<MultiEnvelope> {
  const messageKey = randomBytes(32);
  try {
    const payload = await aesGcm('encrypt', await importAesGcmKey(messageKey), PAYLOAD_IV, plaintext, payloadAad(type, sender.publicRaw));
    const k: MultiEnvelope['k'] = {};
    await Promise.all(targets.map(async (t) => (k[t.kid] = [t.n, bytesToBase64(await pairSeal(Format.wrap, type, sender, t, messageKey, payload))])));
    return { e2e: 1, t: typeLetter(type), s: sender.kid, ct: bytesToBase64(payload), k };
  } finally {
    messageKey.fill(0);
  }
}

/** What a recipient needs to open an envelope. */
export interface OpenContext {
  sender: PartyKey;
  recipient: PartyKey;
  receiveKey: CryptoKey;
}

/**
 * Authenticates and decrypts this recipient's part of an envelope (see
 * `parseEnvelope`). Every failure (bad base64 included) rejects with the same
 * {@link DecryptError}.
 */
export async function openEnvelope(ctx: OpenContext, { t, ct, n, wrapped }: ReceivedEnvelope): Promise<Uint8Array<ArrayBuffer>> {
  const type = letterType(t);
  const sender = ctx.sender.publicRaw;
  const pairOpen = (format: FormatCode, text: string, payload?: Uint8Array) =>
    aesGcm('decrypt', ctx.receiveKey, counterIv(n as number), base64ToBytes(text), buildAad({ format, type, sender, recipient: ctx.recipient.publicRaw, counter: n as number, payload }));
  try {
    if (n === null) throw new DecryptError();
    if (wrapped === undefined) return await pairOpen(Format.single, ct);
    const payload = base64ToBytes(ct);
    const messageKey = await pairOpen(Format.wrap, wrapped, payload);
    try {
      return await aesGcm('decrypt', await importAesGcmKey(messageKey), PAYLOAD_IV, payload, payloadAad(type, sender));
    } finally {
      messageKey.fill(0);
    }
  } catch (cause) {
    throw cause instanceof DecryptError ? cause : new DecryptError({ cause });
  }
}
