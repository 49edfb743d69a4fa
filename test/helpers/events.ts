/** Anything with eventemitter3-style `on` / `off`. */
export interface Emitter {
  on(...args: never[]): unknown;
  off(...args: never[]): unknown;
}
type Loose = (event: string, fn: (arg: never) => void) => unknown;
type Arg<F> = F extends (arg: infer A) => void ? A : never;

/**
 * Typed event helpers for an event map `M`.
 * @example const { next } = eventsOf<WSSClientEvents>(); await next(client, 'peerconnect');
 */
export function eventsOf<M>() {
  return {
    /** Waits for the next `event` whose payload matches `match`. */
    next<K extends keyof M & string>(
      emitter: Emitter,
      event: K,
      match: (arg: Arg<M[K]>) => boolean = () => true,
    ): Promise<Arg<M[K]>> {
      const on = emitter.on.bind(emitter) as Loose;
      const off = emitter.off.bind(emitter) as Loose;
      return new Promise((resolve) => {
        const listener = (arg: Arg<M[K]>): void => {
          if (!match(arg)) return;
          off(event, listener);
          resolve(arg);
        };
        on(event, listener);
      });
    },
    /** Collects every payload of an event into an array. */
    collect<K extends keyof M & string>(emitter: Emitter, event: K): Array<Arg<M[K]>> {
      const out: Array<Arg<M[K]>> = [];
      (emitter.on.bind(emitter) as Loose)(event, (arg: Arg<M[K]>) => out.push(arg));
      return out;
    },
  };
}
