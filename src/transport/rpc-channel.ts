// Types only: json-rpc-2.0's JSONRPCClient keeps a second record of every request and settles
// timeouts and closes with untyped error responses, so the channel keeps the one record itself.
import type { JSONRPCRequest } from 'json-rpc-2.0';
import {
  ConnectionClosedError,
  InvalidArgumentError,
  ProtocolError,
  RpcError,
  TimeoutError,
  toError,
} from '../errors.js';
import { parseFrame, type Push } from '../protocol/validate.js';
import { throwIfAborted, watchAbort } from '../util/abort.js';
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
export interface ChannelEvents {
  /** Sends one text frame; a throw means the connection is gone. */
  send(frame: string): void;
  /** A validated server push arrived. */
  push(push: Push): void;
  /** Something arrived that breaks the protocol; the channel stays usable. */
  error(error: ProtocolError): void;
}

/** What a channel needs to know: the client's resolved options carry it. */
export interface ChannelSettings {
  /** Default per-request timeout, in ms. */
  requestTimeout: number;
  logger: Logger;
}

interface Pending {
  method: string;
  /** When the request times out (ms since epoch). */
  deadline: number;
  /** True when the request has its own timer (a timeout other than the channel's). */
  own: boolean;
  /** Settles the request with an error, or with the raw result to parse; releases its timer and abort listener. */
  done(error: Error | undefined, result?: unknown): void;
}

/**
 * JSON-RPC 2.0 request/response over one connection, in the style of
 * `json-rpc-2.0`'s client: it is given `send`, fed `receive()` and told of the
 * close, and never touches a socket. It adds per-request timeouts,
 * `AbortSignal`, typed rejection of every pending request on close, and
 * routing of WSS pushes (results with no `id`) away from responses. Dispatch
 * is one map lookup. A client makes a new channel for every connect.
 */
export class RpcChannel {
  readonly #pending = new Map<string, Pending>();
  readonly #settings: ChannelSettings;
  readonly #on: ChannelEvents;
  #seq = 0;
  #closed: CloseInfo | undefined;
  /**
   * One timer for all requests on the default timeout: the map keeps insertion
   * order, which is deadline order for them, so only the oldest needs watching.
   */
  #sweep: ReturnType<typeof setTimeout> | undefined;

  constructor(settings: ChannelSettings, events: ChannelEvents) {
    this.#settings = settings;
    this.#on = events;
  }

  /** The connection closed: every pending request rejects with its own `ConnectionClosedError`, and so do later ones. */
  close(info: CloseInfo): void {
    this.#closed = info;
    for (const [, { method, done }] of this.#pending) done(new ConnectionClosedError(method, info.code, info.reason));
  }

  /**
   * Sends a request and resolves with its validated result.
   * @param parse validates the raw `result`; a throw rejects the request.
   */
  request<T>(method: string, params: unknown, parse: (result: unknown) => T, options: RequestOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const { signal, timeoutMs = this.#settings.requestTimeout } = options;
      const closed = this.#closed;
      if (closed) throw new ConnectionClosedError(method, closed.code, closed.reason);
      throwIfAborted(signal, method);
      // The legacy client uses string ids; servers echo them as sent.
      const id = String(++this.#seq);
      // Members in the order json-rpc-2.0's createJSONRPCRequest writes them, so frames stay byte-identical.
      const request: JSONRPCRequest = { jsonrpc: '2.0', method, params: params as JSONRPCRequest['params'], id };
      let frame: string;
      try {
        frame = JSON.stringify(request);
      } catch (cause) {
        throw new InvalidArgumentError(
          `the params of ${method} are not JSON (a BigInt or a cycle?): send plain JSON data`,
          { cause },
        );
      }
      const own = timeoutMs !== this.#settings.requestTimeout;
      const timer = own ? setTimeout(() => done(new TimeoutError(method, timeoutMs)), timeoutMs) : undefined;
      const done = (error: Error | undefined, result?: unknown): void => {
        const pending = this.#pending;
        pending.delete(id);
        clearTimeout(timer);
        unwatch();
        if (!pending.size) this.#sweep = void clearTimeout(this.#sweep);
        try {
          if (error) throw error;
          resolve(parse(result));
        } catch (failure) {
          // A caller's parse may throw anything; the request still rejects with an Error.
          reject(toError(failure));
        }
      };
      const unwatch = watchAbort(signal, method, done);
      this.#pending.set(id, { method, deadline: Date.now() + timeoutMs, own, done });
      if (!own) this.#sweep ??= setTimeout(() => this.#expire(), timeoutMs);
      // Recorded before the send: a transport may feed the answer back from within it.
      try {
        this.#on.send(frame);
      } catch (cause) {
        done(new ConnectionClosedError(method, undefined, undefined, { cause }));
      }
    });
  }

  /** Feeds one received text frame to the channel; never throws. */
  receive(frame: string): void {
    let messages: ReturnType<typeof parseFrame>;
    try {
      messages = parseFrame(frame);
    } catch (error) {
      this.#on.error(error as ProtocolError);
      return;
    }
    for (const message of messages) {
      if (!('id' in message)) {
        this.#on.push(message);
        continue;
      }
      const { id, error } = message;
      const pending = this.#pending.get(id as string);
      if (pending) {
        pending.done(error && new RpcError(pending.method, error.code, error.message, error.data), message.result);
      } else if (error && id === null) {
        this.#on.error(new ProtocolError(`error ${error.code} for an unreadable request: ${error.message}`));
      } else {
        // Normal after a timeout or abort: the answer came too late to matter.
        this.#settings.logger.warn(`wss-sessions: dropped a response to no pending request, id ${JSON.stringify(id)}`);
      }
    }
  }

  /** Times out every default-timeout request whose deadline passed, then re-arms for the oldest left. */
  #expire(): void {
    this.#sweep = undefined;
    const now = Date.now();
    for (const { method, deadline, own, done } of this.#pending.values()) {
      if (own) continue;
      if (deadline > now) {
        this.#sweep = setTimeout(() => this.#expire(), deadline - now);
        return;
      }
      done(new TimeoutError(method, this.#settings.requestTimeout));
    }
  }
}
