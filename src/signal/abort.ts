/** `AbortSignal` support of the Signal client's `connect()` and `send()`. */
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

/** The error a call aborted through `signal` rejects with; the signal's reason is its cause. */
export function abortError(what: string, signal: AbortSignal): AbortError {
  return new AbortError(what, { cause: signal.reason });
}

/**
 * Calls `onAbort` once if `signal` aborts. Returns the function that stops
 * watching: call it when the operation settles, so no listener stays behind.
 */
export function watchAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal) return ignore;
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}
