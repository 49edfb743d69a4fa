/**
 * WebSocket text frames built once and written as they are: a push or a
 * broadcast is serialised and framed one time, and the same bytes go to every
 * recipient (the server never masks, so a frame does not depend on its socket).
 */

const OPCODE_TEXT = 0x81; // FIN + text

/** The RFC 6455 header of an unmasked, unfragmented text frame carrying `length` bytes. */
function header(length: number): Buffer {
  if (length < 126) return Buffer.from([OPCODE_TEXT, length]);
  if (length < 65536) {
    const head = Buffer.allocUnsafe(4);
    head[0] = OPCODE_TEXT;
    head[1] = 126;
    head.writeUInt16BE(length, 2);
    return head;
  }
  const head = Buffer.allocUnsafe(10);
  head[0] = OPCODE_TEXT;
  head[1] = 127;
  head.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  head.writeUInt32BE(length >>> 0, 6);
  return head;
}

/** One text frame, framed and ready to write to any number of sockets. Immutable. */
export class Frame {
  /** The bytes to write, header first. */
  readonly chunks: readonly Buffer[];
  /** Total bytes on the wire. */
  readonly size: number;
  /** Payload bytes (without the header). */
  readonly payloadSize: number;

  private constructor(chunks: Buffer[], payloadSize: number) {
    this.chunks = chunks;
    this.payloadSize = payloadSize;
    let size = 0;
    for (const chunk of chunks) size += chunk.length;
    this.size = size;
  }

  /** A frame whose payload is `text` (UTF-8), header and payload in one buffer. */
  static text(text: string): Frame {
    const length = Buffer.byteLength(text);
    const head = header(length);
    const bytes = Buffer.allocUnsafe(head.length + length);
    head.copy(bytes, 0);
    bytes.write(text, head.length, 'utf8');
    return new Frame([bytes], length);
  }

  /**
   * A frame whose payload is the concatenation of `parts`, written without
   * copying the buffers (large answers such as a `WSS_Connect` peer list).
   */
  static parts(parts: readonly (string | Buffer)[]): Frame {
    const buffers = parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : part));
    let length = 0;
    for (const buffer of buffers) length += buffer.length;
    return new Frame([header(length), ...buffers], length);
  }

  /** The payload as text (for hooks and logs; this copies). */
  text(): string {
    const [first, ...rest] = this.chunks;
    if (first === undefined) return '';
    const head = first.length - (rest.length === 0 ? this.payloadSize : 0);
    if (rest.length === 0) return first.toString('utf8', head);
    return Buffer.concat(rest).toString('utf8');
  }
}
