import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyFormatError } from '../../src/errors.js';
import { badInputs } from './base64-cases.js';
import {
  type Base64Codec,
  type BufferLike,
  base64Fallback,
  createBufferBase64,
  createNativeBase64,
  selectBase64Codec,
} from '../../src/crypto/base64-codecs.js';
import {
  arrayBufferToBase64,
  base64Implementation,
  base64ToArrayBuffer,
  base64ToBytes,
  bytesToBase64,
} from '../../src/crypto/base64.js';

const nodeBuffer = globalThis.Buffer as unknown as BufferLike;
const hasNative = typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 === 'function';
if (!hasNative) console.warn('[base64] this runtime has no Uint8Array.fromBase64: native codec tests are skipped');

const codecs: Array<[string, Base64Codec | undefined]> = [
  ['fallback', base64Fallback],
  ['buffer', createBufferBase64(nodeBuffer)],
  ['native', hasNative ? createNativeBase64(Uint8Array as never) : undefined],
];

/** Reference strict check: regex + canonical last character, then Node's decoder. */
function referenceDecode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const out = Buffer.from(text, 'base64');
  return out.toString('base64') === text ? new Uint8Array(out) : undefined;
}

for (const [name, codec] of codecs) {
  describe.skipIf(!codec)(`base64 codec: ${name}`, () => {
    const c = codec as Base64Codec;

    it('round-trips every size 0..300 identically to Buffer', () => {
      for (let size = 0; size <= 300; size++) {
        const bytes = new Uint8Array(nodeRandomBytes(size));
        const text = c.encode(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64'));
        expect(c.decode(text)).toEqual(bytes);
      }
    });

    it('round-trips 1 MiB of random bytes identically to Buffer', () => {
      const bytes = new Uint8Array(nodeRandomBytes(1 << 20));
      const text = c.encode(bytes);
      expect(text).toBe(Buffer.from(bytes).toString('base64'));
      const back = c.decode(text);
      expect(back?.length).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(back as Uint8Array), Buffer.from(bytes))).toBe(0);
    });

    it('encodes a view into a larger buffer using only the viewed bytes', () => {
      const whole = Uint8Array.from({ length: 40 }, (_, i) => i);
      expect(c.encode(whole.subarray(5, 12))).toBe(Buffer.from(whole.subarray(5, 12)).toString('base64'));
    });

    it.each(badInputs)('rejects %s', (_label, text) => {
      expect(c.decode(text)).toBeUndefined();
    });

    it('returns plain Uint8Arrays that own their whole ArrayBuffer', () => {
      const out = c.decode('AQID') as Uint8Array;
      expect(Object.getPrototypeOf(out)).toBe(Uint8Array.prototype);
      expect(out.byteOffset).toBe(0);
      expect(out.buffer.byteLength).toBe(3);
    });

    it('decodeView, where the codec has it, decodes exactly as decode: the same bytes, the same refusals', () => {
      const view = c.decodeView;
      if (!view) return;
      for (const [, text] of badInputs) expect(view(text)).toBeUndefined();
      for (let size = 0; size <= 40; size++) {
        const text = Buffer.from(nodeRandomBytes(size)).toString('base64');
        expect(new Uint8Array(view(text) as Uint8Array)).toEqual(c.decode(text));
      }
    });

    it('agrees with a regex-based reference on 3000 random mutations of valid text', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n\t.\u0141\u00e9';
      for (let i = 0; i < 3000; i++) {
        const chars = [...Buffer.from(nodeRandomBytes(1 + (i % 13))).toString('base64')];
        const edits = 1 + (i % 3);
        for (let e = 0; e < edits; e++) {
          const pos = Math.floor(Math.random() * (chars.length + 1));
          const ch = alphabet[Math.floor(Math.random() * alphabet.length)] as string;
          const op = Math.floor(Math.random() * 3);
          if (op === 0) chars.splice(pos, 1, ch);
          else if (op === 1) chars.splice(pos, 0, ch);
          else chars.splice(pos, 1);
        }
        const text = chars.join('');
        expect(c.decode(text), JSON.stringify(text)).toEqual(referenceDecode(text));
        if (c.decodeView) expect(c.decodeView(text) === undefined, JSON.stringify(text)).toBe(!referenceDecode(text));
      }
    });
  });
}

describe('base64 codec selection', () => {
  const fakeNative = Object.assign(function FakeUint8Array() {}, {
    fromBase64: () => new Uint8Array(0),
    prototype: { toBase64: () => '' },
  });

  it('prefers native Uint8Array base64, else atob/btoa (browser bundles carry no Buffer codec)', () => {
    expect(selectBase64Codec({ Uint8Array: fakeNative }).name).toBe('native');
    expect(selectBase64Codec({ Uint8Array }).name).toBe(hasNative ? 'native' : 'fallback');
    expect(selectBase64Codec({ Uint8Array: class {} }).name).toBe('fallback');
    expect(selectBase64Codec({}).name).toBe('fallback');
  });

  it("uses the fastest path on this runtime: Node's setup module installs Buffer where there is no native base64", () => {
    expect(base64Implementation).toBe(hasNative ? 'native' : 'buffer');
  });
});

describe('public base64 helpers', () => {
  it('bytesToBase64 / base64ToBytes round-trip', () => {
    expect(bytesToBase64(new Uint8Array([1, 2, 3]))).toBe('AQID');
    expect(base64ToBytes('AQID')).toEqual(new Uint8Array([1, 2, 3]));
    expect(base64ToBytes('')).toEqual(new Uint8Array(0));
  });

  it('arrayBufferToBase64 / base64ToArrayBuffer keep the signal-crypto.ts signatures and return an exact ArrayBuffer', () => {
    expect(arrayBufferToBase64(new Uint8Array([255]).buffer)).toBe('/w==');
    const buffer = base64ToArrayBuffer('/w==');
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect(buffer.byteLength).toBe(1);
    expect(new Uint8Array(buffer)[0]).toBe(255);
  });

  it.each([
    ['QUFB ', /\(" " at index 4\)/],
    ['QUFBQUE\n', /\("\\n" at index 7\)/],
    ['QUF-', /\("-" at index 3\)/],
    ['QUF_', /\("_" at index 3\)/],
    ['QQ==QUFB', /\("=" at index 2\)/],
    ['Q===', /\("=" at index 1\)/],
    ['\u0141AAA', /\("Ł" at index 0\)/],
    // Every character is in place; the padding is missing or the last character's unused bits are set.
    ['QUE', /base64; send/],
    ['QR==', /base64; send/],
  ])('base64ToBytes(%j) throws KeyFormatError naming the value and the first bad character', (text, pattern) => {
    expect(() => base64ToBytes(text, 'peer public key')).toThrow(KeyFormatError);
    expect(() => base64ToBytes(text, 'peer public key')).toThrow(pattern);
    expect(() => base64ToBytes(text, 'peer public key')).toThrow(
      /^peer public key is not valid base64.*; send standard base64: A-Z a-z 0-9 \+ \/ with '=' padding$/,
    );
  });

  it('rejects non-string input with KeyFormatError', () => {
    expect(() => base64ToBytes(42 as unknown as string, 'salt')).toThrow(/salt must be a base64 string, got number/);
    expect(() => base64ToArrayBuffer(null as unknown as string)).toThrow(KeyFormatError);
  });
});
