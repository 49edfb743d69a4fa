import { AbortError, ConnectionClosedError, ProtocolError, TimeoutError, UnsupportedEnvironmentError } from '../errors.js';
import { snippet } from '../protocol/guards.js';

/** A `fetch` function: the platform's or an injected one. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** The injected `fetch`, else the platform's, else a fix-it error. */
export function resolveFetch(injected?: FetchFunction): FetchFunction {
  const f = injected ?? (globalThis.fetch as FetchFunction | undefined);
  if (!f) {
    throw new UnsupportedEnvironmentError('No fetch found in this runtime: pass a fetch function as the `fetch` option, or omit `handshakeUrl` to handshake over the socket');
  }
  return f;
}

/**
 * POSTs one JSON-RPC request and returns the parsed response body. The WSS
 * handshake is the only call meant for HTTP, so this is deliberately one-shot.
 */
export async function postJsonRpc(
  fetchFn: FetchFunction,
  url: string,
  request: object,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<unknown> {
  const operation = `HTTP POST ${url}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const onAbort = (): void => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const response = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
      signal: controller.signal,
    });
    const text = await response.text();
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      throw new ProtocolError(`${operation} answered HTTP ${response.status} with a body that is not JSON`, { cause, frame: snippet(text) });
    }
  } catch (cause) {
    if (cause instanceof ProtocolError) throw cause;
    if (options.signal?.aborted) throw new AbortError(operation, { cause: options.signal.reason });
    if (controller.signal.aborted) throw new TimeoutError(operation, options.timeoutMs);
    throw new ConnectionClosedError(operation, undefined, undefined, { cause });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
