/** The application-facing API of the Signal endpoint (`server.signal`). */

/** A connected, authenticated Signal client. */
export interface SignalClientInfo {
  /** Connection id (the `id` of its `connected`). */
  readonly id: string;
  /** The token's `sub`. */
  readonly userId: string;
  /** Rooms it is in. */
  readonly rooms: readonly string[];
}

/** What a handler gets about the client whose event it handles. */
export interface SignalContext extends SignalClientInfo {
  /** Sends an encrypted event to this client. Resolves `false` if it disconnected. */
  send(event: string, data?: unknown): Promise<boolean>;
  /** Sends an encrypted event to every other member of `room`; resolves with how many got it. */
  publish(room: string, event: string, data?: unknown): Promise<number>;
}

/**
 * Handles one decrypted application event. Handlers of one client run one at
 * a time in arrival order; a throw or rejection is logged and answered with a
 * `HANDLER_FAILED` error event.
 */
export type SignalHandler = (ctx: SignalContext, data: unknown) => void | Promise<void>;

/** Options of {@link SignalServer.publish}. */
export interface PublishOptions {
  /** A client id that must not receive it (typically the sender). */
  except?: string;
}

/**
 * The Signal endpoint as seen by an application.
 *
 * @example
 * server.signal.on('chat.say', async (ctx, data) => {
 *   await ctx.publish('lobby', 'chat.said', { from: ctx.userId, data });
 * });
 * await server.signal.publish('lobby', 'notice', { text: 'maintenance at noon' });
 */
export interface SignalServer {
  /**
   * Handles application event `event` from clients. One handler per event.
   * @throws InvalidArgumentError for a built-in or reserved name (`echo`, `publish`, control events) or a second handler.
   */
  on(event: string, handler: SignalHandler): void;
  /** Removes the handler of `event` (only if it is `handler`, when given). */
  off(event: string, handler?: SignalHandler): void;
  /**
   * Sends an encrypted event to every member of `room` (each under its own key).
   * Resolves with how many clients it was sent to.
   * @throws InvalidArgumentError for a bad room or event name, or data JSON cannot encode.
   */
  publish(room: string, event: string, data?: unknown, options?: PublishOptions): Promise<number>;
  /**
   * Sends an encrypted event to one client. Resolves `false` when no such client is connected.
   * @throws InvalidArgumentError for a bad event name or data JSON cannot encode.
   */
  sendTo(clientId: string, event: string, data?: unknown): Promise<boolean>;
  /** The authenticated clients, in connection order (a fresh snapshot). */
  readonly clients: readonly SignalClientInfo[];
  /** Calls `listener` after each client authenticates; returns a function that unsubscribes. */
  onClientConnected(listener: (client: SignalClientInfo) => void): () => void;
  /** Calls `listener` after each authenticated client's socket closed; returns a function that unsubscribes. */
  onClientDisconnected(listener: (client: SignalClientInfo) => void): () => void;
  /** For tests: cuts every Signal socket without a closing handshake (clients see 1006). */
  dropConnections(): void;
}
