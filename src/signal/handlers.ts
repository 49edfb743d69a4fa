/** Event handler registry: a handler that throws is logged and never breaks the client. */
import type { IWSLogger } from './types.js';

/**
 * Calls every handler with `arg`, in registration order, on a copy (so handlers
 * may add or remove handlers meanwhile); one that throws is logged as `what`.
 */
export function callAll<T>(handlers: Iterable<(arg: T) => void>, arg: T, logger: IWSLogger, what: string): void {
  for (const handler of [...handlers]) {
    try {
      handler(arg);
    } catch (err) {
      logger.error(`${what} threw; the client carries on`, err);
    }
  }
}

/** Handlers per event name, called in registration order. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, Set<(data: unknown) => void>>();

  constructor(private readonly logger: IWSLogger) {}

  add(event: string, handler: (data: unknown) => void): void {
    const set = this.#handlers.get(event) ?? new Set();
    this.#handlers.set(event, set.add(handler));
  }

  remove(event: string, handler: (data: unknown) => void): void {
    const set = this.#handlers.get(event);
    if (set?.delete(handler) && set.size === 0) this.#handlers.delete(event);
  }

  removeAll(event?: string): void {
    if (event === undefined) this.#handlers.clear();
    else this.#handlers.delete(event);
  }

  /** Calls every handler of `event`. */
  emit(event: string, data: unknown): void {
    const set = this.#handlers.get(event);
    if (set) callAll(set, data, this.logger, `Handler for '${event}'`);
  }
}
