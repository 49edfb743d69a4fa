/**
 * The end-to-end scheme of SecureSession, version 2: connection keys, pair
 * keys, identity bindings, safety numbers and envelopes.
 * docs/secure-session-spec.md describes the same construction; keep the two in step.
 */
import { aesGcm, aesGcmSync } from '../crypto/aead.js';
import { base64ToBytes, bytesToBase64 } from '../crypto/base64.js';
import { concatBytes, timingSafeEqual, utf8Encode } from '../crypto/bytes.js';
import { ecdhBits, importRawP256 } from '../crypto/ecdh.js';
import { getSubtle } from '../crypto/env.js';
import { hkdfAesGcmKey } from '../crypto/hkdf.js';
import { verifySignature } from '../crypto/signing.js';
import { AuthenticationError, DecryptError, KeyFormatError, toError } from '../errors.js';
import { isRecord } from '../protocol/guards.js';
import { webCrypto } from '../util/random.js';
import { andThen, type Soon } from '../util/soon.js';

/** Scheme version, in adverts (`v`) and envelopes (`e2e`). */
export const VERSION = 2;

const NO_SALT = new Uint8Array(0);
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' };

/** Wire letter of an envelope: `'b'` broadcast, `'d'` direct, `'x'` extended (delivery: items and per-recipient entries). */
export type TypeLetter = 'b' | 'd' | 'x';

/** What a session's advert says of its delivery: `'r'` reliable, `'a'` at most once (with requests). */
export type DeliveryLetter = 'r' | 'a';

/** The `e2e` member of the `WSS_Connect` options, as published to peers. */
export interface E2eAdvert {
  /** Scheme version. */
  v: 2;
  /** Standard base64 of the raw 65-byte ECDH P-256 public key, new every connection. */
  pk: string;
  /** Standard base64 of the raw 65-byte ECDSA P-256 identity public key (with `identity`). */
  idk?: string;
  /** Standard base64 of the 64-byte ECDSA signature of the binding input (with `identity`). */
  sig?: string;
  /** Its delivery (absent: an older version, which reads `b` and `d` envelopes only). */
  d?: DeliveryLetter;
}

/** An encrypted message: the `data` of one `WSS_Send`. */
export interface Envelope {
  e2e: 2;
  t: TypeLetter;
  /** The sender's message counter on this connection, from 1. */
  n: number;
  /** base64 of the payload ciphertext ‖ tag under the one-time message key. */
  ct: string;
  /** Recipient key id → base64 of the message key wrapped under the pair key. */
  k: Record<string, string>;
}

/**
 * The UTF-8 input of a hash, signature or key derivation: a label naming its
 * use, then the parts, NUL-separated. Every part after the application label
 * is 88 characters of base64, so no two inputs read alike.
 */
const input = (use: string, ...parts: string[]): Uint8Array<ArrayBuffer> =>
  utf8Encode([`wss-sessions/e2e/v2 ${use}`, ...parts].join('\0'));

/** A key id names a key in envelopes: the first 16 characters of its base64 (88 random bits). */
export const keyId = (pk: string): string => pk.slice(0, 16);

/** Six groups of five decimal digits from the first 30 bytes of SHA-256 of the input. */
async function safetyNumber(use: string, ...parts: string[]): Promise<string> {
  const digest = new Uint8Array(await getSubtle().digest('SHA-256', input(use, ...parts)));
  return [0, 5, 10, 15, 20, 25]
    .map((g) => String(digest.slice(g, g + 5).reduce((v, byte) => v * 256 + byte, 0) % 1e5).padStart(5, '0'))
    .join(' ');
}

/**
 * Safety number of a long-term identity public key (raw 65 bytes, as from
 * `exportVerifyKeyRaw`); independent of the app label, so it can be pinned anywhere.
 */
export const identityFingerprint = (identityPublic: Uint8Array): Promise<string> =>
  safetyNumber('identity fingerprint', bytesToBase64(identityPublic));

/** The long-term identity, exported once per session. */
export interface LocalIdentity {
  privateKey: CryptoKey;
  idk: string;
  fingerprint: string;
}

/** Exports the identity's public key and computes its safety number. */
export async function loadIdentity(pair: CryptoKeyPair): Promise<LocalIdentity> {
  const raw = new Uint8Array(await getSubtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, idk: bytesToBase64(raw), fingerprint: await identityFingerprint(raw) };
}

/** This end of one connection. */
export interface LocalKeys {
  privateKey: CryptoKey;
  pk: string;
  fingerprint: string;
  advert: E2eAdvert;
  /** Last message counter used; every envelope takes the next one. */
  sent: number;
  /** Message keys by recipient set (their keys, in order), oldest first: see {@link seal}. */
  messageKeys: Map<string, MessageKey>;
}

/**
 * A fresh ECDH key pair (private key non-extractable) and its advert, signed
 * with the identity if there is one, saying what delivery the session runs.
 */
export async function createLocalKeys(
  info: string,
  identity?: LocalIdentity,
  delivery: DeliveryLetter = 'a',
): Promise<LocalKeys> {
  const subtle = getSubtle();
  const { privateKey, publicKey } = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
    'deriveBits',
  ]);
  const pk = bytesToBase64(new Uint8Array(await subtle.exportKey('raw', publicKey)));
  const advert: E2eAdvert = { v: VERSION, pk, d: delivery };
  if (identity) {
    advert.idk = identity.idk;
    advert.sig = bytesToBase64(
      new Uint8Array(await subtle.sign(ECDSA_SHA256, identity.privateKey, input('binding', info, pk))),
    );
  }
  const fingerprint = await safetyNumber('key fingerprint', info, pk);
  return { privateKey, pk, fingerprint, advert, sent: 0, messageKeys: new Map() };
}

/** What a session knows about a peer's key once it is checked. */
export interface PeerKeys {
  /** The peer's published key, when it is well formed. */
  pk: string | null;
  /** Pair keys, one per direction; `null` when the peer cannot be used for encryption. */
  send: CryptoKey | null;
  receive: CryptoKey | null;
  /** Pair safety number; `null` without a usable key. */
  fingerprint: string | null;
  /** `true` identity verified, `false` identity failed or missing while required, `null` no identity in play. */
  verified: boolean | null;
  identityFingerprint: string | null;
  /** Why the peer cannot be used, when it cannot. */
  error: Error | null;
}

/** A peer that cannot be used for encryption (yet): no key, no safety number. */
export const unusable = (verified: boolean | null = null, error: Error | null = null): PeerKeys => ({
  pk: null,
  send: null,
  receive: null,
  fingerprint: null,
  verified,
  identityFingerprint: null,
  error,
});

/** How peer identities are judged. */
export interface IdentityPolicy {
  info: string;
  requirePeerIdentity: boolean;
  verifyPeerIdentity?:
    | ((peer: {
        privateId: string;
        identityKey: Uint8Array;
        identityFingerprint: string;
      }) => boolean | Promise<boolean>)
    | undefined;
}

/**
 * Checks a peer's advert, its identity signature and the application's pin,
 * then agrees the pair keys. Never rejects: a peer that fails any check is
 * returned unusable, with the reason.
 */
export async function checkPeer(
  privateId: string,
  advert: unknown,
  own: LocalKeys,
  policy: IdentityPolicy,
): Promise<PeerKeys> {
  const { info, requirePeerIdentity, verifyPeerIdentity } = policy;
  const peer = `peer ${privateId}`;
  const refuse = (problem: string): AuthenticationError => new AuthenticationError(`${peer}: ${problem}`);
  const keys = unusable(requirePeerIdentity ? false : null);
  /** A published P-256 point (member `name` of the advert) and its key: only the 65-byte uncompressed form, on the curve, whatever else the platform would import. */
  const load = async (name: 'pk' | 'idk'): Promise<[Uint8Array, CryptoKey]> => {
    const what = `${peer}: e2e.${name}`;
    const raw = base64ToBytes((advert as E2eAdvert)[name] as string, what);
    return [raw, await importRawP256(raw, what, name === 'idk')];
  };
  try {
    if (advert === undefined) throw refuse('no e2e key');
    if (!isRecord(advert) || advert.v !== VERSION)
      throw new KeyFormatError(`${peer}: e2e advert is not version ${VERSION}`);
    const [, publicKey] = await load('pk');
    const pk = advert.pk as string;
    keys.pk = pk;
    if (advert.idk !== undefined || advert.sig !== undefined) {
      keys.verified = false;
      const [identityKey, verifyKey] = await load('idk');
      const fingerprint = await identityFingerprint(identityKey);
      keys.identityFingerprint = fingerprint;
      if (
        !(await verifySignature(
          verifyKey,
          base64ToBytes(advert.sig as string, `${peer}: e2e.sig`),
          input('binding', info, pk),
        ))
      )
        throw refuse('bad identity signature');
      if (
        verifyPeerIdentity &&
        !(await verifyPeerIdentity({ privateId, identityKey, identityFingerprint: fingerprint }))
      )
        throw refuse('identity rejected by verifyPeerIdentity');
      keys.verified = true;
    } else if (requirePeerIdentity) throw refuse('no identity key (requirePeerIdentity)');
    const ikm = await ecdhBits(own.privateKey, publicKey);
    // One key per direction: the two public keys go into the derivation in sender, recipient order.
    const derive = (from: string, to: string): Promise<CryptoKey> =>
      hkdfAesGcmKey(ikm, NO_SALT, input('key', info, from, to));
    const fingerprint = await safetyNumber('pair fingerprint', info, ...[own.pk, pk].sort());
    // Assigned last and together: a peer with a safety number is usable, one without is not.
    [keys.send, keys.receive] = await Promise.all([derive(own.pk, pk), derive(pk, own.pk)]);
    keys.fingerprint = fingerprint;
    ikm.fill(0);
  } catch (error) {
    keys.error = toError(error);
  }
  return keys;
}

/** The 12-byte IV of counter `n`: 4 zero bytes, then `n` as 64-bit big-endian. */
function counterIv(n: number): Uint8Array<ArrayBuffer> {
  const iv = new Uint8Array(12);
  // n is a safe integer: its high 32 bits, then its low 32 bits. Bytes written one by one: a DataView
  // would make V8 give this small array an ArrayBuffer of its own, on every message.
  const high = Math.floor(n / 2 ** 32);
  for (let i = 0; i < 4; i++) {
    iv[7 - i] = high >>> (8 * i);
    iv[11 - i] = n >>> (8 * i);
  }
  return iv;
}

/** A wrap's additional data: the type letter, then the whole payload ciphertext. */
function wrapAad(t: TypeLetter, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const aad = new Uint8Array(payload.length + 1);
  aad[0] = t.charCodeAt(0);
  aad.set(payload, 1);
  return aad;
}

/** A message key: its bytes, wrapped for each recipient, and the key imported from them where AES-GCM needs one. */
export interface MessageKey {
  raw: Uint8Array<ArrayBuffer>;
  /** Imported on first need: never on Node, where node:crypto takes the bytes (see {@link gcm}). */
  key?: CryptoKey;
  /** Envelopes sealed with it so far. */
  uses: number;
}

/** Recipient sets whose message key a connection keeps, and envelopes per message key before a new one is drawn. */
const KEPT_SETS = 64;
const KEY_USES = 2 ** 20;
/** Bytes of a message key (AES-256). */
const MESSAGE_KEY_LENGTH = 32;

const importMessageKey = (raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> =>
  getSubtle().importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);

/**
 * AES-GCM under a pair key or a message key, done at once where the platform
 * can (Node: node:crypto, which takes a message key's bytes as they are, with
 * no import), else a WebCrypto promise, importing a message key first
 * (`imported` gives its CryptoKey, imported once). Failures are aesGcm's typed errors.
 */
function gcm(
  op: 'encrypt' | 'decrypt',
  key: CryptoKey | Uint8Array<ArrayBuffer>,
  imported: (() => Promise<CryptoKey>) | null,
  iv: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
  aad?: Uint8Array<ArrayBuffer>,
): Soon<Uint8Array<ArrayBuffer>> {
  return (
    aesGcmSync(op, key, iv, data, aad) ??
    (imported
      ? imported().then((cryptoKey) => aesGcm(op, cryptoKey, iv, data, aad))
      : aesGcm(op, key as CryptoKey, iv, data, aad))
  );
}

/**
 * The message key for a recipient set: 32 random bytes, drawn once per set of
 * recipient keys (exactly these keys, in this order) and connection, and again
 * after KEY_USES envelopes or when the set was evicted. Only that set's
 * recipients can unwrap it, and each of them can read every envelope to the set
 * anyway; its IV, the connection's counter, never repeats. Where it must be
 * imported (WebCrypto), that costs more than the encryption of a chat message,
 * so it is done once per set.
 */
function messageKeyFor(own: LocalKeys, recipients: ReadonlyArray<{ pk: string }>): MessageKey {
  const set = recipients.length === 1 ? (recipients[0] as { pk: string }).pk : recipients.map((r) => r.pk).join(' ');
  const kept = own.messageKeys.get(set);
  if (kept && kept.uses < KEY_USES) {
    kept.uses++;
    return kept;
  }
  const fresh: MessageKey = { raw: webCrypto().getRandomValues(new Uint8Array(MESSAGE_KEY_LENGTH)), uses: 1 };
  own.messageKeys.delete(set);
  own.messageKeys.set(set, fresh);
  if (own.messageKeys.size > KEPT_SETS) own.messageKeys.delete(own.messageKeys.keys().next().value as string);
  return fresh;
}

/**
 * A recipient of {@link seal}: its published key, its key id and the pair key for
 * sending to it, and (type `x`) its entry, carried after the message key.
 */
export interface SealFor {
  pk: string;
  kid: string;
  send: CryptoKey;
  extra?: Uint8Array | undefined;
}

/**
 * Encrypts once under the recipient set's message key and wraps that key for
 * each recipient under its pair key. Each wrap authenticates the whole payload
 * ciphertext: a recipient, who knows the message key, still cannot pass off
 * another payload to the others in the sender's name (GCM alone is not key-committing).
 * @returns the envelope at once where AES-GCM is synchronous (Node), else a
 *   promise of it; a failure always rejects (never throws).
 */
export function seal(
  own: LocalKeys,
  recipients: ReadonlyArray<SealFor>,
  t: TypeLetter,
  plaintext: Uint8Array<ArrayBuffer>,
): Soon<Envelope> {
  try {
    const n = ++own.sent;
    const iv = counterIv(n);
    const message = messageKeyFor(own, recipients);
    const imported = async (): Promise<CryptoKey> => (message.key ??= await importMessageKey(message.raw));
    return andThen(gcm('encrypt', message.raw, imported, iv, plaintext), (payload) =>
      wrapAll(recipients, t, n, iv, message.raw, payload),
    );
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The envelope of a sealed payload: the message key wrapped for each recipient (all at once where AES-GCM is synchronous). */
function wrapAll(
  recipients: ReadonlyArray<SealFor>,
  t: TypeLetter,
  n: number,
  iv: Uint8Array<ArrayBuffer>,
  raw: Uint8Array<ArrayBuffer>,
  payload: Uint8Array<ArrayBuffer>,
): Soon<Envelope> {
  const aad = wrapAad(t, payload);
  const k: Record<string, string> = {};
  const pending: Array<Promise<void>> = [];
  for (const { kid, send, extra } of recipients) {
    const wrapped = gcm('encrypt', send, null, iv, extra?.length ? concatBytes(raw, extra) : raw, aad);
    if (!(wrapped instanceof Promise)) k[kid] = bytesToBase64(wrapped);
    else
      pending.push(
        wrapped.then((bytes) => {
          k[kid] = bytesToBase64(bytes);
        }),
      );
  }
  const envelope: Envelope = { e2e: VERSION, t, n, ct: bytesToBase64(payload), k };
  return pending.length ? Promise.all(pending).then(() => envelope) : envelope;
}

/** The message keys a receive key has opened lately (a sender keeps one per recipient set), newest last; only where they must be imported. */
const openedKeys = new WeakMap<CryptoKey, Array<{ raw: Uint8Array; key: CryptoKey }>>();
/** How many a receive key keeps: a sender alternating between a few recipient sets costs no imports. */
const OPENED_KEPT = 4;

/** The key for unwrapped message key bytes, imported once while the sender keeps using them. */
async function openedKey(receive: CryptoKey, raw: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const kept = openedKeys.get(receive) ?? [];
  const found = kept.find((entry) => timingSafeEqual(entry.raw, raw));
  if (found) return found.key;
  const key = await importMessageKey(raw);
  kept.push({ raw, key });
  if (kept.length > OPENED_KEPT) kept.shift();
  openedKeys.set(receive, kept);
  return key;
}

/** A failure of {@link open}, as the DecryptError it rejects with. */
const decryptFailed = (cause: unknown): Promise<never> => Promise.reject(new DecryptError({ cause }));

/** An opened envelope: its payload, and the entry its wrap carried (empty but for type `x`). */
export interface Opened {
  plaintext: Uint8Array<ArrayBuffer>;
  extra: Uint8Array;
}

/**
 * This recipient's part of an envelope, opened: at once where AES-GCM is
 * synchronous (Node), else a promise. A `b` or `d` wrap holds the message key
 * alone; an `x` wrap the key, then the recipient's entry.
 * @throws never: whatever fails (bad base64, a wrong tag, a wrong key length)
 *   rejects with a DecryptError, the failure as its cause.
 */
function unwrap(receive: CryptoKey, t: TypeLetter, n: number, ct: string, wrap: string): Soon<Opened> {
  try {
    const iv = counterIv(n);
    const payload = base64ToBytes(ct);
    const opened = andThen(gcm('decrypt', receive, null, iv, base64ToBytes(wrap), wrapAad(t, payload)), (raw) => {
      // Checked before use: node:crypto would take 16 or 24 bytes as an AES-128 or AES-192 key.
      if (raw.length !== MESSAGE_KEY_LENGTH && (t !== 'x' || raw.length < MESSAGE_KEY_LENGTH))
        throw new KeyFormatError('bad message key');
      const key = raw.length === MESSAGE_KEY_LENGTH ? raw : raw.slice(0, MESSAGE_KEY_LENGTH);
      const extra = raw.subarray(MESSAGE_KEY_LENGTH);
      return andThen(
        gcm('decrypt', key, () => openedKey(receive, key), iv, payload),
        (plaintext) => ({
          plaintext,
          extra,
        }),
      );
    });
    return opened instanceof Promise ? opened.catch(decryptFailed) : opened;
  } catch (cause) {
    return decryptFailed(cause);
  }
}

/**
 * Authenticates and decrypts this recipient's part of an envelope.
 * @returns the plaintext at once where AES-GCM is synchronous (Node), else a promise of it.
 * @throws never: failures reject with a DecryptError, as {@link unwrap}.
 */
export function open(
  receive: CryptoKey,
  t: TypeLetter,
  n: number,
  ct: string,
  wrap: string,
): Soon<Uint8Array<ArrayBuffer>> {
  return andThen(unwrap(receive, t, n, ct, wrap), (opened) => opened.plaintext);
}

/** {@link open} for an extended (`x`) envelope: also gives the entry its wrap carried. */
export const openExtended = (receive: CryptoKey, n: number, ct: string, wrap: string): Soon<Opened> =>
  unwrap(receive, 'x', n, ct, wrap);

/** A session's key for delivery: its public key, in base64, is the session ID (spec §11). */
export interface SessionKey {
  privateKey: CryptoKey;
  s: string;
}

/** A new session key: ECDSA P-256, its private key non-extractable. */
export async function createSessionKey(): Promise<SessionKey> {
  const subtle = getSubtle();
  const { privateKey, publicKey } = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { privateKey, s: bytesToBase64(new Uint8Array(await subtle.exportKey('raw', publicKey))) };
}

/** A connection's proof that it speaks for the session: the session key's signature over the connection's key `pk`. */
export async function proveSession(key: SessionKey, info: string, pk: string): Promise<string> {
  const signed = await getSubtle().sign(ECDSA_SHA256, key.privateKey, input('session', info, key.s, pk));
  return bytesToBase64(new Uint8Array(signed));
}

/** Whether `g` proves that the holder of connection key `pk` speaks for session `s`. Never rejects. */
export async function checkSessionProof(s: string, g: string, info: string, pk: string): Promise<boolean> {
  try {
    const key = await importRawP256(base64ToBytes(s, 'session ID'), 'session ID', true);
    return await verifySignature(key, base64ToBytes(g, 'session proof'), input('session', info, s, pk));
  } catch {
    return false;
  }
}
