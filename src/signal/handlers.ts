/** Calling user handlers: a handler that throws is logged and never breaks the client. */
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
