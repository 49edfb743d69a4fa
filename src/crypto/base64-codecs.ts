/**
 * Base64 codecs behind the public helpers in `base64.ts`: the platform's native
 * `Uint8Array.fromBase64`/`toBase64`, Node's `Buffer`, and a portable table
 * codec. Every codec decodes *strictly*: standard alphabet (RFC 4648 §4), '='
 * padding to a multiple of 4, no whitespace, zero unused bits in the last
 * character. Internal module: exported for the selection logic and for tests.
 * @internal
 */

/** One base64 implementation. */
export interface Base64Codec {
  /** Which implementation this is. */
  readonly name: 'native' | 'buffer' | 'fallback';
  /** Standard padded base64 of `bytes`. */
  encode(bytes: Uint8Array): string;
  /** The decoded bytes, or `undefined` when `text` is not canonical standard base64. */
  decode(text: string): Uint8Array<ArrayBuffer> | undefined;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INVALID = 0xff;

/** ASCII code of each 6-bit value. */
const ENCODE_TABLE = new Uint8Array(64);
/** 6-bit value of each ASCII code below 128; INVALID elsewhere. */
const DECODE_TABLE = new Uint8Array(128).fill(INVALID);
for (let i = 0; i < ALPHABET.length; i++) {
  const code = ALPHABET.charCodeAt(i);
  ENCODE_TABLE[i] = code;
  DECODE_TABLE[code] = i;
}

const EQUALS = 0x3d;

/** Number of trailing '=' (0, 1 or 2; a third one makes the text invalid elsewhere). */
function paddingOf(text: string): number {
  const n = text.length;
  if (n === 0 || text.charCodeAt(n - 1) !== EQUALS) return 0;
  return text.charCodeAt(n - 2) === EQUALS ? 2 : 1;
}

/** 6-bit value of one character, or INVALID. */
function valueOf(code: number): number {
  return code < 128 ? (DECODE_TABLE[code] as number) : INVALID;
}

/**
 * Length and tail checks shared by the codecs that delegate to a lenient
 * platform decoder: returns the exact decoded length, or -1 when the text
 * cannot be canonical base64.
 */
function expectedLength(text: string): number {
  const n = text.length;
  if (n % 4 !== 0) return -1;
  const pad = paddingOf(text);
  if (pad > 0) {
    // The character before the padding must be data whose unused low bits are zero.
    const last = valueOf(text.charCodeAt(n - pad - 1));
    if (last === INVALID || (last & (pad === 2 ? 0x0f : 0x03)) !== 0) return -1;
  }
  return (n / 4) * 3 - pad;
}

/** A plain `Uint8Array` that owns its whole `ArrayBuffer` (never a pooled `Buffer` view). */
function owned(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) {
    return new Uint8Array(buffer);
  }
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------
// Portable table codec

const asciiDecoder = new TextDecoder();

function fallbackEncode(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  const full = n - (n % 3);
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[o] = ENCODE_TABLE[v >>> 18] as number;
    out[o + 1] = ENCODE_TABLE[(v >>> 12) & 63] as number;
    out[o + 2] = ENCODE_TABLE[(v >>> 6) & 63] as number;
    out[o + 3] = ENCODE_TABLE[v & 63] as number;
    o += 4;
  }
  const rest = n - full;
  if (rest > 0) {
    const v = ((bytes[full] as number) << 16) | (rest === 2 ? (bytes[full + 1] as number) << 8 : 0);
    out[o] = ENCODE_TABLE[v >>> 18] as number;
    out[o + 1] = ENCODE_TABLE[(v >>> 12) & 63] as number;
    out[o + 2] = rest === 2 ? (ENCODE_TABLE[(v >>> 6) & 63] as number) : EQUALS;
    out[o + 3] = EQUALS;
  }
  // The output is pure ASCII, so one TextDecoder call builds the string in O(n)
  // with no per-character string concatenation.
  return asciiDecoder.decode(out);
}

const asciiEncoder = new TextEncoder();

function fallbackDecode(text: string): Uint8Array<ArrayBuffer> | undefined {
  const size = expectedLength(text);
  if (size < 0) return undefined;
  // One native pass turns the string into bytes; typed-array reads beat charCodeAt.
  // Any non-ASCII character becomes 2-4 bytes, so a length change exposes it.
  const n = text.length;
  const src = new Uint8Array(n);
  const { read, written } = asciiEncoder.encodeInto(text, src);
  if (read !== n || written !== n) return undefined;
  const out = new Uint8Array(size);
  const pad = paddingOf(text);
  const full = pad === 0 ? n : n - 4;
  let invalid = 0;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = DECODE_TABLE[src[i] as number] as number;
    const b = DECODE_TABLE[src[i + 1] as number] as number;
    const c = DECODE_TABLE[src[i + 2] as number] as number;
    const d = DECODE_TABLE[src[i + 3] as number] as number;
    // INVALID (0xff) is the only table value with bit 7 set, so one OR catches any bad character.
    invalid |= a | b | c | d;
    out[o] = (a << 2) | (b >>> 4);
    out[o + 1] = ((b & 15) << 4) | (c >>> 2);
    out[o + 2] = ((c & 3) << 6) | d;
    o += 3;
  }
  if (pad > 0) {
    const a = DECODE_TABLE[src[full] as number] as number;
    const b = DECODE_TABLE[src[full + 1] as number] as number;
    const c = pad === 1 ? (DECODE_TABLE[src[full + 2] as number] as number) : 0;
    invalid |= a | b | c;
    out[o] = (a << 2) | (b >>> 4);
    if (pad === 1) out[o + 1] = ((b & 15) << 4) | (c >>> 2);
  }
  return (invalid & 0x80) === 0 ? out : undefined;
}

/** The portable codec: table-driven, O(n), used where neither native base64 nor `Buffer` exists. */
export const base64Fallback: Base64Codec = {
  name: 'fallback',
  encode: fallbackEncode,
  decode: fallbackDecode,
};

// ---------------------------------------------------------------------------
// Node's Buffer

/** The part of Node's `Buffer` this module uses (reached through `globalThis`, never imported). */
export interface BufferLike {
  from(arrayBuffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64'): string };
  from(text: string, encoding: 'base64'): Uint8Array;
  byteLength(text: string, encoding: 'utf8'): number;
}

/**
 * A codec on Node's `Buffer`. `Buffer.from(text, 'base64')` is lenient (it skips
 * whitespace and unknown characters, accepts '-' and '_', and reads only the low
 * byte of non-Latin-1 characters), so strictness is proved around it: the text
 * must be ASCII, free of '-'/'_', and decode to exactly the length its size and
 * padding promise — any skipped character would make the output shorter.
 */
export function createBufferBase64(buffer: BufferLike): Base64Codec {
  return {
    name: 'buffer',
    encode: (bytes) => buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    decode: (text) => {
      const size = expectedLength(text);
      if (size < 0) return undefined;
      if (buffer.byteLength(text, 'utf8') !== text.length) return undefined;
      if (text.indexOf('-') !== -1 || text.indexOf('_') !== -1) return undefined;
      const out = buffer.from(text, 'base64');
      return out.length === size ? owned(out) : undefined;
    },
  };
}

// ---------------------------------------------------------------------------
// Native Uint8Array.fromBase64 / toBase64 (TC39 proposal, shipping in modern engines)

/** The static side of a `Uint8Array` with native base64. */
export interface NativeBase64Constructor {
  fromBase64(text: string, options?: { alphabet?: 'base64' | 'base64url'; lastChunkHandling?: 'loose' | 'strict' | 'stop-before-partial' }): Uint8Array;
}

/** A codec on the native methods; `lastChunkHandling: 'strict'` enforces padding and zero tail bits. */
export function createNativeBase64(ctor: NativeBase64Constructor): Base64Codec {
  return {
    name: 'native',
    encode: (bytes) => (bytes as Uint8Array & { toBase64(): string }).toBase64(),
    decode: (text) => {
      const size = expectedLength(text);
      if (size < 0) return undefined;
      let out: Uint8Array;
      try {
        out = ctor.fromBase64(text, { alphabet: 'base64', lastChunkHandling: 'strict' });
      } catch {
        return undefined;
      }
      // The native decoder skips ASCII whitespace even in strict mode; a skipped character shortens the output.
      return out.length === size ? owned(out) : undefined;
    },
  };
}

/** The platform globals the selection looks at. */
export interface Base64Environment {
  Uint8Array?: unknown;
  Buffer?: unknown;
}

function hasNativeBase64(ctor: unknown): ctor is NativeBase64Constructor {
  if (typeof ctor !== 'function') return false;
  const proto = (ctor as { prototype?: { toBase64?: unknown } }).prototype;
  return typeof (ctor as { fromBase64?: unknown }).fromBase64 === 'function' && typeof proto?.toBase64 === 'function';
}

function isBufferLike(value: unknown): value is BufferLike {
  return (
    typeof value === 'function' &&
    typeof (value as { from?: unknown }).from === 'function' &&
    typeof (value as { byteLength?: unknown }).byteLength === 'function'
  );
}

/** The fastest strict codec the environment offers: native, then `Buffer`, then the table codec. */
export function selectBase64Codec(env: Base64Environment): Base64Codec {
  if (hasNativeBase64(env.Uint8Array)) return createNativeBase64(env.Uint8Array);
  if (isBufferLike(env.Buffer)) return createBufferBase64(env.Buffer);
  return base64Fallback;
}

/**
 * Why `text` is not canonical standard base64, in words for an error message.
 * Only called on the error path, so it may be slow.
 */
export function describeBase64Problem(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === '=' || valueOf(text.charCodeAt(i)) !== INVALID) continue;
    if (/\s/.test(ch)) return `it contains whitespace at index ${i}`;
    if (ch === '-' || ch === '_') return `it contains the URL-safe character '${ch}' at index ${i}; use the standard alphabet ('+' and '/')`;
    const hex = text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0');
    return `it contains the character U+${hex} at index ${i}, outside the base64 alphabet`;
  }
  if (text.length % 4 !== 0) return `its length ${text.length} is not a multiple of 4 (missing or extra '=' padding?)`;
  const firstPad = text.indexOf('=');
  if (firstPad !== -1 && (firstPad < text.length - 2 || /[^=]/.test(text.slice(firstPad)))) {
    return `'=' padding appears at index ${firstPad}, before the end`;
  }
  return 'its last character has non-zero unused bits (not canonical)';
}
