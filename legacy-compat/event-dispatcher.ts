/**
 * The event model of the 0.4.1 client: `addEventListener(type, listener, context)`
 * calls the listener with `context` as `this`, and one listener may be
 * registered once per context.
 */

/** A listener; `this` is the context it was registered with. */
export type LegacyListener<E, C = unknown> = (this: C, event: E) => unknown;

type Registration = [listener: LegacyListener<Event, unknown>, context: unknown];

const indexOf = (list: Registration[], listener: unknown, context: unknown): number =>
  list.findIndex(([l, c]) => l === listener && c === context);

/** Called when a listener throws; the other listeners still run. */
export type ListenerErrorHandler = (type: string, error: unknown) => void;

/**
 * Sets `target` and `currentTarget` on an `Event`; they are read-only accessors, so an own property
 * shadows them (not enumerable, so that the event spreads and serialises as a DOM event does).
 */
export function setEventTarget(event: Event, target: unknown): void {
  const own = { value: target, configurable: true };
  Object.defineProperties(event, { target: own, currentTarget: own });
}

/**
 * Event dispatcher with the old `(type, listener, context)` signature.
 * `M` maps event types to their event objects.
 *
 * @example
 * dispatcher.addEventListener('message', this.onMessage, this);
 * dispatcher.removeEventListener('message', this.onMessage, this);
 */
export class EventDispatcher<M extends object = Record<string, Event>> {
  /** Only types with at least one registration have an entry. */
  readonly #listeners = new Map<string, Registration[]>();
  readonly #onListenerError: ListenerErrorHandler;

  /** @param onListenerError where a throwing listener is reported (default: `console.error`). */
  constructor(
    onListenerError: ListenerErrorHandler = (type, error) => console.error(`a '${type}' listener threw`, error),
  ) {
    this.#onListenerError = onListenerError;
  }

  /** Adds `listener` for `type`, called with `context` as `this`. Adding the same listener and context twice has no effect. */
  addEventListener<K extends keyof M & string, C = unknown>(
    type: K,
    listener: LegacyListener<M[K], C>,
    context?: C,
  ): void;
  addEventListener<C = unknown>(type: string, listener: LegacyListener<Event, C>, context?: C): void;
  addEventListener(type: string, listener: LegacyListener<Event, unknown>, context?: unknown): void {
    if (typeof listener !== 'function') return;
    const list = this.#listeners.get(type) ?? [];
    if (indexOf(list, listener, context) < 0) list.push([listener, context]);
    this.#listeners.set(type, list);
  }

  /** Removes the registration of `listener` with exactly this `context` (omitted context matches an omitted one). */
  removeEventListener<K extends keyof M & string, C = unknown>(
    type: K,
    listener: LegacyListener<M[K], C>,
    context?: C,
  ): void;
  removeEventListener<C = unknown>(type: string, listener: LegacyListener<Event, C>, context?: C): void;
  removeEventListener(type: string, listener: LegacyListener<Event, unknown>, context?: unknown): void {
    const list = this.#listeners.get(type) ?? [];
    const index = indexOf(list, listener, context);
    // A dispatch in progress iterates over a copy, so changing the list in place is safe.
    if (index >= 0) list.splice(index, 1);
    if (!list.length) this.#listeners.delete(type);
  }

  /** Whether `type` has at least one listener. */
  hasEventListener(type: string): boolean {
    return this.#listeners.has(type);
  }

  /**
   * Calls every listener of `event.type` (those registered when dispatch starts), with
   * `event.target` set to this dispatcher. A throwing listener is reported and the rest still run.
   * @returns `false` when a listener called `preventDefault()` on a cancelable event.
   */
  dispatchEvent(event: Event): boolean {
    setEventTarget(event, this);
    for (const [listener, context] of [...(this.#listeners.get(event.type) ?? [])]) {
      try {
        listener.call(context, event);
      } catch (error) {
        this.#onListenerError(event.type, error);
      }
    }
    return !event.defaultPrevented;
  }

  /** Resolves with the next event of `type` (what the old global `onEventPromise` helper gave). */
  onEventPromise<K extends keyof M & string>(type: K): Promise<M[K]>;
  onEventPromise(type: string): Promise<Event>;
  onEventPromise(type: string): Promise<Event> {
    return new Promise((resolve) => {
      const once = (event: Event): void => {
        this.removeEventListener(type, once);
        resolve(event);
      };
      this.addEventListener(type, once);
    });
  }

  /** Drops every listener of every type. */
  removeAllEventListeners(): void {
    this.#listeners.clear();
  }
}
