/**
 * The ordered send path. Sends are written strictly in submission order, one
 * batch at a time: while a batch is being prepared (recipients resolved,
 * counters allocated, sealed) and written, later sends wait; the next batch
 * then takes every waiting send that may join the first one (same recipients,
 * see `canJoin`). Under load, bursts thus share one envelope and one
 * encryption; a lone send is never delayed. While no connection is attached,
 * sends wait unprepared (bounded); when a connection drops, sends not yet
 * written stay waiting and are prepared on the next one, with its keys.
 * Nothing already written is ever written again.
 */
import { QueueFullError, toError } from '../errors.js';

/** Turns a batch of requests into a write: the returned function issues the frame at once and resolves on the server's answer. */
export type PrepareBatch<Req, Res> = (requests: Req[]) => Promise<() => Promise<Res>>;

/** Whether `next` may go in the same batch as `batch` (never empty). */
export type CanJoin<Req> = (batch: readonly Req[], next: Req) => boolean;

interface Job<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: Error) => void;
}

const never = (): boolean => false;

export class Outbox<Req, Res> {
  readonly #limit: number;
  readonly #canJoin: CanJoin<Req>;
  #jobs: Job<Req, Res>[] = [];
  #prepare: PrepareBatch<Req, Res> | null = null;
  #generation = 0;
  #pumping = false;

  /**
   * @param limit how many sends may wait while no connection is attached.
   * @param canJoin batching rule; default: every send alone.
   */
  constructor(limit: number, canJoin: CanJoin<Req> = never) {
    this.#limit = limit;
    this.#canJoin = canJoin;
  }

  /** Sends not yet written. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** Queues a send. Rejects with {@link QueueFullError} when detached and full. */
  submit(request: Req): Promise<Res> {
    if (!this.#prepare && this.#jobs.length >= this.#limit) {
      return Promise.reject(new QueueFullError(`the send queue is full (${this.#limit} messages wait for the reconnect); retry after 'reconnected' or raise the 'queueSize' option`));
    }
    return new Promise<Res>((resolve, reject) => {
      this.#jobs.push({ request, resolve, reject });
      void this.#pump();
    });
  }

  /** Starts writing through a connection. */
  attach(prepare: PrepareBatch<Req, Res>): void {
    this.#prepare = prepare;
    this.#generation++;
    void this.#pump();
  }

  /** Stops writing; sends not yet written wait for the next `attach`, whatever was prepared for them is discarded. */
  detach(): void {
    this.#prepare = null;
    this.#generation++;
  }

  /** Detaches and rejects every send not yet written. */
  rejectAll(error: Error): void {
    this.detach();
    const jobs = this.#jobs;
    this.#jobs = [];
    for (const job of jobs) job.reject(error);
  }

  #takeBatch(): Job<Req, Res>[] {
    const first = this.#jobs[0] as Job<Req, Res>;
    const requests = [first.request];
    let size = 1;
    while (size < this.#jobs.length && this.#canJoin(requests, (this.#jobs[size] as Job<Req, Res>).request)) {
      requests.push((this.#jobs[size] as Job<Req, Res>).request);
      size++;
    }
    return this.#jobs.slice(0, size);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#prepare && this.#jobs.length > 0) {
        const generation = this.#generation;
        const batch = this.#takeBatch();
        let written: Promise<Res>;
        try {
          const write = await this.#prepare(batch.map((job) => job.request));
          // Detached meanwhile: whatever was prepared is dropped; the sends wait for the next connection.
          if (generation !== this.#generation) continue;
          written = write();
        } catch (error) {
          if (generation !== this.#generation) continue;
          written = Promise.reject(toError(error));
        }
        this.#jobs.splice(0, batch.length);
        written.then(
          (value) => batch.forEach((job) => job.resolve(value)),
          (error: unknown) => batch.forEach((job) => job.reject(toError(error))),
        );
      }
    } finally {
      this.#pumping = false;
    }
  }
}
