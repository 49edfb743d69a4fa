/**
 * Work that starts at once and finishes in order: each job's work (a value or
 * a promise, such as a decryption) runs concurrently with the others, and the
 * job's turn runs once its work has settled and every earlier job's turn has
 * run. The Signal client and the reference server's Signal endpoint use it for
 * their incoming frames and their outgoing encrypted frames.
 */

const PENDING = 0;
const DONE = 1;
const FAILED = 2;

/** One queued job; `result` is its work's value, or its error once FAILED. */
interface Job {
  next: Job | undefined;
  state: typeof PENDING | typeof DONE | typeof FAILED;
  result: unknown;
  readonly size: number;
  readonly turn: (value: never) => unknown;
  readonly fail: (error: unknown) => unknown;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * A FIFO of jobs whose work runs concurrently and whose turns run one at a
 * time, in the order the jobs were added. A turn may return a promise: the
 * next turn then waits for it (the server's handlers run one at a time).
 * A turn that throws or rejects is handed to `onTurnError` and the queue goes on.
 * Memory: one small record per job until its turn; the queue counts the jobs
 * and the sizes given to {@link add}, so that callers can bound them.
 */
export class OrderedQueue {
  #head: Job | undefined;
  #tail: Job | undefined;
  #length = 0;
  #size = 0;
  /** A turn's promise is pending: later turns wait. */
  #busy = false;
  /** Bumped by {@link clear}, so that a turn of a cleared queue does not resume it. */
  #generation = 0;
  readonly #onTurnError: (error: unknown) => void;

  constructor(onTurnError: (error: unknown) => void) {
    this.#onTurnError = onTurnError;
  }

  /** Jobs whose turn has not started. */
  get length(): number {
    return this.#length;
  }

  /** The sum of the sizes of the jobs whose turn has not started. */
  get size(): number {
    return this.#size;
  }

  /**
   * Queues a job. `work` is a value (settled at once) or a promise already
   * running; when its turn comes, `turn` gets the value, or `fail` (by
   * default the queue's `onTurnError`) the rejection.
   */
  add<T>(
    work: T | PromiseLike<T>,
    turn: (value: T) => unknown,
    fail: (error: unknown) => unknown = this.#onTurnError,
    size = 0,
  ): void {
    const settled = !isThenable(work);
    // Settled work and nothing ahead of it (a synchronous decryption, most often): its turn is now, and no record is kept.
    if (settled && !this.#head && !this.#busy) {
      this.#await(this.#run(turn, work));
      return;
    }
    const job: Job = { next: undefined, state: DONE, result: work, size, turn, fail };
    if (this.#tail) this.#tail.next = job;
    else this.#head = job;
    this.#tail = job;
    this.#length++;
    this.#size += size;
    if (settled) {
      this.#drain();
    } else {
      job.state = PENDING;
      work.then(
        (value) => this.#settle(job, DONE, value),
        (error: unknown) => this.#settle(job, FAILED, error),
      );
    }
  }

  /** Drops every job: their turns never run, whatever their work comes to. */
  clear(): void {
    this.#head = this.#tail = undefined;
    this.#length = this.#size = 0;
    this.#busy = false;
    this.#generation++;
  }

  #settle(job: Job, state: typeof DONE | typeof FAILED, result: unknown): void {
    job.state = state;
    job.result = result;
    // A job of a cleared queue is no longer linked from the head: draining finds nothing of it.
    if (job === this.#head) this.#drain();
  }

  /** Runs the turns that are due, in order, until one must wait. */
  #drain(): void {
    let job = this.#head;
    while (job && job.state !== PENDING && !this.#busy) {
      this.#head = job.next;
      if (!this.#head) this.#tail = undefined;
      this.#length--;
      this.#size -= job.size;
      this.#await(job.state === DONE ? this.#run(job.turn, job.result) : this.#run(job.fail, job.result));
      job = this.#head;
    }
  }

  /** Runs one turn (or fail); returns its promise when it returned one. */
  #run(turn: (value: never) => unknown, value: unknown): PromiseLike<unknown> | undefined {
    try {
      const after = turn(value as never);
      return isThenable(after) ? after : undefined;
    } catch (error) {
      this.#onTurnError(error);
      return undefined;
    }
  }

  /** Holds later turns until a turn's promise `after` settles (nothing to hold when it is undefined). */
  #await(after: PromiseLike<unknown> | undefined): void {
    if (!after) return;
    this.#busy = true;
    const generation = this.#generation;
    const resume = (): void => {
      if (generation !== this.#generation) return;
      this.#busy = false;
      this.#drain();
    };
    after.then(resume, (error: unknown) => {
      this.#onTurnError(error);
      resume();
    });
  }
}
