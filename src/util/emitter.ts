import { InvalidArgumentError } from '../errors.js';

/** The listener type of event `E` in an event map whose members are listener signatures. */
export type Listener<Events, E extends keyof Events> = Events[E] extends (...args: infer A) => void
  ? (...args: A) => void
  : never;

/** The arguments event `E` is emitted with. */
export type EventArgs<Events, E extends keyof Events> = Parameters<Listener<Events, E>>;

/** One registration: the listener, the `this` it is called with, and whether it runs once. */
type Entry = readonly [fn: (...args: never[]) => void, context: unknown, once: boolean];

/**
 * A typed event emitter with eventemitter3's API: `on`/`addListener`,
 * `once`, `off`/`removeListener`, `removeAllListeners`, `emit`, `listeners`,
 * `listenerCount`, `eventNames`, and the optional context argument listeners
 * are called with. Each event's listener list is replaced, never changed in
 * place, so an `emit` calls exactly the listeners registered when it started.
 *
 * @example
 * class Clock extends EventEmitter<{ tick: (event: { at: number }) => void }> {}
 * new Clock().on('tick', ({ at }) => console.log(at));
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface below only adds eventemitter3's method aliases
export class EventEmitter<Events extends object> {
  readonly #events = new Map<keyof Events, readonly Entry[]>();

  /** Adds a listener; `context` is its `this` (default: the emitter). */
  on<E extends keyof Events>(event: E, fn: Listener<Events, E>, context?: unknown): this {
    return this.#add(event, [fn, context, false]);
  }

  /** Adds a listener that is removed before its first call. */
  once<E extends keyof Events>(event: E, fn: Listener<Events, E>, context?: unknown): this {
    return this.#add(event, [fn, context, true]);
  }

  /**
   * Removes the listeners of `event` that are `fn` (all of them without `fn`),
   * only those with this `context` when one is given, and only once-listeners with `once`.
   */
  off<E extends keyof Events>(event: E, fn?: Listener<Events, E>, context?: unknown, once?: boolean): this {
    const kept = fn
      ? (this.#events.get(event) ?? []).filter(([f, c, o]) => f !== fn || (context && c !== context) || (once && !o))
      : [];
    if (kept.length) this.#events.set(event, kept);
    else this.#events.delete(event);
    return this;
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#events.clear();
    else this.#events.delete(event);
    return this;
  }

  /** Calls the listeners of `event` in order; whether there were any. */
  emit<E extends keyof Events>(event: E, ...args: EventArgs<Events, E>): boolean {
    const entries = this.#events.get(event);
    for (const [fn, context, once] of entries ?? []) {
      // As eventemitter3 does: one firing removes every once-registration of this function.
      if (once) this.off(event, fn as Listener<Events, E>, undefined, true);
      (fn as (...a: unknown[]) => void).apply(context, args);
    }
    return !!entries;
  }

  /** The listeners of `event`, in order. */
  listeners<E extends keyof Events>(event: E): Array<Listener<Events, E>> {
    return (this.#events.get(event) ?? []).map(([fn]) => fn as Listener<Events, E>);
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#events.get(event)?.length ?? 0;
  }

  /** The events that have listeners. */
  eventNames(): Array<keyof Events> {
    return [...this.#events.keys()];
  }

  #add(event: keyof Events, [fn, context, once]: Entry): this {
    // Refused at once, as eventemitter3 does: stored, it would throw on every emit and starve the listeners after it.
    if (typeof fn !== 'function')
      throw new InvalidArgumentError(`the listener of '${String(event)}' must be a function, got ${typeof fn}`);
    this.#events.set(event, [...(this.#events.get(event) ?? []), [fn, context || this, once]]);
    return this;
  }
}

export interface EventEmitter<Events extends object> {
  /** Same as {@link EventEmitter.on}. */
  addListener: EventEmitter<Events>['on'];
  /** Same as {@link EventEmitter.off}. */
  removeListener: EventEmitter<Events>['off'];
}
EventEmitter.prototype.addListener = EventEmitter.prototype.on;
EventEmitter.prototype.removeListener = EventEmitter.prototype.off;
