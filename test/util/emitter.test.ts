import { EventEmitter as Reference } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { EventEmitter } from '../../src/util/emitter.js';

interface Events {
  a: (value: number) => void;
  b: (x: string, y: string) => void;
}

describe('EventEmitter', () => {
  it('calls listeners in registration order with the arguments and their context', () => {
    const e = new EventEmitter<Events>();
    const calls: unknown[] = [];
    const ctx = { name: 'ctx' };
    e.on(
      'b',
      function (this: unknown, x, y) {
        calls.push([this, x, y]);
      },
      ctx,
    );
    e.addListener('b', (x) => calls.push(x));
    expect(e.emit('b', 'x', 'y')).toBe(true);
    expect(calls).toEqual([[ctx, 'x', 'y'], 'x']);
    expect(e.emit('a', 1)).toBe(false);
  });

  it('calls a listener without a context with the emitter as this, as eventemitter3 does', () => {
    const e = new EventEmitter<Events>();
    let self: unknown;
    e.on('a', function (this: unknown) {
      self = this;
    });
    e.emit('a', 1);
    expect(self).toBe(e);
  });

  it('removes once-listeners before calling them, so a re-emit inside does not call them again', () => {
    const e = new EventEmitter<Events>();
    const seen: number[] = [];
    e.once('a', (v) => {
      seen.push(v);
      e.emit('a', v + 1);
    });
    e.emit('a', 1);
    e.emit('a', 5);
    expect(seen).toEqual([1]);
    expect(e.listenerCount('a')).toBe(0);
    expect(e.eventNames()).toEqual([]);
  });

  it('off() matches the listener, then the context when given, then once-ness when asked', () => {
    const e = new EventEmitter<Events>();
    const fn = (): void => {};
    const other = (): void => {};
    const [c1, c2] = [{}, {}];
    e.on('a', fn, c1).on('a', fn, c2).once('a', fn, c1).on('a', other);
    e.off('a', fn, c1, true);
    expect(e.listenerCount('a')).toBe(3);
    e.off('a', fn, c2);
    expect(e.listeners('a')).toEqual([fn, other]);
    e.removeListener('a', fn);
    expect(e.listeners('a')).toEqual([other]);
    e.off('a');
    expect(e.eventNames()).toEqual([]);
  });

  it('an emit calls exactly the listeners registered when it started', () => {
    const e = new EventEmitter<Events>();
    const calls: string[] = [];
    const second = (): void => {
      calls.push('second');
    };
    e.on('a', () => {
      calls.push('first');
      e.off('a', second);
      e.on('a', () => calls.push('added'));
    });
    e.on('a', second);
    e.emit('a', 0);
    expect(calls).toEqual(['first', 'second']);
    calls.length = 0;
    e.emit('a', 0);
    expect(calls).toEqual(['first', 'added']);
  });

  it('refuses a listener that is not a function, at registration (eventemitter3 throws there too)', () => {
    const e = new EventEmitter<Events>();
    const reference = new Reference<Events>();
    expect(() => reference.on('a', undefined as never)).toThrow(TypeError);
    expect(() => e.on('a', undefined as never)).toThrow(InvalidArgumentError);
    expect(() => e.once('a', 'x' as never)).toThrow(/listener of 'a' must be a function, got string/);
    expect(e.listenerCount('a')).toBe(0);
  });

  it('removeAllListeners() clears one event or all', () => {
    const e = new EventEmitter<Events>();
    e.on('a', () => {}).on('b', () => {});
    e.removeAllListeners('a');
    expect(e.eventNames()).toEqual(['b']);
    e.removeAllListeners();
    expect(e.eventNames()).toEqual([]);
  });

  it('behaves as eventemitter3 over 2000 random sequences of on/once/off/emit', () => {
    const fns = [0, 1, 2].map((i) => i);
    const contexts = [undefined, { c: 1 }, { c: 2 }];
    const random = (n: number): number => Math.floor(Math.random() * n);
    for (let run = 0; run < 2000; run++) {
      const logs: string[][] = [[], []];
      const emitters = [new EventEmitter<Events>(), new Reference<Events>()] as const;
      // One listener function per (emitter, index), logging which one ran with which context.
      const listeners = emitters.map((_, side) =>
        fns.map(
          (i) =>
            function (this: unknown, value: number) {
              logs[side]!.push(
                `${i}:${this === emitters[side] ? 'emitter' : contexts.indexOf(this as never)}:${value}`,
              );
            },
        ),
      );
      for (let step = 0; step < 16; step++) {
        const [op, i, c, once] = [random(4), random(3), random(3), random(2) === 1];
        emitters.forEach((e, side) => {
          const fn = listeners[side]![i]! as Events['a'];
          const context = contexts[c];
          if (op === 0) e.on('a', fn, context);
          else if (op === 1) e.once('a', fn, context);
          else if (op === 2) e.off('a', fn, context, once);
          else logs[side]!.push(`emit ${e.emit('a', step)}`);
        });
        expect(emitters[0].listenerCount('a')).toBe(emitters[1].listenerCount('a'));
      }
      expect(logs[0]).toEqual(logs[1]);
    }
  });
});
