/** Event handler registry: a handler that throws is logged and never breaks the client. */
import type { IWSLogger, TEventHandler } from './types.js';

/** Handlers per event name, called in registration order. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, Set<TEventHandler>>();

  constructor(private readonly logger: IWSLogger) {}

  add(event: string, handler: TEventHandler): void {
    let set = this.#handlers.get(event);
    if (!set) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    set.add(handler);
  }

  remove(event: string, handler: TEventHandler): void {
    const set = this.#handlers.get(event);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) this.#handlers.delete(event);
  }

  removeAll(event?: string): void {
    if (event === undefined) this.#handlers.clear();
    else this.#handlers.delete(event);
  }

  /** Calls every handler of `event`; returns how many there were. */
  emit(event: string, data: unknown): number {
    const set = this.#handlers.get(event);
    if (!set) return 0;
    // A copy, so handlers may add or remove handlers while being called.
    for (const handler of [...set]) {
      try {
        handler(data);
      } catch (err) {
        this.logger.error(`Handler for '${event}' threw; the client carries on`, err);
      }
    }
    return set.size;
  }
}
