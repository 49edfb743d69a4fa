/**
 * `AbortSignal` support of every client call that takes a `signal`: the
 * option's check, the `AbortError` an aborted call rejects with (the signal's
 * reason as its cause), and the abort listener, which is always removed when
 * the wait ends, so no listener outlives the call that added it.
 */
import { AbortError, InvalidArgumentError } from '../errors.js';
import { isRecord } from '../protocol/guards.js';

const ignore = (): void => {};

/**
 * The `signal` of a call's options (`what` names the call in errors).
 * @throws InvalidArgumentError when the options are not an object, or the signal is not an AbortSignal.
 */
export function signalOf(options: unknown, what: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  const signal = isRecord(options) ? options.signal : undefined;
  const ok =
    isRecord(options) &&
    (signal === undefined ||
      (typeof (signal as AbortSignal).aborted === 'boolean' &&
        typeof (signal as AbortSignal).addEventListener === 'function'));
  if (!ok) throw new InvalidArgumentError(`${what}: options must be an object whose 'signal' is an AbortSignal`);
  return signal as AbortSignal | undefined;
}

/** @throws AbortError (naming `operation`, the signal's reason as its cause) when `signal` has aborted already. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw new AbortError(operation, { cause: signal.reason });
}

/**
 * Calls `onAbort` once, with the `AbortError` of `operation`, if `signal` aborts.
 * Returns the function that stops watching: call it when the wait ends, so no
 * listener stays behind.
 */
export function watchAbort(
  signal: AbortSignal | undefined,
  operation: string,
  onAbort: (error: AbortError) => void,
): () => void {
  if (!signal) return ignore;
  const listener = (): void => onAbort(new AbortError(operation, { cause: signal.reason }));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/**
 * `promise`, or the `AbortError` of `operation` when `signal` aborts first.
 * Only the waiting stops: what `promise` stands for goes on.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, operation: string): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    throwIfAborted(signal, operation);
    const unwatch = watchAbort(signal, operation, reject);
    promise.then(resolve, reject).finally(unwatch);
  });
}
