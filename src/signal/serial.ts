/**
 * Runs async jobs one after another, in the order they were queued. Used per
 * connection so that frames are handled, and encrypted frames sent, in order
 * even though each one waits on WebCrypto.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Queues `job`; the result settles like the job's own promise. */
  run<T>(job: () => Promise<T> | T): Promise<T> {
    this.#pending++;
    const result = this.#tail.then(job);
    const done = (): void => {
      this.#pending--;
    };
    this.#tail = result.then(done, done);
    return result;
  }

  /** Jobs queued or running. */
  get pending(): number {
    return this.#pending;
  }
}
