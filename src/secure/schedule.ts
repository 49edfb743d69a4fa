/**
 * When a SecureSession connects: a first connect (one attempt, or attempts on the
 * schedule with `reconnect.retryFirstConnect`), reconnects after a drop with
 * exponential backoff and jitter until one succeeds or `reconnect.maxRetries`
 * gives up, and the epoch that makes the attempts of a connect that
 * `disconnect()` or an abort ended stale. Each attempt is the lifecycle's.
 */
import { ConnectionClosedError, toError, UnsupportedEnvironmentError } from '../errors.js';
import type { CloseInfo } from '../transport/transport.js';
import { watchAbort } from '../util/abort.js';
import type { Lifecycle } from './lifecycle.js';
import type { LinkHost } from './link.js';
import { backoffDelay } from './options.js';

/** What the schedule needs of its session. */
export type ScheduleHost = Pick<LinkHost, 'options' | 'logger' | 'emit'>;

/** How a run of connect attempts ended: connected after `attempts` retries, or given up with the last error. */
type Attempted = { privateId: string; attempts: number } | { privateId?: undefined; attempts: number; error: Error };

/** Thrown inside a connect attempt that `disconnect()` (or an abort) made stale. */
const stale = (): ConnectionClosedError =>
  new ConnectionClosedError('connect', undefined, 'disconnect() was called while connecting');

/** The connect attempts of one session. */
export class Schedule {
  readonly #host: ScheduleHost;
  readonly #life: Lifecycle;
  /** Bumped by `disconnect()` and aborts: a connect attempt of an older epoch is stale. */
  #epoch = 0;
  /** Ends the current wait between connect attempts early. */
  #wake: (() => void) | undefined;

  constructor(host: ScheduleHost, life: Lifecycle) {
    this.#host = host;
    this.#life = life;
  }

  /**
   * A first connect, from state `'disconnected'`.
   * @returns the private ID.
   * @throws (rejects) {AbortError} when `signal` aborts (nothing of the attempt is left); the last attempt's error.
   */
  async connect(signal: AbortSignal | undefined): Promise<string> {
    const epoch = this.#epoch;
    this.#life.setState('connecting');
    let unwatch = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      unwatch = watchAbort(signal, 'connect', (error) => {
        if (this.#cancel(epoch)) reject(error);
      });
    });
    try {
      const result = await Promise.race([this.#attempts(epoch, false), aborted]);
      if (result.privateId === undefined) throw result.error;
      return result.privateId;
    } catch (error) {
      this.#cancel(epoch);
      throw error;
    } finally {
      unwatch();
    }
  }

  /**
   * A connected session lost its connection: reconnect on the schedule, or give up
   * (`reconnect_failed`); without `reconnect.enabled`, the session ends at once.
   */
  dropped({ code, reason }: CloseInfo): void {
    const life = this.#life;
    if (!this.#host.options.reconnect.enabled) {
      life.stop(new ConnectionClosedError('send', code, reason));
      return;
    }
    const epoch = this.#epoch;
    life.setState('reconnecting');
    void this.#attempts(epoch, true, new ConnectionClosedError('connect', code, reason)).then((result) => {
      if (epoch !== this.#epoch) return;
      const { attempts } = result;
      if (result.privateId !== undefined) this.#host.emit('reconnected', { attempts, privateId: result.privateId });
      else {
        life.stop(new ConnectionClosedError('send', undefined, 'reconnecting gave up'));
        this.#host.emit('reconnect_failed', { attempts, error: result.error });
      }
    });
  }

  /** Makes every attempt so far stale (`disconnect()`, an abort) and ends a wait between attempts. */
  halt(): void {
    this.#epoch++;
    this.#wake?.();
  }

  /**
   * Ends a connect in progress, making it stale: no timer, no connection, no
   * backlog of it; state `'disconnected'`. @returns false when it had ended already.
   */
  #cancel(epoch: number): boolean {
    if (epoch !== this.#epoch) return false;
    this.halt();
    void this.#life.discard(true, { drop: true });
    this.#life.setState('disconnected');
    return true;
  }

  /**
   * Connect attempts until one succeeds: after a drop (`reconnecting`) on the reconnect
   * schedule, a first connect once, or on the schedule with `retryFirstConnect`. Never rejects.
   */
  async #attempts(epoch: number, reconnecting: boolean, lastError?: Error): Promise<Attempted> {
    const { reconnect } = this.#host.options;
    const retries = reconnecting || reconnect.retryFirstConnect ? reconnect.maxRetries : 0;
    const assertCurrent = (): void => {
      if (epoch !== this.#epoch) throw stale();
    };
    let error = lastError;
    for (let attempt = reconnecting ? 1 : 0; ; attempt++) {
      if (attempt > retries) return { attempts: attempt - 1, error: error ?? stale() };
      try {
        if (attempt > 0) await this.#backoff(attempt, assertCurrent);
        return { privateId: await this.#life.establish(assertCurrent, reconnecting), attempts: attempt };
      } catch (caught) {
        error = toError(caught);
        if (epoch !== this.#epoch || error instanceof UnsupportedEnvironmentError) return { attempts: attempt, error };
        void this.#life.discard();
        this.#host.logger.debug('wss-sessions: connect attempt failed', error);
      }
    }
  }

  /** Announces retry `attempt` and waits its backoff delay; `assertCurrent` throws when the attempts became stale. */
  async #backoff(attempt: number, assertCurrent: () => void): Promise<void> {
    const delay = backoffDelay(attempt, this.#host.options.reconnect);
    this.#host.emit('reconnecting', { attempt, delay });
    // A listener may have called disconnect().
    assertCurrent();
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, delay);
      this.#wake = wake;
    });
    assertCurrent();
  }
}
