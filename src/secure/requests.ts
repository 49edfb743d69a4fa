/**
 * Encrypted requests between peers: the requests this session waits on (by
 * id, with their timeouts and signals) and the handler that answers the
 * peers' requests. Transport-free: the session sends the items. Spec "Delivery", D.8.
 */
import { InvalidArgumentError, PeerError, QueueFullError, TimeoutError } from '../errors.js';
import { throwIfAborted, watchAbort } from '../util/abort.js';
import type { Logger } from '../util/logger.js';
import { jsonOf, MAX_ERROR_TEXT } from './frames.js';

/** What a request handler is told besides the data. */
export interface RequestContext {
  /** Private ID of the peer that asked (the holder of the key that authenticated the request). */
  from: string;
}

/**
 * Answers peers' requests: the value it returns (or resolves with) is the answer.
 * A thrown error goes back as its message only (the requester gets a `PeerError`).
 */
export type RequestHandler = (data: unknown, context: RequestContext) => unknown;

/** Options of `request()`. */
export interface PeerRequestOptions {
  /** Milliseconds to wait for the answer. Default: the client's `requestTimeout`. */
  timeoutMs?: number;
  /** Stops waiting: the request rejects with `AbortError` and a later answer is dropped. */
  signal?: AbortSignal;
}

/** An answer ready to send: its kind (`'e'`: the request failed), its data (a value, or the error's text) and that as JSON. */
export interface Answer {
  kind: 'r' | 'e';
  data: unknown;
  json: string;
}

interface Waiting {
  peer: string;
  /** Who may answer: the session ID or key the request went to, once it is known. */
  expect: string | undefined;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A failed request's answer. */
const failed = (text: string): Answer => ({ kind: 'e', data: text, json: JSON.stringify(text) });

/** The requests one session waits on and the handler that answers its peers' requests. */
export class Requests {
  readonly #limit: number;
  readonly #timeout: number;
  readonly #logger: Logger;
  readonly #waiting = new Map<number, Waiting>();
  #next = 0;
  #handler: RequestHandler | null = null;
  #handling = 0;

  /** `limit`: requests waiting for answers, and requests being handled, each; `timeout`: the default `timeoutMs`. */
  constructor(limit: number, timeout: number, logger: Logger) {
    this.#limit = limit;
    this.#timeout = timeout;
    this.#logger = logger;
  }

  /**
   * Opens a request to `peer`, answerable only by whom {@link expect} names. Rejects on the
   * answer's error, the timeout, the signal, or {@link fail}.
   * @returns its id and the promise of the answer.
   * @throws {QueueFullError} at the limit; {AbortError} for a signal already aborted.
   */
  open(peer: string, options: PeerRequestOptions): { id: number; answer: Promise<unknown> } {
    const { timeoutMs = this.#timeout, signal } = options;
    if (!(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1))
      throw new InvalidArgumentError('option timeoutMs of request() must be a number of ms from 1 to 2147483647');
    throwIfAborted(signal, 'request');
    if (this.#waiting.size >= this.#limit)
      throw new QueueFullError(
        `${this.#waiting.size} requests are waiting for answers (maxPendingRequests ${this.#limit}): await some first or raise maxPendingRequests`,
      );
    const id = ++this.#next;
    const answer = new Promise<unknown>((resolve, reject) => {
      const done = (error: Error | undefined, value?: unknown): void => {
        this.#waiting.delete(id);
        clearTimeout(timer);
        unwatch();
        if (error) reject(error);
        else resolve(value);
      };
      const timer = setTimeout(() => done(new TimeoutError(`request to ${peer}`, timeoutMs)), timeoutMs);
      const unwatch = watchAbort(signal, 'request', done);
      this.#waiting.set(id, { peer, expect: undefined, resolve: (value) => done(undefined, value), reject: done });
    });
    return { id, answer };
  }

  /** Request `id` went to `who` (a session ID, or a key): only it may answer. */
  expect(id: number, who: string): void {
    const waiting = this.#waiting.get(id);
    if (waiting) waiting.expect = who;
  }

  /** An answer (`'r'`) or failure (`'e'`) to request `id` from the peer with key `pk` and session `s` (if known). */
  answered(id: number, pk: string | null, s: string | undefined, kind: 'r' | 'e', value: unknown): void {
    const waiting = this.#waiting.get(id);
    const expect = waiting?.expect;
    if (!waiting || expect === undefined || (expect !== pk && expect !== s)) {
      this.#logger.debug(
        `wss-sessions: an answer to request ${id} that nothing waits for (late, or not from the peer asked): dropped`,
      );
      return;
    }
    if (kind === 'r') waiting.resolve(value);
    else waiting.reject(new PeerError(waiting.peer, value as string));
  }

  /** Request `id` could not be delivered (or sent). */
  fail(id: number, error: Error): void {
    this.#waiting.get(id)?.reject(error);
  }

  /** Every waiting request rejects (the session ended). */
  stop(error: Error): void {
    for (const waiting of [...this.#waiting.values()]) waiting.reject(error);
  }

  /** Sets (or, with `null`, removes) the handler. */
  handle(handler: RequestHandler | null): void {
    if (handler !== null && typeof handler !== 'function')
      throw new InvalidArgumentError('handle() takes a function (data, { from }) => answer, or null');
    this.#handler = handler;
  }

  /** Runs the handler for one request. Never rejects: a failure is an error answer. */
  async serve(data: unknown, context: RequestContext): Promise<Answer> {
    const handler = this.#handler;
    if (!handler) return failed('no request handler: the peer has not called handle()');
    if (this.#handling >= this.#limit)
      return failed(`busy: ${this.#handling} requests in progress (maxPendingRequests)`);
    this.#handling++;
    let value: unknown;
    try {
      value = await handler(data, context);
    } catch (error) {
      // Only the message crosses: never the stack or other members of what was thrown.
      return failed((error instanceof Error ? error.message : String(error)).slice(0, MAX_ERROR_TEXT));
    } finally {
      this.#handling--;
    }
    const json = jsonOf(value);
    if (json !== undefined) return { kind: 'r', data: value, json };
    this.#logger.warn('wss-sessions: a request handler returned something that is not JSON; the peer gets an error');
    return failed('the answer is not JSON');
  }
}
