/**
 * Base64 codecs behind the public helpers in `base64.ts`: the platform's native
 * `Uint8Array.fromBase64`/`toBase64`, Node's `Buffer`, and a portable codec on
 * `atob`/`btoa`. Every codec decodes *strictly*: standard alphabet (RFC 4648
 * §4), '=' padding to a multiple of 4, no whitespace, zero unused bits in the
 * last character. Internal module: exported for the selection logic and for tests.
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
  /**
   * {@link decode} without its copy where the codec has one to spare: the
   * bytes may be a view into memory shared with other buffers, so they are for
   * reading at once, never for keeping or handing out. Absent: use `decode`.
   */
  readonly decodeView?: (text: string) => Uint8Array<ArrayBuffer> | undefined;
}

/**
 * The one strictness check every codec shares: the exact decoded length, or -1
 * when `text` cannot be canonical (length not a multiple of 4, or unused bits
 * set in the data character before the padding). Before '==' the last data
 * character keeps 2 of its 6 bits, so only A Q g w are canonical; before '=',
 * 4 bits: the characters of values divisible by 4.
 */
function expectedLength(text: string): number {
  const n = text.length;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const canonical = !pad || (pad > 1 ? 'AQgw' : 'AEIMQUYcgkosw048').includes(text.charAt(n - pad - 1));
  return n % 4 || !canonical ? -1 : (n / 4) * 3 - pad;
}

/**
 * A codec around a platform decoder that may be lenient in one way only: it
 * skips characters (whitespace; Buffer skips any unknown one). Each skipped
 * character shortens the output, so the output must have exactly the length
 * the text promises. `decode` returns the bytes, or null, or throws, for
 * text it refuses; bytes that do not own their whole `ArrayBuffer` (Buffer's
 * pool) are for `decodeView`, and the Buffer codec copies them for `decode`.
 */
function strictCodec(
  name: Base64Codec['name'],
  encode: Base64Codec['encode'],
  decode: (text: string) => Uint8Array<ArrayBuffer> | null,
): Base64Codec {
  return {
    name,
    encode,
    decode(text) {
      const size = expectedLength(text);
      try {
        const out = size < 0 ? null : decode(text);
        if (out?.length === size) return out;
      } catch {
        // Refused by the platform decoder: not base64.
      }
      return undefined;
    },
  };
}

// Bytes per btoa call: a multiple of 3, so the pieces concatenate without inner padding, and small
// enough for String.fromCharCode.apply (engines cap the argument count); ~12 KiB measured fastest.
const CHUNK = 0x3000;

/**
 * The portable codec on `atob`/`btoa` (every browser, worker, Node 16+, Deno,
 * Bun), used where neither native base64 nor `Buffer` exists. `atob` throws
 * for characters outside the alphabet and misplaced '=', and skips whitespace.
 */
export const base64Fallback: Base64Codec = strictCodec(
  'fallback',
  (bytes) => {
    let text = '';
    for (let i = 0; i < bytes.length; i += CHUNK) {
      text += btoa(String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]));
    }
    return text;
  },
  (text) => latin1Bytes(atob(text)),
);

/** Shifts that put four bytes in memory order within one 32-bit word, for this platform's byte order. */
const [S0, S1, S2, S3] = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? [0, 8, 16, 24] : [24, 16, 8, 0];

/**
 * The bytes of a binary string (every character below 256). Copying the
 * string is most of a decode; four characters per 32-bit store run it
 * about a tenth faster than a store per byte.
 */
function latin1Bytes(binary: string): Uint8Array<ArrayBuffer> {
  const n = binary.length;
  const out = new Uint8Array(n);
  const words = new Uint32Array(out.buffer, 0, n >>> 2);
  for (let w = 0, i = 0, end = words.length; w < end; w++, i += 4) {
    words[w] =
      (binary.charCodeAt(i) << S0) |
      (binary.charCodeAt(i + 1) << S1) |
      (binary.charCodeAt(i + 2) << S2) |
      (binary.charCodeAt(i + 3) << S3);
  }
  for (let i = n & ~3; i < n; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The part of Node's `Buffer` this module uses (reached through `globalThis`, never imported). */
export interface BufferLike {
  from(arrayBuffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'base64'): string };
  from(text: string, encoding: 'base64'): Uint8Array<ArrayBuffer>;
  byteLength(text: string, encoding: 'utf8'): number;
}

/**
 * A codec on Node's `Buffer`. `Buffer.from(text, 'base64')` also accepts '-'
 * and '_' and reads only the low byte of non-Latin-1 characters, so the text
 * must be ASCII and free of '-'/'_' before it gets there. Its result may be a
 * view into a shared pool: `decode` copies it into a plain `Uint8Array`,
 * `decodeView` hands it out as it is.
 */
export function createBufferBase64(buffer: BufferLike): Base64Codec {
  const views = strictCodec(
    'buffer',
    (bytes) => buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
    // includes() twice is several times faster than one /[-_]/ test on large text.
    (text) =>
      buffer.byteLength(text, 'utf8') !== text.length || text.includes('-') || text.includes('_')
        ? null
        : buffer.from(text, 'base64'),
  );
  return {
    ...views,
    decode: (text) => {
      const bytes = views.decode(text);
      return bytes && new Uint8Array(bytes);
    },
    decodeView: views.decode,
  };
}

/** The static side of a `Uint8Array` with native base64. */
export interface NativeBase64Constructor {
  fromBase64(
    text: string,
    options?: { alphabet?: 'base64' | 'base64url'; lastChunkHandling?: 'loose' | 'strict' | 'stop-before-partial' },
  ): Uint8Array<ArrayBuffer>;
}

/** A codec on the native methods; `lastChunkHandling: 'strict'` enforces padding and zero tail bits (whitespace is still skipped). */
export function createNativeBase64(ctor: NativeBase64Constructor): Base64Codec {
  return strictCodec(
    'native',
    (bytes) => (bytes as Uint8Array & { toBase64(): string }).toBase64(),
    (text) => ctor.fromBase64(text, { lastChunkHandling: 'strict' }),
  );
}

/** The platform global the selection looks at. */
export interface Base64Environment {
  Uint8Array?: unknown;
}

/**
 * The fastest portable strict codec the environment offers: native, else
 * `atob`/`btoa`. `Buffer` is not looked for here, so that browser bundles do
 * not carry its codec: the Node entry points install it (src/node/setup.ts).
 */
export function selectBase64Codec(env: Base64Environment): Base64Codec {
  // Engines ship fromBase64 and toBase64 together (TC39 Uint8Array base64), so one test finds both.
  const native = env.Uint8Array as { fromBase64?: unknown } | undefined;
  return typeof native?.fromBase64 === 'function'
    ? createNativeBase64(native as NativeBase64Constructor)
    : base64Fallback;
}
