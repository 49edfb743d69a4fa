/**
 * The ordered send path. Each send is prepared (recipients resolved, counters
 * allocated synchronously, then encrypted) as soon as a connection is
 * attached, and written strictly in submission order, so counters reach the
 * wire in increasing order. While no connection is attached, sends wait here
 * unprepared (bounded); when a connection drops, sends not yet written go back
 * to waiting and are prepared again, with the new keys, on the next one.
 * Nothing already written is ever written again.
 */
import { QueueFullError, toError } from '../errors.js';

/** Turns a request into a write: the returned function issues the frame synchronously and resolves on the server's answer. */
export type Prepare<Req, Res> = (request: Req) => Promise<() => Promise<Res>>;

interface Job<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: Error) => void;
  prepared: Promise<() => Promise<Res>> | null;
}

const noop = (): void => {};

export class Outbox<Req, Res> {
  readonly #limit: number;
  #jobs: Job<Req, Res>[] = [];
  #prepare: Prepare<Req, Res> | null = null;
  #generation = 0;
  #pumpGeneration = -1;

  /** `limit`: how many sends may wait while no connection is attached. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Sends not yet written. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** Queues a send. @throws (rejects) {QueueFullError} when detached and full. */
  submit(request: Req): Promise<Res> {
    if (!this.#prepare && this.#jobs.length >= this.#limit) {
      return Promise.reject(new QueueFullError(`the send queue is full (${this.#limit} messages wait for the reconnect); retry after 'reconnected' or raise the 'queueSize' option`));
    }
    return new Promise<Res>((resolve, reject) => {
      const job: Job<Req, Res> = { request, resolve, reject, prepared: null };
      this.#jobs.push(job);
      if (this.#prepare) {
        this.#start(job, this.#prepare);
        void this.#pump(this.#generation);
      }
    });
  }

  /** Starts writing through a connection; waiting sends are prepared now, in order. */
  attach(prepare: Prepare<Req, Res>): void {
    this.#prepare = prepare;
    const generation = ++this.#generation;
    for (const job of this.#jobs) this.#start(job, prepare);
    void this.#pump(generation);
  }

  /** Stops writing; sends not yet written wait for the next `attach`, their preparation discarded. */
  detach(): void {
    this.#prepare = null;
    this.#generation++;
    for (const job of this.#jobs) job.prepared = null;
  }

  /** Detaches and rejects every send not yet written. */
  rejectAll(error: Error): void {
    this.detach();
    const jobs = this.#jobs;
    this.#jobs = [];
    for (const job of jobs) job.reject(error);
  }

  #start(job: Job<Req, Res>, prepare: Prepare<Req, Res>): void {
    let prepared: Promise<() => Promise<Res>>;
    try {
      prepared = prepare(job.request);
    } catch (error) {
      prepared = Promise.reject(toError(error));
    }
    prepared.catch(noop);
    job.prepared = prepared;
  }

  async #pump(generation: number): Promise<void> {
    if (this.#pumpGeneration === generation) return;
    this.#pumpGeneration = generation;
    try {
      while (generation === this.#generation && this.#jobs.length > 0) {
        const job = this.#jobs[0] as Job<Req, Res>;
        let write: () => Promise<Res>;
        try {
          write = await (job.prepared as Promise<() => Promise<Res>>);
        } catch (error) {
          if (generation !== this.#generation) return;
          this.#jobs.shift();
          job.reject(toError(error));
          continue;
        }
        if (generation !== this.#generation) return;
        this.#jobs.shift();
        let written: Promise<Res>;
        try {
          written = write();
        } catch (error) {
          written = Promise.reject(toError(error));
        }
        written.then(job.resolve, (error: unknown) => job.reject(toError(error)));
      }
    } finally {
      if (this.#pumpGeneration === generation) this.#pumpGeneration = -1;
    }
  }
}
