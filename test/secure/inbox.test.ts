/** The incoming backlog on its own: work in parallel, commits in arrival order, bounds, drops. */
import { describe, expect, it } from 'vitest';
import { Inbox, type InboxTask, sizeOf } from '../../src/secure/inbox.js';

/** A promise and its resolver. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const owner = {};
const limits = { frames: 100, bytes: 1_000_000 };

describe('Inbox', () => {
  it('commits in arrival order whatever order the work finishes in; work without waiting runs at once', async () => {
    const inbox = new Inbox(limits, (e) => {
      throw e;
    });
    const order: string[] = [];
    const work = [deferred<string>(), deferred<string>(), deferred<string>()];
    const task = (i: number): InboxTask =>
      ({ owner, size: 1, ready: work[i]?.promise, commit: (v) => void order.push(v as string) }) as InboxTask;
    inbox.push({ owner, size: 0, commit: () => void order.push('now') });
    expect(order).toEqual(['now']);
    for (const i of [0, 1, 2]) inbox.push(task(i));
    inbox.push({ owner, size: 1, commit: () => void order.push('after') });
    expect(inbox.frames).toBe(4);
    const idle = inbox.idle();
    work[2]?.resolve('c');
    work[1]?.resolve('b');
    await work[1]?.promise;
    expect(order).toEqual(['now']);
    work[0]?.resolve('a');
    await idle;
    expect(order).toEqual(['now', 'a', 'b', 'c', 'after']);
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });

  it('refuses a task past either bound, and counts only what waits', async () => {
    const inbox = new Inbox({ frames: 2, bytes: 10 }, () => {});
    const hold = deferred<void>();
    expect(inbox.push({ owner, size: 4, ready: hold.promise, commit: () => undefined })).toBe(true);
    expect(inbox.push({ owner, size: 7, commit: () => undefined })).toBe(false);
    expect(inbox.push({ owner, size: 6, commit: () => undefined })).toBe(true);
    expect(inbox.push({ owner, size: 0, commit: () => undefined })).toBe(false);
    // The session's own tasks are never refused.
    expect(inbox.push({ owner, size: 0, commit: () => undefined }, true)).toBe(true);
    expect([inbox.frames, inbox.bytes]).toEqual([2, 10]);
    hold.resolve();
    await inbox.idle();
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });

  it("drop() removes an owner's waiting tasks, even behind work that never finishes", async () => {
    const inbox = new Inbox(limits, () => {});
    const other = {};
    const seen: string[] = [];
    inbox.push({ owner, size: 5, ready: new Promise(() => {}), commit: () => void seen.push('never') });
    inbox.push({ owner, size: 5, commit: () => void seen.push('dropped') });
    inbox.push({ owner: other, size: 5, commit: () => void seen.push('other') });
    expect(inbox.drop(owner)).toBe(2);
    await inbox.idle();
    expect(seen).toEqual(['other']);
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });

  it('a commit may wait again in its place; a listener pushing meanwhile waits its turn; a throw is reported', async () => {
    const errors: unknown[] = [];
    const inbox = new Inbox(limits, (e) => errors.push(e));
    const order: string[] = [];
    const again = deferred<string>();
    inbox.push({
      owner,
      size: 3,
      commit: () => {
        inbox.push({ owner, size: 1, commit: () => void order.push('pushed during commit') });
        return { owner, size: 99, ready: again.promise, commit: (v) => void order.push(v as string) };
      },
    });
    inbox.push({
      owner,
      size: 1,
      commit: () => {
        throw new Error('bug');
      },
    });
    expect([inbox.frames, inbox.bytes]).toEqual([3, 5]);
    again.resolve('second wait');
    await inbox.idle();
    expect(order).toEqual(['second wait', 'pushed during commit']);
    expect(errors).toHaveLength(1);
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });

  it('drop() takes a task waiting again in its place too: what it waits for never commits, the tasks behind it run at once', async () => {
    const inbox = new Inbox(limits, () => {});
    const other = {};
    const seen: string[] = [];
    const again = deferred<string>();
    inbox.push({
      owner,
      size: 4,
      commit: () => ({ owner, size: 0, ready: again.promise, commit: () => void seen.push('never') }),
    });
    inbox.push({ owner: other, size: 2, commit: () => void seen.push('other') });
    inbox.push({ owner, size: 3, commit: () => void seen.push('dropped') });
    expect([inbox.frames, inbox.bytes]).toEqual([3, 9]);
    expect(inbox.drop(owner)).toBe(2);
    expect(seen).toEqual(['other']);
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
    again.resolve('late');
    await inbox.idle();
    expect(seen).toEqual(['other']);
  });

  it('drop() during a commit: the commit finishes, nothing takes its place, the tasks behind it follow it', async () => {
    const inbox = new Inbox(limits, () => {});
    const other = {};
    const seen: string[] = [];
    const work = deferred<void>();
    inbox.push({
      owner,
      size: 1,
      ready: work.promise,
      commit: () => {
        seen.push(`dropped ${inbox.drop(owner)}`);
        return { owner, size: 0, commit: () => void seen.push('never') };
      },
    });
    inbox.push({ owner, size: 1, commit: () => void seen.push('never either') });
    inbox.push({ owner: other, size: 1, commit: () => void seen.push('other') });
    work.resolve();
    await inbox.idle();
    expect(seen).toEqual(['dropped 1', 'other']);
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });

  it("the session's own tasks are never dropped; a task whose work rejects (a bug) is reported and frees its share", async () => {
    const errors: unknown[] = [];
    const inbox = new Inbox(limits, (e) => errors.push(e));
    const seen: string[] = [];
    const hold = deferred<void>();
    inbox.push({ owner, size: 1, ready: hold.promise, commit: () => void seen.push('frame') });
    inbox.push({ owner, size: 0, commit: () => void seen.push('own') }, true);
    expect(inbox.drop(owner)).toBe(1);
    await inbox.idle();
    expect(seen).toEqual(['own']);
    inbox.push({ owner, size: 5, ready: Promise.reject(new Error('bug')), commit: () => void seen.push('never') });
    await inbox.idle();
    expect(errors).toEqual([new Error('bug')]);
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });

  it('a long stream that never lets the backlog empty stays within its bounds and in order', async () => {
    const inbox = new Inbox({ frames: 2, bytes: 1e9 }, () => {});
    const committed: number[] = [];
    let onCommit = (): void => {};
    const task = (i: number, work: Promise<void>): InboxTask => ({
      owner,
      size: 1,
      ready: work,
      commit: () => {
        committed.push(i);
        onCommit();
        return undefined;
      },
    });
    let work = deferred<void>();
    expect(inbox.push(task(0, work.promise))).toBe(true);
    // Each round queues the next task before the one ahead of it finishes.
    for (let i = 1; i <= 3000; i++) {
      const next = deferred<void>();
      expect(inbox.push(task(i, next.promise))).toBe(true);
      const done = new Promise<void>((resolve) => (onCommit = resolve));
      work.resolve();
      await done;
      work = next;
    }
    work.resolve();
    await inbox.idle();
    expect(committed).toEqual(Array.from({ length: 3001 }, (_, i) => i));
    expect([inbox.frames, inbox.bytes]).toEqual([0, 0]);
  });
});

describe('sizeOf', () => {
  it('counts a value about as its JSON text, iteratively', () => {
    const envelope = { e2e: 2, t: 'd', n: 1, ct: 'x'.repeat(1000), k: { abc: 'y'.repeat(60) } };
    const json = JSON.stringify(envelope).length;
    expect(sizeOf(envelope)).toBeGreaterThan(json * 0.9);
    expect(sizeOf(envelope)).toBeLessThan(json * 1.5);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(sizeOf(deep)).toBeGreaterThan(100_000);
  });
});
