/**
 * The outbound side of one server socket: frames queued during a turn of the
 * event loop go out in one write (corked, so Node hands them to the kernel in
 * one `writev`), and a bound on what may wait (`maxBufferedBytes`) past which
 * the connection is given up instead of growing the server's memory.
 *
 * Frames wait here, not in the socket, while the socket is over its high-water
 * mark: so when a reader stops reading, the socket holds at most one write past
 * that mark, the rest waits here, and dropping the queue frees it at once.
 */
import type { Duplex } from 'node:stream';
import type { Frame } from './frame.js';
import type { TrafficStats } from './stats.js';

/** Collects the outboxes that have frames in this turn and writes them all once the turn's I/O is done. */
export class FlushScheduler {
  #dirty: Outbox[] = [];
  #immediate: NodeJS.Immediate | null = null;

  /** Asks for `outbox` to be flushed at the end of this turn. */
  schedule(outbox: Outbox): void {
    this.#dirty.push(outbox);
    this.#immediate ??= setImmediate(() => this.flushAll());
  }

  /** Writes every scheduled outbox now. */
  flushAll(): void {
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#immediate = null;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const outbox of dirty) outbox.flush();
  }
}

/** Why an outbox refused a frame. */
export type Overflow = { readonly buffered: number; readonly limit: number };

/** The queue of frames bound for one socket. */
export class Outbox {
  readonly #socket: Duplex;
  readonly #scheduler: FlushScheduler;
  readonly #limit: number;
  readonly #stats: TrafficStats;
  readonly #onOverflow: (overflow: Overflow) => void;
  #chunks: Buffer[] | null = null;
  #bytes = 0;
  #frames = 0;
  #scheduled = false;
  #waitingForDrain = false;
  #closed = false;

  /**
   * @param limit most bytes that may wait (here and in the socket) before the
   *   connection is given up; `onOverflow` is called once when a frame would pass it.
   */
  constructor(
    socket: Duplex,
    scheduler: FlushScheduler,
    limit: number,
    stats: TrafficStats,
    onOverflow: (overflow: Overflow) => void,
  ) {
    this.#socket = socket;
    this.#scheduler = scheduler;
    this.#limit = limit;
    this.#stats = stats;
    this.#onOverflow = onOverflow;
  }

  /** Most bytes that may wait (`maxBufferedBytes`). */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes waiting here and in the socket. */
  get buffered(): number {
    return this.#bytes + this.#socket.writableLength;
  }

  /** Whether the outbox takes no more frames (overflowed or closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a frame; returns `false` (and sends nothing) once the outbox is closed or the frame overflows it. */
  push(frame: Frame): boolean {
    if (this.#closed) return false;
    const buffered = this.buffered + frame.size;
    if (buffered > this.#limit) {
      this.close();
      this.#onOverflow({ buffered, limit: this.#limit });
      return false;
    }
    this.#chunks ??= [];
    for (const chunk of frame.chunks) this.#chunks.push(chunk);
    this.#bytes += frame.size;
    this.#frames++;
    if (!this.#scheduled && !this.#waitingForDrain) {
      this.#scheduled = true;
      this.#scheduler.schedule(this);
    }
    return true;
  }

  /** Writes what is queued in one go, unless the socket is still over its high-water mark (then on 'drain'). */
  flush(): void {
    this.#scheduled = false;
    const chunks = this.#chunks;
    if (chunks === null || this.#closed) return;
    if (this.#socket.writableNeedDrain) {
      this.#awaitDrain();
      return;
    }
    this.#stats.framesOut += this.#frames;
    this.#stats.bytesOut += this.#bytes;
    this.#chunks = null;
    this.#bytes = 0;
    this.#frames = 0;
    const socket = this.#socket;
    if (!socket.writable) return;
    if (chunks.length === 1) {
      socket.write(chunks[0] as Buffer);
      return;
    }
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
  }

  /** Drops what is queued and takes nothing more. */
  close(): void {
    this.#closed = true;
    this.#chunks = null;
    this.#bytes = 0;
    this.#frames = 0;
  }

  #awaitDrain(): void {
    if (this.#waitingForDrain) return;
    this.#waitingForDrain = true;
    const resume = (): void => {
      this.#socket.off('drain', resume);
      this.#socket.off('close', resume);
      this.#waitingForDrain = false;
      this.flush();
    };
    this.#socket.on('drain', resume);
    this.#socket.on('close', resume);
  }
}
