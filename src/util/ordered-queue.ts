/**
 * Work that starts at once and finishes in order: each job's work (a value or
 * a promise, such as a decryption) runs concurrently with the others, and the
 * job's turn runs once its work has settled and every earlier job's turn has
 * run. The Signal client and the reference server's Signal endpoint use it for
 * their incoming frames and their outgoing encrypted frames; SecureSession's
 * incoming backlog (secure/inbox.ts) is built on it.
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
  /** Who it belongs to, for {@link OrderedQueue.drop}; `undefined`: no drop removes it. */
  readonly owner: object | undefined;
  readonly turn: (value: never) => unknown;
  readonly fail: (error: unknown) => unknown;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof (value as PromiseLike<unknown> | null)?.then === 'function';

/**
 * A FIFO of jobs whose work runs concurrently and whose turns run one at a
 * time, in the order the jobs were added. A turn may return a promise: the
 * next turn then waits for it (the server's handlers run one at a time).
 * Turns never nest: a job added while a turn runs waits for that turn.
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
  /** A turn is running: jobs added meanwhile wait for it. */
  #running = false;
  /** Bumped when the queue stops waiting for a turn's promise, so that the promise does not resume it. */
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
   * default the queue's `onTurnError`) the rejection. `owner`: whose job it
   * is, for {@link drop}.
   */
  add<T>(
    work: T | PromiseLike<T>,
    turn: (value: T) => unknown,
    fail: (error: unknown) => unknown = this.#onTurnError,
    size = 0,
    owner?: object,
  ): void {
    const settled = !isThenable(work);
    // Settled work and nothing ahead of it (a synchronous decryption, most often): its turn is now, and no record is kept.
    if (settled && !this.#head && !this.#busy && !this.#running) {
      this.#await(this.#run(turn, work));
      // Jobs that its turn added.
      if (this.#head) this.#drain();
      return;
    }
    const job: Job = { next: undefined, state: DONE, result: work, size, owner, turn, fail };
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
    this.#unhold();
  }

  /**
   * Drops the jobs of `owner` whose turn has not started: their turns never run,
   * whatever their work comes to. @returns how many, and the sum of their sizes.
   */
  drop(owner: object): { jobs: number; size: number } {
    let jobs = 0;
    let size = 0;
    let kept: Job | undefined;
    for (let job = this.#head; job; job = job.next) {
      if (job.owner !== owner) {
        kept = job;
        continue;
      }
      if (kept) kept.next = job.next;
      else this.#head = job.next;
      if (job === this.#tail) this.#tail = kept;
      jobs++;
      size += job.size;
    }
    this.#length -= jobs;
    this.#size -= size;
    this.#drain();
    return { jobs, size };
  }

  /** Stops waiting for the promise of the turn that holds the queue: later turns run now. */
  resume(): void {
    if (!this.#busy) return;
    this.#unhold();
    this.#drain();
  }

  #unhold(): void {
    this.#busy = false;
    this.#generation++;
  }

  #settle(job: Job, state: typeof DONE | typeof FAILED, result: unknown): void {
    job.state = state;
    job.result = result;
    // A dropped job is no longer linked from the head: draining finds nothing of it.
    if (job === this.#head) this.#drain();
  }

  /** Runs the turns that are due, in order, until one must wait. Within a turn, the loop around it goes on afterwards. */
  #drain(): void {
    if (this.#running) return;
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
    this.#running = true;
    try {
      const after = turn(value as never);
      return isThenable(after) ? after : undefined;
    } catch (error) {
      this.#onTurnError(error);
      return undefined;
    } finally {
      this.#running = false;
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
