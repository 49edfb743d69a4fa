// Types only: json-rpc-2.0's JSONRPCClient keeps a second record of every request and settles
// timeouts and closes with untyped error responses, so the channel keeps the one record itself.
import type { JSONRPCRequest, JSONRPCResponse } from 'json-rpc-2.0';
import { AbortError, ConnectionClosedError, InvalidArgumentError, ProtocolError, RpcError, TimeoutError } from '../errors.js';
import { parseFrame, type Push, type Response } from '../protocol/validate.js';
import type { Logger } from '../util/logger.js';
import type { CloseInfo } from './transport.js';

/** Per-call options of a JSON-RPC request. */
export interface RequestOptions {
  /** Cancels the request; it rejects with `AbortError`. */
  signal?: AbortSignal;
  /** Overrides the channel's timeout for this request, in ms. */
  timeoutMs?: number;
}

/** What a channel needs from its owner. */
export interface RpcChannelOptions {
  /** Sends one text frame; throws `ConnectionClosedError` when the socket is gone. */
  send(frame: string): void;
  /** Default per-request timeout, in ms. */
  timeoutMs: number;
  /** A validated server push arrived. */
  onPush(push: Push): void;
  /** Something arrived that breaks the protocol; the channel stays usable. */
  onProtocolError(error: ProtocolError): void;
  logger: Logger;
}

interface Pending {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
  /** When the request times out (ms since epoch). */
  deadline: number;
  timeoutMs: number;
  /** Own timer, only for a request whose timeout differs from the channel's. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Removes the abort listener, if any. */
  release: (() => void) | undefined;
}

/**
 * JSON-RPC 2.0 request/response over one connection, in the style of
 * `json-rpc-2.0`'s client (it is given `send` and fed `receive()`, and never
 * touches a socket), with per-request timeouts, `AbortSignal`, typed rejection
 * of every pending request on close, and routing of WSS pushes (results with
 * no `id`) away from responses. Dispatch is one map lookup.
 */
export class RpcChannel {
  readonly #pending = new Map<string, Pending>();
  readonly #options: RpcChannelOptions;
  #seq = 0;
  #closed: CloseInfo | null = null;
  /**
   * One timer for all requests on the default timeout: the map keeps insertion
   * order, which is deadline order for them, so only the oldest needs watching.
   */
  #sweep: ReturnType<typeof setTimeout> | undefined;

  constructor(options: RpcChannelOptions) {
    this.#options = options;
  }

  /**
   * Sends a request and resolves with its validated result.
   * @param parse validates the raw `result`; a throw rejects the request.
   */
  request<T>(method: string, params: unknown, parse: (result: unknown) => T, options: RequestOptions = {}): Promise<T> {
    const { signal, timeoutMs = this.#options.timeoutMs } = options;
    const closed = this.#closed;
    if (closed) return Promise.reject(new ConnectionClosedError(method, closed.code, closed.reason));
    if (signal?.aborted) return Promise.reject(new AbortError(method, { cause: signal.reason }));
    // The legacy client uses string ids; servers echo them as sent.
    const id = String(++this.#seq);
    return new Promise<T>((resolve, reject) => {
      const custom = timeoutMs !== this.#options.timeoutMs;
      const onAbort = (): void => this.#fail(id, new AbortError(method, { cause: signal?.reason }));
      this.#pending.set(id, {
        method,
        resolve: (result) => resolve(parse(result)),
        reject,
        deadline: Date.now() + timeoutMs,
        timeoutMs,
        timer: custom ? setTimeout(() => this.#fail(id, new TimeoutError(method, timeoutMs)), timeoutMs) : undefined,
        release: signal && (() => signal.removeEventListener('abort', onAbort)),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      if (!custom) this.#sweep ??= setTimeout(() => this.#expire(), timeoutMs);
      // Members in the order json-rpc-2.0's createJSONRPCRequest writes them, so frames stay byte-identical.
      this.#write({ jsonrpc: '2.0', method, params: params as JSONRPCRequest['params'], id });
    });
  }

  /** Feeds one received text frame to the channel. Never throws. */
  receive(frame: string): void {
    let messages;
    try {
      messages = parseFrame(frame);
    } catch (error) {
      this.#options.onProtocolError(error as ProtocolError);
      return;
    }
    for (const { push, response } of messages) {
      if (push) this.#options.onPush(push);
      else this.#receiveResponse(response);
    }
  }

  /** Rejects every pending request with its own `ConnectionClosedError`; later requests reject at once. */
  close(info: CloseInfo): void {
    if (this.#closed) return;
    this.#closed = info;
    for (const [id, { method }] of this.#pending) this.#fail(id, new ConnectionClosedError(method, info.code, info.reason));
  }

  #receiveResponse(response: Response): void {
    const { id, error } = response;
    if (this.#pending.has(id as string)) {
      this.#settle(id as string, response as JSONRPCResponse);
    } else if (error && id === null) {
      this.#options.onProtocolError(new ProtocolError(`the server could not read a request and answered error ${error.code}: ${error.message}`));
    } else {
      // Normal after a timeout or abort: the answer came too late to matter.
      this.#options.logger.warn(`wss-sessions: dropped a response for id ${JSON.stringify(id)}: no request with that id is pending`);
    }
  }

  #settle(id: string, response: JSONRPCResponse): void {
    const pending = this.#take(id);
    const error = response.error;
    if (!pending) return;
    if (error) return pending.reject(new RpcError(pending.method, error.code, error.message, error.data));
    try {
      pending.resolve(response.result);
    } catch (failure) {
      pending.reject(failure as Error);
    }
  }

  #fail(id: string, error: Error): void {
    const pending = this.#take(id);
    if (!pending) return;
    pending.reject(error);
  }

  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.release?.();
    if (this.#pending.size === 0) {
      clearTimeout(this.#sweep);
      this.#sweep = undefined;
    }
    return pending;
  }

  /** Times out every default-timeout request whose deadline passed, then re-arms for the oldest left. */
  #expire(): void {
    this.#sweep = undefined;
    const now = Date.now();
    let next: Pending | undefined;
    for (const [id, pending] of this.#pending) {
      if (pending.timer !== undefined) continue;
      if (pending.deadline > now) {
        next = pending;
        break;
      }
      this.#fail(id, new TimeoutError(pending.method, pending.timeoutMs));
    }
    if (next) this.#sweep = setTimeout(() => this.#expire(), next.deadline - now);
  }

  #write(request: JSONRPCRequest & { id: string }): void {
    const { id, method } = request;
    let frame: string;
    try {
      frame = JSON.stringify(request);
    } catch (cause) {
      this.#fail(id, new InvalidArgumentError(`the params of ${method} cannot be serialised as JSON (BigInt or a cycle?); send plain JSON data`, { cause }));
      return;
    }
    try {
      this.#options.send(frame);
    } catch (error) {
      this.#fail(id, error instanceof ConnectionClosedError ? error : new ConnectionClosedError(method, undefined, undefined, { cause: error }));
    }
  }
}
