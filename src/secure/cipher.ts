/** Sealing and opening envelopes with the pair keys (AES-256-GCM, counter IVs, bound additional data). */
import { AES_256_KEY_LENGTH, AES_GCM_IV_LENGTH, decryptBytes, encryptBytes, importAesGcmKey } from '../crypto/aead.js';
import { base64ToBytes, bytesToBase64 } from '../crypto/base64.js';
import { randomBytes } from '../crypto/env.js';
import { DecryptError } from '../errors.js';
import { letterType, recipientEntry, typeLetter, type Envelope, type MultiEnvelope, type SingleEnvelope } from './envelope.js';
import { buildAad, counterIv, Format, type MessageType } from './scheme.js';

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
const PAYLOAD_IV = new Uint8Array(AES_GCM_IV_LENGTH);

/** Encrypts for one recipient. */
export async function sealSingle(sender: PartyKey, target: SealTarget, type: MessageType, plaintext: Uint8Array): Promise<SingleEnvelope> {
  const aad = buildAad({ format: Format.single, type, sender: sender.publicRaw, recipient: target.publicRaw, counter: target.n });
  const ct = await encryptBytes({ key: target.sendKey, iv: counterIv(target.n), plaintext, aad });
  return { e2e: 1, t: typeLetter(type), s: sender.kid, r: target.kid, n: target.n, ct: bytesToBase64(ct) };
}

/**
 * Encrypts once under a fresh message key and wraps that key for each
 * recipient. Each wrap authenticates the whole payload ciphertext as
 * additional data under the pair key, so a recipient, who knows the message
 * key, still cannot pass off another payload to the others under the
 * sender's name (GCM alone is not key-committing).
 */
export async function sealMulti(sender: PartyKey, targets: readonly SealTarget[], type: MessageType, plaintext: Uint8Array): Promise<MultiEnvelope> {
  const messageKeyRaw = randomBytes(AES_256_KEY_LENGTH);
  try {
    const messageKey = await importAesGcmKey(messageKeyRaw);
    const payloadAad = buildAad({ format: Format.payload, type, sender: sender.publicRaw });
    const payload = await encryptBytes({ key: messageKey, iv: PAYLOAD_IV, plaintext, aad: payloadAad });
    const wraps = await Promise.all(
      targets.map((t) => {
        const aad = buildAad({ format: Format.wrap, type, sender: sender.publicRaw, recipient: t.publicRaw, counter: t.n, payload });
        return encryptBytes({ key: t.sendKey, iv: counterIv(t.n), plaintext: messageKeyRaw, aad });
      }),
    );
    const k: Record<string, [number, string]> = {};
    targets.forEach((t, i) => (k[t.kid] = [t.n, bytesToBase64(wraps[i] as Uint8Array)]));
    return { e2e: 1, t: typeLetter(type), s: sender.kid, ct: bytesToBase64(payload), k };
  } finally {
    messageKeyRaw.fill(0);
  }
}

/** What a recipient needs to open an envelope. */
export interface OpenContext {
  sender: PartyKey;
  recipient: PartyKey;
  receiveKey: CryptoKey;
}

/** The counter an envelope carries for `recipientKid`, or `null` when it has none for it. */
export function counterFor(envelope: Envelope, recipientKid: string): number | null {
  if ('k' in envelope) return recipientEntry(envelope, recipientKid)?.n ?? null;
  return envelope.r === recipientKid ? envelope.n : null;
}

function decodeOrFail(text: string): Uint8Array {
  try {
    return base64ToBytes(text, 'ciphertext');
  } catch (cause) {
    throw new DecryptError({ cause });
  }
}

/**
 * Authenticates and decrypts. Every failure rejects with the same
 * {@link DecryptError}.
 */
export async function openEnvelope(ctx: OpenContext, envelope: Envelope): Promise<Uint8Array> {
  const type = letterType(envelope.t);
  if (!('k' in envelope)) {
    const aad = buildAad({ format: Format.single, type, sender: ctx.sender.publicRaw, recipient: ctx.recipient.publicRaw, counter: envelope.n });
    return decryptBytes({ key: ctx.receiveKey, iv: counterIv(envelope.n), ciphertext: decodeOrFail(envelope.ct), aad });
  }
  const own = recipientEntry(envelope, ctx.recipient.kid);
  if (!own) throw new DecryptError();
  const payload = decodeOrFail(envelope.ct);
  const wrapAad = buildAad({ format: Format.wrap, type, sender: ctx.sender.publicRaw, recipient: ctx.recipient.publicRaw, counter: own.n, payload });
  const messageKeyRaw = await decryptBytes({ key: ctx.receiveKey, iv: counterIv(own.n), ciphertext: decodeOrFail(own.wrapped), aad: wrapAad });
  try {
    const messageKey = await importAesGcmKey(messageKeyRaw).catch((cause: unknown) => {
      throw new DecryptError({ cause });
    });
    const payloadAad = buildAad({ format: Format.payload, type, sender: ctx.sender.publicRaw });
    return await decryptBytes({ key: messageKey, iv: PAYLOAD_IV, ciphertext: payload, aad: payloadAad });
  } finally {
    messageKeyRaw.fill(0);
  }
}
