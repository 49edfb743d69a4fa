/** Waits for the next event on an eventemitter3-style emitter that matches `match`. */
export function nextEvent<T = unknown>(
  emitter: { on(event: string, fn: (arg: T) => void): unknown; off(event: string, fn: (arg: T) => void): unknown },
  event: string,
  match: (arg: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (arg: T): void => {
      if (!match(arg)) return;
      emitter.off(event, listener);
      resolve(arg);
    };
    emitter.on(event, listener);
  });
}

/** Collects every payload of an event into an array. */
export function collect<T = unknown>(emitter: { on(event: string, fn: (arg: T) => void): unknown }, event: string): T[] {
  const out: T[] = [];
  emitter.on(event, (arg) => out.push(arg));
  return out;
}
