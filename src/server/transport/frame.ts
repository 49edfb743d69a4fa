/**
 * WebSocket text frames built once and written as they are: a push or a
 * broadcast is serialised and framed one time, and the same bytes go to every
 * recipient (the server never masks, so a frame does not depend on its socket).
 */

const OPCODE_TEXT = 0x81; // FIN + text
/** Bodies from this size on are written from the buffer they came in, not copied (see {@link Frame.around}). */
const SHARE_BYTES = 64 * 1024;

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

  /**
   * A frame whose payload is `head`, then the bytes of `body`, then `tail`
   * (a relayed message around the data it carries). A large body goes out
   * from its own buffer, uncopied, when it fills at least half of the memory
   * that buffer holds on to; anything else is copied into one buffer.
   */
  static around(head: string, body: Buffer, tail: string): Frame {
    const headBytes = Buffer.byteLength(head);
    const length = headBytes + body.length + Buffer.byteLength(tail);
    const prefix = header(length);
    if (body.length >= SHARE_BYTES && body.length * 2 >= body.buffer.byteLength) {
      const front = Buffer.allocUnsafe(prefix.length + headBytes);
      prefix.copy(front, 0);
      front.write(head, prefix.length, 'utf8');
      return new Frame([front, body, Buffer.from(tail, 'utf8')], length);
    }
    const bytes = Buffer.allocUnsafe(prefix.length + length);
    let at = prefix.copy(bytes, 0);
    at += bytes.write(head, at, 'utf8');
    at += body.copy(bytes, at);
    bytes.write(tail, at, 'utf8');
    return new Frame([bytes], length);
  }

  /** The payload as text (for hooks and logs; this copies). */
  text(): string {
    const header = this.size - this.payloadSize;
    const [first] = this.chunks;
    if (this.chunks.length === 1 && first !== undefined) return first.toString('utf8', header);
    return Buffer.concat(this.chunks).toString('utf8', header);
  }
}
