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

/** Longest a socket that was just written to waits for its next write (pushes only; answers never wait). */
const MAX_PAUSE_MS = 1000;
/** The pause is this many times the CPU time of writing every busy socket once: writes take about a quarter of the time. */
const PAUSE_PER_FLUSH = 3;
/** Fewer busy sockets than this are light traffic: no pause. */
const LARGE_FLUSH = 64;
/** Batches up to this size are copied into a shared slab and written with one plain write. */
const SCRATCH_BYTES = 64 * 1024;
/** Queued bytes that are written at once, however recent the last write. */
const COALESCE_BYTES = 64 * 1024;

/**
 * Collects the outboxes that have frames in this turn and writes them once the
 * turn's I/O is done, each in one system call.
 *
 * Under a storm (every connect announced to every peer) those system calls are
 * what the server spends its time on, so the scheduler keeps them to about a
 * quarter of it: with many sockets busy, pushes to a socket written to less
 * than three times the CPU time of writing every busy socket once ago wait
 * that long (at most a second, or until 64 KiB are queued), gathering more
 * frames for one write. Only sockets whose last write carried several frames
 * are held, the pause wears off as time passes, answers to requests are never
 * held, and a socket that was quiet is written at once: light traffic gets no
 * delay.
 */
export class FlushScheduler {
  #dirty: Outbox[] = [];
  #immediate: NodeJS.Immediate | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** The pause as of `#flushedAt`; it wears off one millisecond per millisecond. */
  #pause = 0;
  #flushedAt = 0;
  /** CPU microseconds one socket write costs (a running average over large flushes). */
  #writeCost = 0;
  /**
   * Where small batches are gathered for their write, one after another. A
   * socket that takes the whole write at once (the usual case) leaves its
   * bytes free for the next socket's batch; one that keeps part of it keeps
   * just its batch's bytes of the slab, and the next batch goes after them
   * (a new slab once this one is full). So under a storm, when thousands of
   * sockets hold a write each, they share slabs: memory follows the bytes
   * they hold, not a whole slab per socket, and the allocator is asked for
   * far fewer buffers, which it can give back once they drain.
   */
  #slab = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** Bytes of the slab still held by sockets' pending writes. */
  #held = 0;

  /** Asks for `outbox` to be flushed at the end of this turn (or after the pause). */
  schedule(outbox: Outbox): void {
    this.#dirty.push(outbox);
    if (this.#timer === null) this.urge();
  }

  /** Runs a flush at the end of this turn even while a pause is running (an answer is waiting). */
  urge(): void {
    this.#immediate ??= setImmediate(() => this.flushAll());
  }

  /** Writes every scheduled outbox that is due (all of them with `force`). */
  flushAll(force = false): void {
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#immediate = this.#timer = null;
    const started = performance.now();
    const pause = Math.max(0, this.#pause - (started - this.#flushedAt));
    const busy = this.#dirty.length;
    const cpu = busy >= LARGE_FLUSH ? process.cpuUsage() : null;
    const later: Outbox[] = [];
    for (const outbox of this.#dirty) {
      if (!force && outbox.mayWait(started, pause)) later.push(outbox);
      else outbox.flush(started);
    }
    this.#dirty = later;
    const written = busy - later.length;
    if (cpu && written >= LARGE_FLUSH) this.#learnWriteCost(process.cpuUsage(cpu), written);
    // Writing every busy socket once per pause then takes a quarter of the time.
    const wanted = busy >= LARGE_FLUSH ? (PAUSE_PER_FLUSH * this.#writeCost * busy) / 1000 : 0;
    this.#pause = Math.min(MAX_PAUSE_MS, Math.max(pause, wanted));
    this.#flushedAt = started;
    if (later.length > 0) this.#timer = setTimeout(() => this.flushAll(), Math.max(1, this.#pause / 4));
  }

  /** Keeps a running average of the CPU microseconds one socket write costs. */
  #learnWriteCost(spent: NodeJS.CpuUsage, writes: number): void {
    const cost = (spent.user + spent.system) / writes;
    this.#writeCost = this.#writeCost === 0 ? cost : 0.8 * this.#writeCost + 0.2 * cost;
  }

  /**
   * Writes `chunks` (`bytes` in all) to `socket` in one system call: copied
   * into the scratch buffer when they fit, else as one corked `writev`.
   */
  write(socket: Duplex, chunks: readonly Buffer[], bytes: number): void {
    if (chunks.length === 1) {
      socket.write(chunks[0] as Buffer);
      return;
    }
    if (bytes > SCRATCH_BYTES) {
      socket.cork();
      for (const chunk of chunks) socket.write(chunk);
      socket.uncork();
      return;
    }
    if (bytes > SCRATCH_BYTES - this.#held) {
      this.#slab = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
      this.#held = 0;
    }
    const start = this.#held;
    let offset = start;
    for (const chunk of chunks) offset += chunk.copy(this.#slab, offset);
    socket.write(this.#slab.subarray(start, offset));
    // Still queued in the stream: those bytes are the socket's until it drains.
    if (socket.writableLength > 0) this.#held = offset;
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
  #lastWrite = Number.NEGATIVE_INFINITY;
  /** An answer is queued: write at the next flush, whatever the pause. */
  #urgent = false;
  /**
   * The last write carried several frames: frames come faster than writes, so
   * holding the next write back gathers more. A socket paced slower (one frame
   * per write) is never held.
   */
  #busy = false;
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

  /** Whether the scheduler may hold this outbox back: pushes only, to a busy socket written `pause` ms ago or less, under `COALESCE_BYTES`. */
  mayWait(now: number, pause: number): boolean {
    return !this.#urgent && this.#busy && now - this.#lastWrite < pause && this.#bytes < COALESCE_BYTES;
  }

  /** `buffered`, or a little more (the socket's bytes as of the last write), without asking the socket. */
  get #bound(): number {
    return this.#bytes + this.#socketBytes;
  }

  /** Whether the outbox takes no more frames (overflowed or closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Queues a frame; returns `false` (and sends nothing) once the outbox is
   * closed or the frame overflows it. `urgent` (an answer to a request) is
   * written at the next flush even during a pause.
   */
  push(frame: Frame, urgent = false): boolean {
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
    if (urgent) {
      this.#urgent = true;
      if (this.#scheduled) this.#scheduler.urge();
    }
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
    this.#busy = this.#frames > 1;
    this.#stats.framesOut += this.#frames;
    this.#stats.bytesOut += bytes;
    this.#stats.writes++;
    this.#lastWrite = now;
    this.#urgent = false;
    this.#chunks = null;
    this.#bytes = 0;
    this.#frames = 0;
    const socket = this.#socket;
    if (!socket.writable) return;
    this.#scheduler.write(socket, chunks, bytes);
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
