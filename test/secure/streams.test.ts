/** The two ends of a delivery stream, driven without sockets: go-back-N, receipts, epochs, give-ups. */
import { describe, expect, it } from 'vitest';
import { InStream, OutStream } from '../../src/secure/streams.js';
import { prng } from './prng.js';

type M = { item: string; size: number; order: number; n: number };
const msg = (n: number, item = 'x'): M => ({ item, size: item.length, order: n, n });

describe('OutStream', () => {
  it('numbers messages, sends within the window and confirms cumulatively', () => {
    const out = new OutStream<M>(() => 0.5);
    expect(out.epoch).toBe(2 ** 31);
    for (let i = 1; i <= 5; i++) expect(out.push(msg(i))).toBe(i);
    const run = out.take(3, 64, 1e6);
    expect(run).toMatchObject({ q: 1, fresh: true });
    expect(run?.msgs.map((m) => m.n)).toEqual([1, 2, 3]);
    expect(out.take(3, 64, 1e6)).toBeUndefined();
    expect(out.inFlight).toBe(true);
    expect(out.confirm([out.epoch, 2]).map((m) => m.n)).toEqual([1, 2]);
    expect(out.settled).toBe(3);
    expect(out.take(3, 64, 1e6)?.msgs.map((m) => m.n)).toEqual([4, 5]);
    // Another epoch, or less than confirmed, changes nothing; beyond what was numbered counts up to the last.
    expect(out.confirm([out.epoch + 1, 5])).toEqual([]);
    expect(out.confirm([out.epoch, 1])).toEqual([]);
    expect(out.confirm([out.epoch, 99]).map((m) => m.n)).toEqual([3, 4, 5]);
    expect(out.size).toBe(0);
    expect(out.inFlight).toBe(false);
  });

  it('puts a message that waited before those submitted after it, among the ones never sent', () => {
    const out = new OutStream<M>();
    out.push(msg(1));
    out.push(msg(2));
    out.take(10, 64, 1e6);
    out.rewind();
    out.push(msg(5));
    out.push(msg(6));
    // Submitted before 5 and 6 but put on the stream after them: it goes first of the unsent, not before sent ones.
    expect(out.push(msg(4))).toBe(3);
    expect(out.push(msg(0))).toBe(3);
    expect(out.take(10, 64, 1e6)?.msgs.map((m) => m.n)).toEqual([1, 2, 0, 4, 5, 6]);
  });

  it('goes back after a rewind, and a re-sent run is not fresh', () => {
    const out = new OutStream<M>();
    for (let i = 1; i <= 4; i++) out.push(msg(i));
    out.take(10, 2, 1e6);
    out.take(10, 2, 1e6);
    out.confirm([out.epoch, 1]);
    out.rewind();
    const again = out.take(10, 64, 1e6);
    expect(again).toMatchObject({ q: 2, fresh: false });
    expect(again?.msgs.map((m) => m.n)).toEqual([2, 3, 4]);
  });

  it('keeps its order over thousands of confirmed messages', () => {
    const out = new OutStream<M>();
    const seen: number[] = [];
    for (let n = 0; n < 5000; n++) {
      out.push(msg(n));
      const run = out.take(300, 64, 1e6);
      if (n % 7 === 0 && run) seen.push(...out.confirm([out.epoch, run.q + run.msgs.length - 1]).map((m) => m.n));
    }
    while (out.take(300, 64, 1e6)) {
      // Sends the rest; the receipt below covers it all.
    }
    seen.push(...out.confirm([out.epoch, 5000]).map((m) => m.n));
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, n) => n));
    expect([out.size, out.settled]).toEqual([0, 5001]);
  });

  it('bounds an envelope by items and characters, but always takes one', () => {
    const out = new OutStream<M>();
    out.push(msg(1, 'a'.repeat(10)));
    out.push(msg(2, 'b'.repeat(10)));
    out.push(msg(3, 'c'));
    expect(out.take(10, 64, 5)?.msgs.map((m) => m.n)).toEqual([1]);
    expect(out.take(10, 64, 11)?.msgs.map((m) => m.n)).toEqual([2, 3]);
  });

  it('gives up the head at once and a later message once those before it settled', () => {
    const out = new OutStream<M>();
    const [a, b, c] = [msg(1), msg(2), msg(3)];
    out.push(a);
    out.push(b);
    out.push(c);
    expect(out.expire(b)).toBe(true);
    expect(out.release()).toEqual([]);
    // Nothing past a given-up message is sent while it waits behind an open one.
    expect(out.take(10, 64, 1e6)?.msgs).toEqual([a]);
    expect(out.ready(10)).toBe(false);
    expect(out.confirm([out.epoch, 1])).toEqual([a]);
    expect(out.release()).toEqual([b]);
    expect(out.settled).toBe(3);
    expect(out.take(10, 64, 1e6)).toMatchObject({ q: 3, msgs: [c] });
    expect(out.expire(msg(9))).toBe(false);
  });
});

describe('InStream', () => {
  it('delivers the next numbers only, skips duplicates and asks once per gap', () => {
    const s = new InStream();
    expect(s.accept(7, 1, 1, 3)).toEqual({ start: 0, gap: false, skipped: 0 });
    expect(s.delivered).toBe(3);
    expect(s.accept(7, 1, 2, 3)).toEqual({ start: 2, gap: false, skipped: 0 });
    expect(s.delivered).toBe(4);
    expect(s.accept(7, 1, 7, 1)).toEqual({ start: 1, gap: true, skipped: 0 });
    expect(s.accept(7, 1, 8, 1)).toEqual({ start: 1, gap: false, skipped: 0 });
    expect(s.receipt()).toEqual([7, 4]);
    expect(s.owed).toBe(false);
  });

  it("starts a new epoch at the sender's f and skips what the sender gave up", () => {
    const s = new InStream();
    s.accept(1, 1, 1, 2);
    expect(s.accept(2, 5, 5, 1)).toEqual({ start: 0, gap: false, skipped: 0 });
    expect(s.delivered).toBe(5);
    expect(s.accept(2, 9, 9, 1)).toEqual({ start: 0, gap: false, skipped: 3 });
    expect(s.delivered).toBe(9);
  });
});

it('a lossy, duplicating channel still delivers every message once and in order', () => {
  for (let trial = 0; trial < 100; trial++) {
    const random = prng(trial + 1);
    const out = new OutStream<M>(random);
    const inn = new InStream();
    const delivered: number[] = [];
    const wire: Array<{ f: number; q: number; msgs: M[] }> = [];
    const receipts: Array<[number, number]> = [];
    let submitted = 0;
    for (let step = 0; step < 100_000 && delivered.length < 300; step++) {
      const roll = random();
      if (submitted < 300 && roll < 0.3) out.push(msg(submitted++));
      else if (roll < 0.5) {
        const run = out.take(16, 5, 1e6);
        // 20 % of envelopes are lost.
        if (run && random() > 0.2) wire.push({ f: out.settled, q: run.q, msgs: run.msgs });
      } else if (roll < 0.75 && wire.length) {
        const { f, q, msgs } = wire.shift() as (typeof wire)[number];
        const { start, gap } = inn.accept(out.epoch, f, q, msgs.length);
        if (!gap) for (const m of msgs.slice(start)) delivered.push(m.n);
        if (random() > 0.2) receipts.push(inn.receipt());
      } else if (roll < 0.95 && receipts.length) out.confirm(receipts.shift() as [number, number]);
      else if (roll >= 0.95) out.rewind();
    }
    expect(delivered, `trial ${trial}`).toEqual(Array.from({ length: 300 }, (_, i) => i));
  }
});
