import { createECDH } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DecryptError, InvalidArgumentError, KeyFormatError, UnsupportedEnvironmentError } from '../../src/errors.js';
import {
  type IEncryptedPayload,
  base64ToBytes,
  bytesToBase64,
  decrypt,
  deriveAESKey,
  encrypt,
  encryptBytes,
  generateECDHKeyPair,
  generateSigningKeyPair,
  randomBytes,
} from '../../src/crypto/index.js';

const ecdhInfo = 'wss-sessions test v1';
const saltB64 = bytesToBase64(new Uint8Array(32).fill(9));

/** Client and server sides of one handshake, both through our API. */
async function handshake(): Promise<{ clientKey: CryptoKey; serverKey: CryptoKey }> {
  const client = await generateECDHKeyPair();
  const server = await generateECDHKeyPair();
  const clientKey = await deriveAESKey({
    clientPrivateKey: client.keyPair.privateKey,
    serverPublicKeyB64: server.publicKeyB64,
    saltB64,
    ecdhInfo,
  });
  const serverKey = await deriveAESKey({
    clientPrivateKey: server.keyPair.privateKey,
    serverPublicKeyB64: client.publicKeyB64,
    saltB64,
    ecdhInfo,
  });
  return { clientKey, serverKey };
}

/** A rejection's error, failing the test if the promise resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

async function expectDecryptError(payload: unknown, aesKey: CryptoKey): Promise<void> {
  const err = await rejectionOf(decrypt({ payload: payload as IEncryptedPayload, aesKey }));
  expect(err).toBeInstanceOf(DecryptError);
  expect(err.message).toBe('decryption failed');
  expect((err as DecryptError).code).toBe('ERR_DECRYPT');
  expect(err.cause).toBeInstanceOf(Error);
}

describe('generateECDHKeyPair', () => {
  it('returns a 65-byte uncompressed public key and a non-extractable private key', async () => {
    const { keyPair, publicKeyB64 } = await generateECDHKeyPair();
    const raw = base64ToBytes(publicKeyB64);
    expect(raw.length).toBe(65);
    expect(raw[0]).toBe(0x04);
    expect(keyPair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', keyPair.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('jwk', keyPair.privateKey)).rejects.toThrow();
  });

  it('gives a new key pair on every call', async () => {
    const a = await generateECDHKeyPair();
    const b = await generateECDHKeyPair();
    expect(a.publicKeyB64).not.toBe(b.publicKeyB64);
  });
});

describe('deriveAESKey + encrypt/decrypt', () => {
  it('both sides derive the same non-extractable AES-256-GCM key', async () => {
    const { clientKey, serverKey } = await handshake();
    expect(clientKey.extractable).toBe(false);
    expect(clientKey.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 });
    for (const plaintext of [
      '',
      'hello',
      '{"event":"chat","data":"héllo ✓ 🚀"}',
      '\uFEFFbom kept',
      'x'.repeat(100_000),
    ]) {
      const payload = await encrypt({ plaintext, aesKey: clientKey });
      expect(base64ToBytes(payload.iv).length).toBe(12);
      expect(base64ToBytes(payload.ct).length).toBe(new TextEncoder().encode(plaintext).length + 16);
      expect(await decrypt({ payload, aesKey: serverKey })).toBe(plaintext);
    }
  });

  it('uses a fresh IV for every message', async () => {
    const { clientKey } = await handshake();
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) ivs.add((await encrypt({ plaintext: 'same', aesKey: clientKey })).iv);
    expect(ivs.size).toBe(50);
  });

  it('different salt or info give keys that cannot decrypt each other', async () => {
    const client = await generateECDHKeyPair();
    const server = await generateECDHKeyPair();
    const base = { clientPrivateKey: client.keyPair.privateKey, serverPublicKeyB64: server.publicKeyB64 };
    const k1 = await deriveAESKey({ ...base, saltB64, ecdhInfo });
    const k2 = await deriveAESKey({ ...base, saltB64: bytesToBase64(new Uint8Array(32)), ecdhInfo });
    const k3 = await deriveAESKey({ ...base, saltB64, ecdhInfo: `${ecdhInfo}!` });
    const payload = await encrypt({ plaintext: 'secret', aesKey: k1 });
    await expectDecryptError(payload, k2);
    await expectDecryptError(payload, k3);
  });

  it('accepts an empty salt (HKDF treats it as zeros)', async () => {
    const client = await generateECDHKeyPair();
    const server = await generateECDHKeyPair();
    const key = await deriveAESKey({
      clientPrivateKey: client.keyPair.privateKey,
      serverPublicKeyB64: server.publicKeyB64,
      saltB64: '',
      ecdhInfo,
    });
    expect(key.algorithm).toMatchObject({ name: 'AES-GCM' });
  });
});

describe('deriveAESKey strictness (KeyFormatError naming the input)', () => {
  const node = createECDH('prime256v1');
  node.generateKeys();
  const uncompressed = node.getPublicKey();
  const compressed = node.getPublicKey(undefined, 'compressed');
  const hybrid = node.getPublicKey(undefined, 'hybrid');
  const offCurve = Buffer.concat([
    Buffer.from([4]),
    Buffer.alloc(31),
    Buffer.from([1]),
    Buffer.alloc(31),
    Buffer.from([1]),
  ]);
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

  async function deriveWith(serverPublicKeyB64: string, salt = saltB64, privateKey?: unknown): Promise<Error> {
    const client = await generateECDHKeyPair();
    return rejectionOf(
      deriveAESKey({
        clientPrivateKey: (privateKey ?? client.keyPair.privateKey) as CryptoKey,
        serverPublicKeyB64,
        saltB64: salt,
        ecdhInfo,
      }),
    );
  }

  it.each([
    ['compressed (33 bytes, 0x02/0x03)', b64(compressed), /33 bytes \(a compressed point/],
    ['hybrid (0x06/0x07)', b64(hybrid), /starts with 0x0[67] \(a hybrid point/],
    ['64 bytes (prefix missing)', b64(uncompressed.subarray(1)), /is 64 bytes; send the 65-byte/],
    ['66 bytes', b64(Buffer.concat([uncompressed, Buffer.from([0])])), /is 66 bytes/],
    ['65 bytes with prefix 0x05', b64(Buffer.concat([Buffer.from([5]), uncompressed.subarray(1)])), /starts with 0x05/],
    ['off-curve point', b64(offCurve), /not a point on the P-256 curve/],
    ['empty', '', /is 0 bytes/],
    ['url-safe base64', uncompressed.toString('base64url'), /not valid base64/],
  ])('rejects a server key that is %s', async (_label, key, pattern) => {
    const err = await deriveWith(key);
    expect(err).toBeInstanceOf(KeyFormatError);
    expect(err.message).toMatch(/^server public key \(serverPublicKeyB64\)/);
    expect(err.message).toMatch(pattern);
  });

  it('rejects a salt that is not strict base64', async () => {
    const err = await deriveWith(b64(uncompressed), 'AAA=\n');
    expect(err).toBeInstanceOf(KeyFormatError);
    expect(err.message).toMatch(/^HKDF salt \(saltB64\) is not valid base64 \("\\n" at index 4\)/);
  });

  it('rejects a client private key of the wrong kind', async () => {
    const signing = await generateSigningKeyPair();
    const other = await generateECDHKeyPair();
    expect(await deriveWith(b64(uncompressed), saltB64, signing.privateKey)).toBeInstanceOf(KeyFormatError);
    expect((await deriveWith(b64(uncompressed), saltB64, other.keyPair.publicKey)).message).toMatch(
      /must be a private ECDH P-256 key, got a public ECDH/,
    );
    expect((await deriveWith(b64(uncompressed), saltB64, 'key')).message).toMatch(/must be a CryptoKey, got string/);
  });

  it('rejects a non-string ecdhInfo', async () => {
    const client = await generateECDHKeyPair();
    await expect(
      deriveAESKey({
        clientPrivateKey: client.keyPair.privateKey,
        serverPublicKeyB64: b64(uncompressed),
        saltB64,
        ecdhInfo: 5 as unknown as string,
      }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('decrypt strictness (one fixed DecryptError)', () => {
  const flip = (b64: string, index: number) => {
    const bytes = base64ToBytes(b64);
    bytes[index < 0 ? bytes.length + index : index] ^= 0x01;
    return bytesToBase64(bytes);
  };

  it.each([
    ['11-byte IV', (p: IEncryptedPayload) => ({ ...p, iv: bytesToBase64(base64ToBytes(p.iv).subarray(0, 11)) })],
    [
      '13-byte IV',
      (p: IEncryptedPayload) => ({ ...p, iv: bytesToBase64(new Uint8Array([...base64ToBytes(p.iv), 0])) }),
    ],
    [
      '15-byte ciphertext',
      (p: IEncryptedPayload) => ({ ...p, ct: bytesToBase64(base64ToBytes(p.ct).subarray(0, 15)) }),
    ],
    ['empty ciphertext', (p: IEncryptedPayload) => ({ ...p, ct: '' })],
    ['tampered ciphertext byte', (p: IEncryptedPayload) => ({ ...p, ct: flip(p.ct, 0) })],
    ['tampered tag byte', (p: IEncryptedPayload) => ({ ...p, ct: flip(p.ct, -1) })],
    ['tampered IV byte', (p: IEncryptedPayload) => ({ ...p, iv: flip(p.iv, 5) })],
    ['truncated tag', (p: IEncryptedPayload) => ({ ...p, ct: bytesToBase64(base64ToBytes(p.ct).subarray(0, -1)) })],
    ['iv with whitespace', (p: IEncryptedPayload) => ({ ...p, iv: `${p.iv}\n` })],
    [
      'ct in url-safe base64',
      (p: IEncryptedPayload) => ({ ...p, ct: Buffer.from(base64ToBytes(p.ct)).toString('base64url') }),
    ],
    ['ct without padding', (p: IEncryptedPayload) => ({ ...p, ct: p.ct.replace(/=+$/, '') })],
    ['iv not a string', (p: IEncryptedPayload) => ({ ...p, iv: 12 })],
    ['ct missing', (p: IEncryptedPayload) => ({ iv: p.iv })],
    ['payload null', () => null],
  ])('%s → DecryptError', async (_label, mutate) => {
    const { clientKey, serverKey } = await handshake();
    // A plaintext whose base64 ct needs padding, so the "without padding" case changes the text.
    const payload = await encrypt({ plaintext: 'attack at dawn!', aesKey: clientKey });
    expect(payload.ct.endsWith('=')).toBe(true);
    await expectDecryptError(mutate(payload), serverKey);
  });

  it('wrong key → DecryptError', async () => {
    const a = await handshake();
    const b = await handshake();
    await expectDecryptError(await encrypt({ plaintext: 'x', aesKey: a.clientKey }), b.serverKey);
  });

  it('authentic ciphertext of invalid UTF-8 → DecryptError', async () => {
    const { clientKey, serverKey } = await handshake();
    const iv = randomBytes(12);
    const ct = await encryptBytes({ key: clientKey, iv, plaintext: new Uint8Array([0x68, 0xff, 0xfe]) });
    await expectDecryptError({ iv: bytesToBase64(iv), ct: bytesToBase64(ct) }, serverKey);
  });

  it('a key that is not an AES-GCM key → DecryptError', async () => {
    const { clientKey } = await handshake();
    const payload = await encrypt({ plaintext: 'x', aesKey: clientKey });
    const ecdh = await generateECDHKeyPair();
    await expectDecryptError(payload, ecdh.keyPair.privateKey);
  });
});

describe('encrypt argument checks', () => {
  it('rejects a non-string plaintext and a wrong key with typed errors', async () => {
    const { clientKey } = await handshake();
    await expect(encrypt({ plaintext: 42 as unknown as string, aesKey: clientKey })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const ecdh = await generateECDHKeyPair();
    await expect(encrypt({ plaintext: 'x', aesKey: ecdh.keyPair.privateKey })).rejects.toThrow(
      /AES-GCM key must be a secret AES-GCM key/,
    );
  });

  it('rejects a missing options object with InvalidArgumentError, not a TypeError', async () => {
    await expect(encrypt(undefined as never)).rejects.toThrow(/^encrypt expects an options object, got undefined/);
    await expect(deriveAESKey(null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(encryptBytes('x' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('without WebCrypto (insecure context)', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('throws UnsupportedEnvironmentError with a fix-it message', async () => {
    vi.stubGlobal('crypto', undefined);
    const err = await rejectionOf(generateECDHKeyPair());
    expect(err).toBeInstanceOf(UnsupportedEnvironmentError);
    expect(err.message).toMatch(/crypto.subtle is missing: serve the page over https:\/\/ or from localhost/);
    expect(() => randomBytes(4)).toThrow(UnsupportedEnvironmentError);
  });

  it('also when crypto exists but subtle does not', async () => {
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a });
    await expect(generateECDHKeyPair()).rejects.toBeInstanceOf(UnsupportedEnvironmentError);
  });
});
