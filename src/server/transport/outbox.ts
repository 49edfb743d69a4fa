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

/** Longest a socket that was just written to waits for its next write. */
const MAX_PAUSE_MS = 200;
/** The pause is this many times the CPU time of the last flush: writes take at most about a quarter of the time. */
const PAUSE_PER_FLUSH = 3;
/** Queued bytes that are written at once, however recent the last write. */
const COALESCE_BYTES = 64 * 1024;

/**
 * Collects the outboxes that have frames in this turn and writes them once the
 * turn's I/O is done. Under a storm (every connect is announced to every
 * peer) writes are what the server spends its time on, so the scheduler keeps
 * them to about a quarter of it: a socket written to less than three times the CPU
 * time of the last flush ago waits that long (at most 200 ms, or until 64 KiB
 * are queued), gathering more frames for one write. A socket that was
 * quiet is written at once, and a light flush makes the pause tiny, so light
 * traffic gets no delay.
 */
export class FlushScheduler {
  #dirty: Outbox[] = [];
  #immediate: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** Three times the CPU time of the last flush: the pause before a socket just written to is written again. */
  #pause = 0;

  /** Asks for `outbox` to be flushed at the end of this turn. */
  schedule(outbox: Outbox): void {
    this.#dirty.push(outbox);
    if (this.#timer === null) this.#immediate ??= setImmediate(() => this.flushAll());
  }

  /** Writes every scheduled outbox that is due (all of them with `force`). */
  flushAll(force = false): void {
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#immediate = this.#timer = null;
    const started = performance.now();
    const cpu = process.cpuUsage();
    const later: Outbox[] = [];
    for (const outbox of this.#dirty) {
      if (!force && started - outbox.lastWrite < this.#pause && outbox.queued < COALESCE_BYTES) later.push(outbox);
      else outbox.flush(started);
    }
    this.#dirty = later;
    // CPU time, not wall time: on a busy machine a flush can be preempted, which is no reason to write less often.
    const spent = process.cpuUsage(cpu);
    this.#pause = Math.min(MAX_PAUSE_MS, (PAUSE_PER_FLUSH * (spent.user + spent.system)) / 1000);
    if (later.length > 0) this.#timer = setTimeout(() => this.flushAll(), Math.max(1, this.#pause));
  }

  /** Writes everything queued and stops the timers. */
  close(): void {
    this.flushAll(true);
  }
}

/** Why an outbox refused a frame. */
export type Overflow = { readonly buffered: number; readonly limit: number };

/** Who is told when an outbox gives up (an object, not a closure per socket). */
export interface OutboxOwner {
  /** Called once, when a frame would take the outbox past its limit; the outbox is closed by then. */
  overflowed(overflow: Overflow): void;
}

/** The queue of frames bound for one socket. */
export class Outbox {
  readonly #socket: Duplex;
  readonly #scheduler: FlushScheduler;
  readonly #limit: number;
  readonly #stats: TrafficStats;
  readonly #owner: OutboxOwner;
  #chunks: Buffer[] | null = null;
  #bytes = 0;
  /**
   * What the socket held after the last write: an upper bound of what it holds
   * now (it only drains meanwhile), read without a call into the stream per frame.
   */
  #socketBytes = 0;
  #frames = 0;
  #scheduled = false;
  #waitingForDrain = false;
  /** `performance.now()` of the last write (for the scheduler's pacing). */
  lastWrite = Number.NEGATIVE_INFINITY;
  #closed = false;

  /**
   * @param limit most bytes that may wait (here and in the socket) before the
   *   connection is given up; `owner.overflowed` is called once when a frame would pass it.
   */
  constructor(socket: Duplex, scheduler: FlushScheduler, limit: number, stats: TrafficStats, owner: OutboxOwner) {
    this.#socket = socket;
    this.#scheduler = scheduler;
    this.#limit = limit;
    this.#stats = stats;
    this.#owner = owner;
  }

  /** Most bytes that may wait (`maxBufferedBytes`). */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes waiting here and in the socket. */
  get buffered(): number {
    return this.#bytes + this.#socket.writableLength;
  }

  /** Bytes queued here, not yet handed to the socket. */
  get queued(): number {
    return this.#bytes;
  }

  /** `buffered`, or a little more (the socket's bytes as of the last write), without asking the socket. */
  get #bound(): number {
    return this.#bytes + this.#socketBytes;
  }

  /** Whether the outbox takes no more frames (overflowed or closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues a frame; returns `false` (and sends nothing) once the outbox is closed or the frame overflows it. */
  push(frame: Frame): boolean {
    if (this.#closed) return false;
    if (this.#bound + frame.size > this.#limit) {
      const buffered = this.buffered + frame.size;
      this.#socketBytes = this.#socket.writableLength;
      if (buffered > this.#limit) {
        this.close();
        this.#owner.overflowed({ buffered, limit: this.#limit });
        return false;
      }
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
  flush(now = performance.now()): void {
    this.#scheduled = false;
    const chunks = this.#chunks;
    if (chunks === null || this.#closed) return;
    if (this.#socket.writableNeedDrain) {
      this.#awaitDrain();
      return;
    }
    const bytes = this.#bytes;
    this.#stats.framesOut += this.#frames;
    this.#stats.bytesOut += bytes;
    this.#stats.writes++;
    this.lastWrite = now;
    this.#chunks = null;
    this.#bytes = 0;
    this.#frames = 0;
    const socket = this.#socket;
    if (!socket.writable) return;
    if (chunks.length === 1) {
      socket.write(chunks[0] as Buffer);
    } else {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
    }
    this.#socketBytes = socket.writableLength;
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
      this.#socketBytes = this.#socket.writableLength;
      this.flush();
    };
    this.#socket.on('drain', resume);
    this.#socket.on('close', resume);
  }
}
