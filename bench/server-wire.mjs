// A minimal WebSocket client for the server benchmarks: thousands of them must
// cost the client processes as little as possible, so the server is what gets
// measured. It speaks just enough RFC 6455 (upgrade, masked text frames with a
// zero key, unfragmented server frames, ping/close) and hands each incoming
// text frame to a callback as (buffer, start, end) without copying or parsing it.
import { connect } from 'node:net';

const ZERO_MASK = Buffer.alloc(4);

/** The header of a client text frame with a zero masking key (the payload is then sent as is). */
function clientHeader(length, opcode = 0x81) {
  if (length < 126) return Buffer.concat([Buffer.from([opcode, 0x80 | length]), ZERO_MASK]);
  if (length < 65536) {
    const head = Buffer.alloc(8);
    head[0] = opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(length, 2);
    return head;
  }
  const head = Buffer.alloc(14);
  head[0] = opcode;
  head[1] = 0x80 | 127;
  head.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
  head.writeUInt32BE(length >>> 0, 6);
  return head;
}

/** Bytes of the frame starting at `offset` (header included), or -1 while its header is incomplete. */
function frameLength(buf, offset, available) {
  if (available < 2) return -1;
  const len = buf[offset + 1] & 0x7f;
  if (len < 126) return 2 + len;
  if (len === 126) return available < 4 ? -1 : 4 + buf.readUInt16BE(offset + 2);
  return available < 10 ? -1 : 10 + buf.readUInt32BE(offset + 2) * 2 ** 32 + buf.readUInt32BE(offset + 6);
}

/** Bytes of header needed to know a frame's length. */
function headerLength(buf, offset, available) {
  if (available < 2) return 2;
  const len = buf[offset + 1] & 0x7f;
  return len === 126 ? 4 : 10;
}

export class WireClient {
  /** Text frames received. */
  frames = 0;
  closed = false;
  #socket;
  #onText;
  #chunks = [];
  #buffered = 0;
  #need = 0;

  constructor(socket, onText, state) {
    this.#socket = socket;
    this.#onText = onText;
    /** The caller's per-client state, there before the first frame is handed over. */
    this.state = state;
  }

  /**
   * Connects and upgrades. `onText(client, buf, start, end)` gets every text frame's payload;
   * `state` is available as `client.state` from the first frame on.
   * @returns {Promise<WireClient>}
   */
  static open(url, onText, state = null) {
    const { hostname, port, pathname, search } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port), noDelay: true });
      const target = `${pathname}${search}`;
      let head = Buffer.alloc(0);
      const onData = (chunk) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        if (!head.subarray(0, 12).toString().includes(' 101')) {
          socket.destroy();
          reject(new Error(`upgrade refused: ${head.subarray(0, head.indexOf('\r\n')).toString()}`));
          return;
        }
        const client = new WireClient(socket, onText, state);
        socket.on('data', (data) => client.#onData(data));
        socket.on('close', () => {
          client.closed = true;
        });
        resolve(client);
        if (head.length > end + 4) client.#onData(head.subarray(end + 4));
      };
      socket.on('data', onData);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.write(
          `GET ${target} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
      });
    });
  }

  /** Sends one text frame. */
  send(text) {
    const payload = Buffer.from(text);
    this.#socket.cork();
    this.#socket.write(clientHeader(payload.length));
    this.#socket.write(payload);
    this.#socket.uncork();
  }

  /** Stops reading (the kernel buffers fill, then the server's). */
  pause() {
    this.#socket.pause();
  }

  resume() {
    this.#socket.resume();
  }

  destroy() {
    this.#socket.destroy();
  }

  #onData(chunk) {
    if (this.#chunks.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered < this.#need) return;
      chunk = Buffer.concat(this.#chunks, this.#buffered);
      this.#chunks = [];
      this.#buffered = 0;
    }
    let offset = 0;
    while (offset < chunk.length) {
      const available = chunk.length - offset;
      const length = frameLength(chunk, offset, available);
      if (length === -1 || length > available) {
        this.#chunks.push(chunk.subarray(offset));
        this.#buffered = available;
        this.#need = length === -1 ? headerLength(chunk, offset, available) : length;
        return;
      }
      this.#frame(chunk, offset, length);
      offset += length;
    }
  }

  #frame(buf, offset, length) {
    const opcode = buf[offset] & 0x0f;
    const lenByte = buf[offset + 1] & 0x7f;
    const start = offset + (lenByte < 126 ? 2 : lenByte === 126 ? 4 : 10);
    const end = offset + length;
    if (opcode === 1) {
      this.frames++;
      this.#onText(this, buf, start, end);
    } else if (opcode === 9) {
      const payload = buf.subarray(start, end);
      this.#socket.write(Buffer.concat([clientHeader(payload.length, 0x8a), payload]));
    } else if (opcode === 8) {
      this.closeCode = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      this.#socket.end();
    }
  }
}
