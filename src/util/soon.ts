/**
 * Values that are ready at once on some platforms and only later on others
 * (AES-GCM: node:crypto's synchronous cipher, or a WebCrypto promise): a hot
 * path that takes a `Soon` pays for a promise only where there is one.
 */

/** A value now, or a promise of it. */
export type Soon<T> = T | Promise<T>;

/** `next` of `value`: at once when it is ready, else once its promise fulfils (a rejection passes through). */
export function andThen<T, U>(value: Soon<T>, next: (value: T) => Soon<U>): Soon<U> {
  return value instanceof Promise ? value.then(next) : next(value);
}
