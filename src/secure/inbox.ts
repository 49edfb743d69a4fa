/**
 * The incoming backlog: every frame's work starts when it arrives (key checks,
 * decryption), and what it leads to (table changes, events) happens strictly in
 * arrival order. Bounded in frames and bytes; past the bound a frame is refused
 * and its owner decides (SecureSession ends the connection). Spec §5 "Backlog".
 *
 * The ordering is the {@link OrderedQueue}'s, as in the Signal client. What this
 * adds is what a session needs and a Signal connection does not: one backlog
 * outlives the session's connections, so a connection's frames are dropped by
 * owner while the session's own tasks (peers leaving, {@link Inbox.idle}) stay
 * and are never dropped; a commit may wait again in its place (a message opened
 * with a key that changed meanwhile is opened again), keeping its share of the
 * bounds until its last commit; and the bounds refuse a frame themselves, the
 * session's own tasks outside them.
 */
import { OrderedQueue } from '../util/ordered-queue.js';

/** One frame's work. */
export interface InboxTask<T = unknown> {
  /** Who it belongs to: {@link Inbox.drop} removes an owner's tasks. */
  owner: object;
  /** Its share of the bytes bound. */
  size: number;
  /** Work started on arrival; must never reject. Absent when there is none. */
  ready?: Promise<T> | undefined;
  /**
   * Runs in arrival order with what `ready` gave. May return a task to wait on
   * in its place (for the same frame), which keeps its position and its share.
   */
  commit(value: T): InboxTask | undefined;
}

/** Bounds of the backlog. */
export interface InboxLimits {
  frames: number;
  bytes: number;
}

/** A task's place in the backlog, kept through the tasks that take its place. */
interface Slot {
  readonly owner: object;
  /** Its share of the bounds: 0 for the session's own tasks. */
  readonly size: number;
  /** Counted in the bounds: until its last commit, or until dropped. */
  counted: boolean;
  /** Its owner was dropped: it commits nothing more. */
  dropped: boolean;
}

/** The incoming backlog of one session: tasks in arrival order, within {@link InboxLimits}. */
export class Inbox {
  readonly #limits: InboxLimits;
  readonly #onError: (error: unknown) => void;
  readonly #queue: OrderedQueue;
  #frames = 0;
  #bytes = 0;
  /** The slot whose commit runs, or whose task waits again in its place, now. */
  #current: Slot | undefined;
  /** A commit runs now. */
  #committing = false;

  /** `onError`: a commit that threw (a bug; the backlog goes on). */
  constructor(limits: InboxLimits, onError: (error: unknown) => void) {
    this.#limits = limits;
    this.#onError = onError;
    this.#queue = new OrderedQueue(onError);
  }

  /** Frames waiting now. */
  get frames(): number {
    return this.#frames;
  }

  /** Bytes waiting now. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues a task behind every earlier one, or runs it at once when nothing waits
   * and it has no work to wait for. `force` (the session's own tasks) ignores the bounds.
   * @returns false when the task would go past a bound: it is not queued.
   */
  push(task: InboxTask, force = false): boolean {
    const { frames, bytes } = this.#limits;
    if (!force && (this.#frames >= frames || this.#bytes + task.size > bytes)) return false;
    const slot: Slot = { owner: task.owner, size: force ? 0 : task.size, counted: !force, dropped: false };
    if (!force) {
      this.#frames++;
      this.#bytes += slot.size;
    }
    const fail = (error: unknown): void => {
      this.#onError(error);
      this.#release(slot);
    };
    // The session's own tasks have no owner in the queue: no drop removes them.
    const owner = force ? undefined : task.owner;
    this.#queue.add(task.ready, (value) => this.#commit(slot, task, value), fail, slot.size, owner);
    return true;
  }

  /** Resolves once every task queued so far has committed (or was dropped). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.push({ owner: this, size: 0, commit: () => void resolve() }, true);
    });
  }

  /**
   * Removes every waiting task of `owner` (their work finishes unobserved); one
   * committing right now finishes its commit. @returns how many frames were dropped.
   */
  drop(owner: object): number {
    const { jobs, size } = this.#queue.drop(owner);
    this.#frames -= jobs;
    this.#bytes -= size;
    const current = this.#current;
    // Not counted while current: one of the session's own tasks.
    if (current?.owner !== owner || current.dropped || !current.counted) return jobs;
    current.dropped = true;
    if (this.#committing) return jobs;
    // It waits again in its place: it goes now, and the tasks behind it need not wait for it.
    this.#release(current);
    this.#queue.resume();
    return jobs + 1;
  }

  /**
   * The turn of `slot`: `task`'s commit with `value`, then those of the tasks it
   * gives in its place; one with work to wait for holds the backlog until it is done.
   */
  #commit(slot: Slot, task: InboxTask, value: unknown): Promise<void> | undefined {
    this.#current = slot;
    let next = this.#call(task, value);
    while (next && !slot.dropped) {
      if (next.ready) return this.#again(slot, next);
      next = this.#call(next, value);
    }
    this.#release(slot);
    return undefined;
  }

  /** `slot` waits in its place for the work of `task`, which took its place. */
  #again(slot: Slot, task: InboxTask): Promise<void> {
    return (task.ready as Promise<unknown>).then(
      (value) => {
        if (!slot.dropped) return this.#commit(slot, task, value);
      },
      (error: unknown) => {
        this.#onError(error);
        this.#release(slot);
      },
    );
  }

  #call(task: InboxTask, value: unknown): InboxTask | undefined {
    this.#committing = true;
    try {
      return task.commit(value);
    } catch (error) {
      this.#onError(error);
      return undefined;
    } finally {
      this.#committing = false;
    }
  }

  /** `slot` is done, or dropped: its share of the bounds is free. */
  #release(slot: Slot): void {
    if (this.#current === slot) this.#current = undefined;
    if (!slot.counted) return;
    slot.counted = false;
    this.#frames--;
    this.#bytes -= slot.size;
  }
}

/**
 * The size a value received as JSON holds, roughly as its JSON text: strings by
 * their length, other scalars as 8. Iterative, so a deeply nested value cannot
 * exhaust the stack; O(members), not O(characters).
 */
export function sizeOf(value: unknown): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') size += v.length + 2;
    else if (typeof v !== 'object' || v === null) size += 8;
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push(item);
    } else {
      size += 2;
      for (const key in v) {
        size += key.length + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
  }
  return size;
}
