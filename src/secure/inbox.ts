/**
 * The incoming backlog: every frame's work starts when it arrives (key checks,
 * decryption), and what it leads to (table changes, events) happens strictly in
 * arrival order. Bounded in frames and bytes; past the bound a frame is refused
 * and its owner decides (SecureSession ends the connection). Spec §5 "Backlog".
 */
import { advance } from '../util/front.js';

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

interface Slot {
  task: InboxTask;
  /** Its share of the bounds: 0 for the session's own tasks. */
  size: number;
  counted: boolean;
  done: boolean;
  value: unknown;
  /** Its owner was dropped while it committed: it must not wait again. */
  dropped?: boolean;
}

/** The incoming backlog of one session: tasks in arrival order, within {@link InboxLimits}. */
export class Inbox {
  readonly #limits: InboxLimits;
  readonly #onError: (error: unknown) => void;
  #slots: Slot[] = [];
  #head = 0;
  #frames = 0;
  #bytes = 0;
  /** Set while commits run, so a task pushed by an event listener waits its turn. */
  #busy = false;

  /** `onError`: a commit that threw (a bug; the backlog goes on). */
  constructor(limits: InboxLimits, onError: (error: unknown) => void) {
    this.#limits = limits;
    this.#onError = onError;
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
    const size = force ? 0 : task.size;
    const slot: Slot = { task, size, counted: !force, done: !task.ready, value: undefined };
    this.#slots.push(slot);
    if (task.ready) this.#watch(slot);
    if (!force) {
      this.#frames++;
      this.#bytes += size;
    }
    this.#run();
    return true;
  }

  /** Resolves once every task queued so far has committed (or was dropped). */
  idle(): Promise<void> {
    if (this.#head === this.#slots.length) return Promise.resolve();
    return new Promise((resolve) => {
      this.push({ owner: this, size: 0, commit: () => void resolve() }, true);
    });
  }

  /**
   * Removes every waiting task of `owner` (their work finishes unobserved); one
   * committing right now finishes its commit. @returns how many frames were dropped.
   */
  drop(owner: object): number {
    const committing = this.#busy ? this.#slots[this.#head] : undefined;
    let dropped = 0;
    this.#slots = this.#slots.slice(this.#head).filter((slot) => {
      if (slot.task.owner !== owner || slot === committing) return true;
      if (slot.counted) dropped++;
      this.#release(slot);
      return false;
    });
    this.#head = 0;
    if (committing?.task.owner === owner) committing.dropped = true;
    this.#run();
    return dropped;
  }

  /** Commits the tasks at the head whose work is done, in order; waits on the first that is not. */
  #run(): void {
    if (this.#busy) return;
    this.#busy = true;
    for (let slot = this.#slots[this.#head]; slot; slot = this.#slots[this.#head]) {
      // Its work calls this again when it is done.
      if (!slot.done) break;
      const next = this.#commit(slot);
      if (next && !slot.dropped) {
        Object.assign(slot, { task: { ...next, owner: slot.task.owner }, done: !next.ready });
        if (next.ready) this.#watch(slot);
      } else this.#advance(slot);
    }
    this.#busy = false;
  }

  #advance(slot: Slot): void {
    this.#release(slot);
    [this.#slots, this.#head] = advance(this.#slots, this.#head) as [Slot[], number];
  }

  #commit(slot: Slot): InboxTask | undefined {
    try {
      return slot.task.commit(slot.value);
    } catch (error) {
      this.#onError(error);
      return undefined;
    }
  }

  /** Marks the slot done when its work is; runs the commits if it is at the head. */
  #watch(slot: Slot): void {
    const { task } = slot;
    (task.ready as Promise<unknown>).then((value) => {
      // A slot whose task was replaced meanwhile is watched by the replacement.
      if (slot.task !== task) return;
      slot.value = value;
      slot.done = true;
      if (this.#slots[this.#head] === slot) this.#run();
    });
  }

  #release(slot: Slot): void {
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
