import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Frame } from '../../src/server/transport/frame.js';
import { FlushScheduler, Outbox, type Overflow } from '../../src/server/transport/outbox.js';
import { trafficStats } from '../../src/server/transport/stats.js';

/** A stream that records each write call it gets (`_write` for one chunk, `_writev` for a corked batch). */
class RecordingStream extends Duplex {
  readonly writes: number[] = [];
  /** Copies of everything written, in order. */
  readonly bytes: Buffer[] = [];
  #pending: Array<() => void> = [];
  stalled = false;

  constructor() {
    super({ highWaterMark: 1024 });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.writes.push(1);
    this.bytes.push(Buffer.from(chunk));
    this.#finish(done);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, done: () => void): void {
    this.writes.push(chunks.length);
    for (const { chunk } of chunks) this.bytes.push(Buffer.from(chunk));
    this.#finish(done);
  }

  /** Lets every stalled write complete. */
  unstall(): void {
    this.stalled = false;
    for (const done of this.#pending.splice(0)) done();
  }

  #finish(done: () => void): void {
    if (this.stalled) this.#pending.push(done);
    else done();
  }
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Outbox', () => {
  it('writes the frames of one turn in one call, and the same frame bytes to every socket', async () => {
    const scheduler = new FlushScheduler();
    const stats = trafficStats();
    const a = new RecordingStream();
    const b = new RecordingStream();
    const outA = new Outbox(a, scheduler, 1 << 20, stats, { overflowed: () => {} });
    const outB = new Outbox(b, scheduler, 1 << 20, stats, { overflowed: () => {} });
    const shared = Frame.text('{"jsonrpc":"2.0","result":{"type":"broadcast"}}');
    for (let i = 0; i < 3; i++) {
      outA.push(shared);
      outB.push(shared);
    }
    outA.push(Frame.text('last'));
    expect(a.writes).toEqual([]);
    await turn();
    // One write call each: small batches are gathered into one buffer.
    expect(a.writes).toEqual([1]);
    expect(b.writes).toEqual([1]);
    const wire = (frames: Frame[]) => Buffer.concat(frames.flatMap((f) => [...f.chunks]));
    expect(Buffer.concat(a.bytes)).toEqual(wire([shared, shared, shared, Frame.text('last')]));
    expect(Buffer.concat(b.bytes)).toEqual(wire([shared, shared, shared]));
    expect(stats.framesOut).toBe(7);
    expect(stats.bytesOut).toBe(6 * shared.size + Frame.text('last').size);
  });

  it('never reuses the gathering buffer under a write a socket still holds', async () => {
    const scheduler = new FlushScheduler();
    /** Holds on to the very chunks it is given, as a socket does while the kernel has not taken them. */
    class HoldingStream extends RecordingStream {
      readonly held: Buffer[] = [];
      override _write(chunk: Buffer, enc: BufferEncoding, done: () => void): void {
        this.held.push(chunk);
        super._write(chunk, enc, done);
      }
    }
    const streams = Array.from({ length: 40 }, () => new HoldingStream());
    for (const stream of streams) stream.stalled = true;
    const outboxes = streams.map((s) => new Outbox(s, scheduler, 1 << 20, trafficStats(), { overflowed: () => {} }));
    // 40 batches of about 3 KB: more than one gathering buffer's worth, all held at once.
    const batch = (i: number) => [Frame.text(`${i}:${'a'.repeat(1500)}`), Frame.text(`${i}:${'b'.repeat(1500)}`)];
    outboxes.forEach((outbox, i) => {
      for (const frame of batch(i)) outbox.push(frame);
    });
    await turn();
    const wire = (frames: Frame[]) => Buffer.concat(frames.flatMap((f) => [...f.chunks]));
    streams.forEach((stream, i) => {
      expect(stream.held).toHaveLength(1);
      expect(stream.held[0]).toEqual(wire(batch(i)));
    });
    for (const stream of streams) stream.unstall();
  });

  it('writes a batch larger than the gathering buffer as one writev', async () => {
    const stream = new RecordingStream();
    const outbox = new Outbox(stream, new FlushScheduler(), 1 << 20, trafficStats(), { overflowed: () => {} });
    const big = Frame.text('z'.repeat(40_000));
    outbox.push(big);
    outbox.push(big);
    await turn();
    expect(stream.writes).toEqual([2]);
    expect(Buffer.concat(stream.bytes).length).toBe(2 * big.size);
  });

  it('holds frames while the socket is over its high-water mark and gives up past the limit', async () => {
    const scheduler = new FlushScheduler();
    const stream = new RecordingStream();
    stream.stalled = true;
    const overflows: Overflow[] = [];
    const outbox = new Outbox(stream, scheduler, 8 * 1024, trafficStats(), { overflowed: (o) => overflows.push(o) });
    const big = Frame.text('y'.repeat(2000));
    expect(outbox.push(big)).toBe(true);
    await turn();
    expect(stream.writableNeedDrain).toBe(true);
    expect(outbox.push(big) && outbox.push(big)).toBe(true);
    await turn();
    expect(stream.writes).toEqual([1]);
    expect(outbox.buffered).toBe(3 * big.size);
    expect(outbox.push(big)).toBe(true);
    expect(outbox.push(big)).toBe(false);
    expect(overflows).toEqual([{ buffered: 5 * big.size, limit: 8 * 1024 }]);
    expect(outbox.closed).toBe(true);
    expect(outbox.buffered).toBe(big.size);
    stream.unstall();
    await turn();
    expect(stream.writes).toEqual([1]);
  });
});
