import {
  ConnectionClosedError,
  ProtocolError,
  RpcError,
  TimeoutError,
  UnsupportedEnvironmentError,
} from '../errors.js';
import { parseMessage } from '../protocol/validate.js';
import { throwIfAborted, watchAbort } from '../util/abort.js';

/** A `fetch` function: the platform's or an injected one. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/** The injected `fetch`, else the platform's, else a fix-it error. */
export function resolveFetch(injected?: FetchFunction): FetchFunction {
  const f = injected ?? (globalThis.fetch as FetchFunction | undefined);
  if (!f)
    throw new UnsupportedEnvironmentError(
      'No fetch found: pass a fetch function as the `fetch` option, or omit `handshakeUrl`',
    );
  return f;
}

/**
 * POSTs one JSON-RPC request and resolves with its validated result. The WSS
 * handshake is the only call meant for HTTP, so this is deliberately one-shot.
 */
export async function postJsonRpc<T>(
  fetchFn: FetchFunction,
  url: string,
  method: string,
  params: unknown,
  parse: (result: unknown) => T,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T> {
  const operation = `HTTP POST ${url}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const unwatch = watchAbort(signal, operation, () => controller.abort());
  let text: string;
  let status: number;
  try {
    const response = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: '0' }),
      signal: controller.signal,
    });
    status = response.status;
    text = await response.text();
  } catch (cause) {
    throwIfAborted(signal, operation);
    if (controller.signal.aborted) throw new TimeoutError(operation, timeoutMs);
    throw new ConnectionClosedError(operation, undefined, undefined, { cause, opening: true });
  } finally {
    clearTimeout(timer);
    unwatch();
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new ProtocolError(
      `${operation} answered HTTP ${status} with a body that is not JSON; check the handshake URL`,
      {
        cause,
        frame: text,
      },
    );
  }
  const response = parseMessage(body);
  if (!('id' in response)) throw new ProtocolError(`${operation} answered with a push, not a response`);
  const { error } = response;
  if (error) throw new RpcError(method, error.code, error.message, error.data);
  return parse(response.result);
}
