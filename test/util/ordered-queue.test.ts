/** OrderedQueue: work runs concurrently, turns run one at a time in the order the jobs were added. */
import { describe, expect, it, vi } from 'vitest';
import { OrderedQueue } from '../../src/util/ordered-queue.js';

/** A promise settled from outside. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves once every callback queued so far (including promise reactions) has run. */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('OrderedQueue', () => {
  it('runs turns in the order the jobs were added, whatever order their work finishes in', async () => {
    const queue = new OrderedQueue(() => {});
    const turns: number[] = [];
    const work = Array.from({ length: 5 }, () => deferred<number>());
    work.forEach((w, i) => {
      queue.add(w.promise, (value) => turns.push(value), undefined, 10 + i);
    });
    expect([queue.length, queue.size]).toEqual([5, 60]);
    // Every job's work is under way at once; the last ones finish first.
    for (const i of [4, 3, 1]) work[i]?.resolve(i);
    await settled();
    expect(turns).toEqual([]);
    work[0]?.resolve(0);
    await settled();
    expect(turns).toEqual([0, 1]);
    expect([queue.length, queue.size]).toEqual([3, 39]);
    work[2]?.resolve(2);
    await settled();
    expect(turns).toEqual([0, 1, 2, 3, 4]);
    expect([queue.length, queue.size]).toEqual([0, 0]);
  });

  it('runs a settled job at once when nothing is ahead of it, and hands a failure to its own fail in its turn', async () => {
    const onTurnError = vi.fn();
    const queue = new OrderedQueue(onTurnError);
    const order: string[] = [];
    queue.add('now', (v) => order.push(v));
    expect(order).toEqual(['now']);
    const slow = deferred<string>();
    queue.add(slow.promise, (v) => order.push(v));
    queue.add(Promise.reject(new Error('bad frame')), undefined as never, (err) =>
      order.push(`failed: ${(err as Error).message}`),
    );
    queue.add('after', (v) => order.push(v));
    await settled();
    expect(order).toEqual(['now']);
    slow.resolve('slow');
    await settled();
    expect(order).toEqual(['now', 'slow', 'failed: bad frame', 'after']);
    expect(onTurnError).not.toHaveBeenCalled();
  });

  it('reports a rejected work without its own fail, and a throwing turn, to onTurnError and goes on', async () => {
    const onTurnError = vi.fn();
    const queue = new OrderedQueue(onTurnError);
    const order: string[] = [];
    queue.add(Promise.reject(new Error('work')), () => order.push('never'));
    queue.add('x', () => {
      throw new Error('turn');
    });
    queue.add('y', (v) => order.push(v));
    await settled();
    expect(order).toEqual(['y']);
    expect(onTurnError.mock.calls.map(([err]) => (err as Error).message)).toEqual(['work', 'turn']);
  });

  it('makes later turns wait for a turn that returns a promise, while their work goes on', async () => {
    const queue = new OrderedQueue(() => {});
    const order: string[] = [];
    const handler = deferred<void>();
    queue.add('first', (v) => {
      order.push(`${v} starts`);
      return handler.promise.then(() => order.push(`${v} ends`));
    });
    const second = deferred<string>();
    queue.add(second.promise, (v) => order.push(v));
    second.resolve('second');
    await settled();
    expect(order).toEqual(['first starts']);
    handler.resolve();
    await settled();
    expect(order).toEqual(['first starts', 'first ends', 'second']);
  });

  it('a settled job runs at once only on an idle queue; behind a pending turn it is counted and waits', async () => {
    const queue = new OrderedQueue(() => {});
    const order: string[] = [];
    queue.add('at once', (v) => order.push(v), undefined, 7);
    expect(order).toEqual(['at once']);
    expect([queue.length, queue.size]).toEqual([0, 0]);
    const handler = deferred<void>();
    queue.add('busy', () => handler.promise);
    queue.add('waits', (v) => order.push(v), undefined, 7);
    expect(order).toEqual(['at once']);
    expect([queue.length, queue.size]).toEqual([1, 7]);
    handler.resolve();
    await settled();
    expect(order).toEqual(['at once', 'waits']);
    expect([queue.length, queue.size]).toEqual([0, 0]);
  });

  it('clear() drops every job: their turns never run, even when their work settles later', async () => {
    const queue = new OrderedQueue(() => {});
    const turn = vi.fn();
    const pending = deferred<number>();
    queue.add(pending.promise, turn, turn, 100);
    queue.add(2, turn, turn, 1);
    queue.clear();
    expect([queue.length, queue.size]).toEqual([0, 0]);
    pending.resolve(1);
    await settled();
    expect(turn).not.toHaveBeenCalled();
    queue.add(3, turn);
    expect(turn).toHaveBeenCalledWith(3);
  });

  it('clear() during a turn that returns a promise: the queue runs new jobs at once, and the old turn does not resume it twice', async () => {
    const queue = new OrderedQueue(() => {});
    const order: string[] = [];
    const handler = deferred<void>();
    queue.add('old', () => handler.promise);
    queue.add('dropped', (v) => order.push(v));
    queue.clear();
    const slow = deferred<string>();
    queue.add(slow.promise, (v) => order.push(v));
    queue.add('quick', (v) => order.push(v));
    handler.resolve();
    await settled();
    expect(order).toEqual([]);
    slow.resolve('slow');
    await settled();
    expect(order).toEqual(['slow', 'quick']);
  });

  it('turns never nest: a job added during a turn runs after it, behind the jobs already queued', async () => {
    const queue = new OrderedQueue(() => {});
    const order: string[] = [];
    queue.add('alone', (v) => {
      queue.add('added', (w) => order.push(w));
      order.push(`${v} ends`);
    });
    expect(order).toEqual(['alone ends', 'added']);
    const first = deferred<string>();
    queue.add(first.promise, (v) => {
      queue.add('added later', (w) => order.push(w));
      order.push(`${v} ends`);
    });
    queue.add('second', (v) => order.push(v));
    first.resolve('first');
    await settled();
    expect(order).toEqual(['alone ends', 'added', 'first ends', 'second', 'added later']);
  });

  it("drop(owner) removes only that owner's jobs whose turn has not started, and counts them", async () => {
    const queue = new OrderedQueue(() => {});
    const [a, b] = [{}, {}];
    const order: string[] = [];
    const head = deferred<string>();
    const never = deferred<string>();
    queue.add(head.promise, (v) => order.push(v), undefined, 1, b);
    queue.add(never.promise, (v) => order.push(`a: ${v}`), undefined, 10, a);
    queue.add('b1', (v) => order.push(v), undefined, 2, b);
    queue.add('a2', (v) => order.push(v), undefined, 20, a);
    queue.add('nobody', (v) => order.push(v), undefined, 3);
    expect(queue.drop(a)).toEqual({ jobs: 2, size: 30 });
    expect([queue.length, queue.size]).toEqual([3, 6]);
    expect(queue.drop({})).toEqual({ jobs: 0, size: 0 });
    head.resolve('b0');
    never.resolve('late');
    await settled();
    expect(order).toEqual(['b0', 'b1', 'nobody']);
    expect([queue.length, queue.size]).toEqual([0, 0]);
    // A drop that removes the head lets the jobs behind it run at once.
    const stuck = deferred<string>();
    queue.add(stuck.promise, (v) => order.push(v), undefined, 0, a);
    queue.add('behind', (v) => order.push(v), undefined, 0, b);
    queue.drop(a);
    expect(order.at(-1)).toBe('behind');
  });

  it('resume() stops waiting for the turn that holds the queue; its promise settling later changes nothing', async () => {
    const queue = new OrderedQueue(() => {});
    const order: string[] = [];
    const handler = deferred<void>();
    queue.add('holds', () => handler.promise);
    queue.add('waits', (v) => order.push(v));
    expect(order).toEqual([]);
    queue.resume();
    expect(order).toEqual(['waits']);
    const next = deferred<void>();
    queue.add('holds again', () => next.promise);
    queue.add('after', (v) => order.push(v));
    handler.resolve();
    await settled();
    // The first promise no longer resumes the queue: the second still holds it.
    expect(order).toEqual(['waits']);
    next.resolve();
    await settled();
    expect(order).toEqual(['waits', 'after']);
  });
});
