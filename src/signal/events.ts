/** The events of {@link EncryptedWebSocketClient}: its own, typed, and the application's, on eventemitter3. */
import { EventEmitter } from 'eventemitter3';
import { InvalidArgumentError } from '../errors.js';
import type { ISignalConnectedData, IWSLogger, TConnectionState } from './types.js';

/**
 * The events the client emits itself, by name, with the data their handlers
 * receive. Every other name is an application event: its handlers receive
 * the decrypted `data`. (These names are reserved: the client never delivers
 * an application event under them.)
 */
export interface SignalClientEvents {
  /** After each successful authentication: the `connected` data as the server sent it, once validated. */
  connected: ISignalConnectedData;
  /**
   * A problem: a `WssError` the client detected (bad frame, replay,
   * downgrade, failed server authentication, full backlog, ...), or the
   * server's `error` data exactly as sent.
   */
  error: unknown;
  /** Reconnection gave up after `retries` attempts. */
  reconnect_failed: { retries: number };
}

/** The key state handlers are kept under: no event name can equal it. */
const STATE = Symbol('state');

/** Any handler: the client's typed overloads decide what its data is. */
type Handler = (data: unknown) => void;

/**
 * The client's handler registry: one eventemitter3 emitter for the client's
 * own events, the application's events and state changes. As in the original
 * client, registering a handler twice for one event keeps one registration.
 */
export class ClientEvents {
  readonly #emitter = new EventEmitter<string | symbol>();
  readonly #log: IWSLogger;

  constructor(log: IWSLogger) {
    this.#log = log;
  }

  on(event: string | typeof STATE, handler: Handler): void {
    if (typeof handler !== 'function')
      throw new InvalidArgumentError(`the handler of '${String(event)}' must be a function, got ${typeof handler}`);
    if (!this.#emitter.listeners(event).includes(handler)) this.#emitter.on(event, handler);
  }

  off(event: string, handler: Handler): void {
    this.#emitter.off(event, handler);
  }

  offAll(event: string): void {
    this.#emitter.removeAllListeners(event);
  }

  onState(handler: (state: TConnectionState) => void): void {
    this.on(STATE, handler as Handler);
  }

  /** Removes every handler, state handlers included. */
  clear(): void {
    this.#emitter.removeAllListeners();
  }

  /**
   * Calls every handler of `event` with `data`, in registration order, on a
   * copy of the list (so handlers may add or remove handlers meanwhile). One
   * that throws is logged and never breaks the client or the other handlers.
   */
  emit(event: string | typeof STATE, data: unknown): void {
    for (const handler of this.#emitter.listeners(event)) {
      try {
        handler(data);
      } catch (err) {
        this.#log.error(`A handler of '${String(event)}' threw`, err);
      }
    }
  }

  emitState(state: TConnectionState): void {
    this.emit(STATE, state);
  }
}
