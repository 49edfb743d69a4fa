/**
 * Routing of one Signal client's frames: `authenticate` first, then control
 * events, then encrypted application events (`echo`, `publish`, registered
 * handlers). Every problem becomes an `error` event to that client only.
 */
import { ClusterUnavailableError, InvalidArgumentError, KeyFormatError } from '../../errors.js';
import { aesGcmNow } from '../../crypto/aead.js';
import { decodeUtf8 } from '../../crypto/bytes.js';
import { isRecord } from '../../protocol/guards.js';
import {
  encodeFrame,
  isEventName,
  matchEnvelope,
  parseEnvelope,
  parseFrame,
  parseInner,
  parseRooms,
  type ParsedEnvelope,
  type SignalFrame,
} from '../../signal/frames.js';
import { RESERVED_INNER_EVENTS } from '../../signal/types.js';
import { randomHex } from '../../util/random.js';
import type { Logger } from '../../util/logger.js';
import { nestsDeeperThan } from '../transport/depth.js';
import type { SignalContext, SignalHandler } from './api.js';
import { verifyBearer } from './auth.js';
import { SIGNAL_CLOSE, SIGNAL_ERRORS, type SignalErrorCode } from './codes.js';
import type { SignalConnection } from './connection.js';
import { type AuthenticateRequest, parseAuthenticate, type ServerKeys, serverHandshake } from './handshake.js';
import type { ResolvedSignalOptions } from './options.js';
import type { RoomRegistry } from './rooms.js';

/** What frame handling needs from the endpoint. */
export interface SignalState {
  readonly options: ResolvedSignalOptions;
  /** The server's `maxDepth`: deepest nesting of objects and arrays allowed in an event's data. */
  readonly maxDepth: number;
  readonly logger: Logger;
  readonly rooms: RoomRegistry<SignalConnection>;
  readonly handlers: ReadonlyMap<string, SignalHandler>;
  /** Records a newly authenticated connection. */
  authenticated(conn: SignalConnection): void;
  /** Sends to every member of `room` except `except`. */
  publish(room: string, event: string, data: unknown, except?: SignalConnection): Promise<number>;
}

/**
 * Takes one text frame of `conn`: parses it at once and, for an `encrypted`
 * frame, starts decrypting it, so that decryptions run concurrently. The rest
 * (replay check, routing, handlers) runs in the frame's turn: one frame at a
 * time, in arrival order.
 */
export function acceptFrame(state: SignalState, conn: SignalConnection, raw: string): void {
  const inbox = conn.inbox;
  try {
    const session = conn.session;
    // The common frame, an envelope as every sender writes it, is read without JSON.parse.
    const envelope = session && matchEnvelope(raw);
    if (envelope) {
      acceptEnvelope(state, conn, session.aesKey, envelope);
      return;
    }
    const frame = parseFrame(raw, Number.MAX_SAFE_INTEGER);
    if (nestsDeeperThan(frame.data, state.maxDepth)) inbox.add(null, () => refuseDeep(conn, state.maxDepth));
    else if (frame.event !== 'encrypted' || !session) inbox.add(frame, (f) => handleFrame(state, conn, f));
    else acceptEnvelope(state, conn, session.aesKey, parseEnvelope(frame.data));
  } catch (err) {
    inbox.add(err as Error, (e) => conn.sendError(SIGNAL_ERRORS.badFrame, e.message));
  }
}

/**
 * Data nested deeper than `maxDepth` is never handled: serialising it again
 * (an echo, a room's frame) could overflow the stack, and application
 * handlers should not have to walk it.
 */
function refuseDeep(conn: SignalConnection, maxDepth: number): void {
  conn.sendError(
    SIGNAL_ERRORS.tooDeep,
    `event data is nested deeper than the server allows (maxDepth: ${maxDepth} levels); the frame was dropped`,
  );
}

/**
 * Starts decrypting an envelope and queues its turn. Where the platform
 * decrypts synchronously (Node) the turn runs at once when no earlier frame is waiting.
 */
function acceptEnvelope(state: SignalState, conn: SignalConnection, key: CryptoKey, envelope: ParsedEnvelope): void {
  const iv = envelope.iv;
  conn.inbox.add(
    decryptEnvelope(key, envelope),
    (bytes) => encrypted(state, conn, iv, textOrNull(bytes)),
    () => encrypted(state, conn, iv, null),
  );
}

/** The plaintext bytes, or their promise; a failed authentication throws or rejects. */
function decryptEnvelope(key: CryptoKey, envelope: ParsedEnvelope): Uint8Array | Promise<Uint8Array> {
  // parseEnvelope checked the IV and ciphertext lengths, and the key is the session's own AES-GCM key.
  try {
    return aesGcmNow('decrypt', key, envelope.ivBytes, envelope.ct);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The text of decrypted bytes, or `null` when they are not UTF-8 (reported as a failed decryption). */
function textOrNull(bytes: Uint8Array): string | null {
  try {
    return decodeUtf8(bytes);
  } catch {
    return null;
  }
}

function handleFrame(state: SignalState, conn: SignalConnection, frame: SignalFrame): Promise<void> | void {
  if (conn.closed) return;
  if (!conn.session) {
    if (frame.event === 'authenticate') return authenticate(state, conn, frame.data);
    conn.refuse(
      SIGNAL_ERRORS.notAuthenticated,
      `'${frame.event}' before 'authenticate'; authenticate first`,
      SIGNAL_CLOSE.policy,
    );
    return;
  }
  switch (frame.event) {
    case 'heartbeat':
      return;
    case 'join':
    case 'leave':
      return rooms(state, conn, frame.event, frame.data);
    case 'encrypted':
      return encryptedFrame(state, conn, frame.data);
    case 'authenticate':
      return conn.sendError(SIGNAL_ERRORS.alreadyAuthenticated, 'this connection is already authenticated');
    case 'connected':
    case 'error':
      return conn.sendError(SIGNAL_ERRORS.badFrame, `clients do not send '${frame.event}'`);
    default:
      return plaintext(state, conn, frame);
  }
}

async function authenticate(state: SignalState, conn: SignalConnection, data: unknown): Promise<void> {
  let request: AuthenticateRequest;
  try {
    request = parseAuthenticate(data);
  } catch (err) {
    return conn.refuse(SIGNAL_ERRORS.authFailed, (err as Error).message, SIGNAL_CLOSE.policy);
  }
  const claims = await verifyBearer(request.token, state.options.jwtSecret);
  if ('kind' in claims) {
    const code = claims.kind === 'expired' ? SIGNAL_ERRORS.tokenExpired : SIGNAL_ERRORS.authFailed;
    state.logger.debug(`signal: ${conn.label} refused: ${claims.message}`);
    return conn.refuse(code, claims.message, SIGNAL_CLOSE.policy);
  }
  let keys: ServerKeys;
  try {
    keys = await serverHandshake(request.clientPublicKey, state.options);
  } catch (err) {
    if (err instanceof KeyFormatError) return conn.refuse(SIGNAL_ERRORS.badKey, err.message, SIGNAL_CLOSE.policy);
    throw err;
  }
  if (conn.closed) return;
  const id = randomHex(16);
  conn.session = { id, userId: claims.userId, aesKey: keys.aesKey };
  if (claims.expiresAt !== undefined) {
    conn.expireAt(claims.expiresAt, () =>
      conn.refuse(
        SIGNAL_ERRORS.tokenExpired,
        'token has expired; reconnect with a fresh token',
        SIGNAL_CLOSE.tokenExpired,
      ),
    );
  }
  const { aesKey: _key, ...offer } = keys;
  conn.sendPlain('connected', { id, userId: claims.userId, time: new Date().toISOString(), ...offer });
  state.authenticated(conn);
}

function rooms(state: SignalState, conn: SignalConnection, event: 'join' | 'leave', data: unknown): void {
  let names: string[];
  try {
    names = parseRooms(event, data);
  } catch (err) {
    conn.sendError(SIGNAL_ERRORS.badFrame, (err as Error).message);
    return;
  }
  if (event === 'leave') {
    for (const room of names) state.rooms.leave(conn, room);
    return;
  }
  const added = new Set(names.filter((room) => !conn.rooms.has(room)));
  if (conn.rooms.size + added.size > state.options.maxRoomsPerClient) {
    conn.sendError(
      SIGNAL_ERRORS.tooManyRooms,
      `joining would put this client in more than ${state.options.maxRoomsPerClient} rooms; nothing was joined`,
    );
    return;
  }
  for (const room of added) state.rooms.join(conn, room);
}

function plaintext(state: SignalState, conn: SignalConnection, frame: SignalFrame): void {
  if (frame.event === 'echo' && state.options.allowPlaintextEcho) conn.sendPlain('echo', frame.data);
  else
    conn.sendError(
      SIGNAL_ERRORS.encryptionRequired,
      `plaintext application event '${frame.event}' refused; application events must be encrypted`,
    );
}

/** An `encrypted` frame that arrived before the session existed when it was parsed. */
function encryptedFrame(state: SignalState, conn: SignalConnection, data: unknown): Promise<void> | void {
  const session = conn.session;
  if (!session) return;
  let envelope: ParsedEnvelope;
  try {
    envelope = parseEnvelope(data);
  } catch (err) {
    return conn.sendError(SIGNAL_ERRORS.badFrame, (err as Error).message);
  }
  // Rare (the frame came while `authenticate` was being handled): the turn may as well wait for a promise.
  return Promise.resolve(decryptEnvelope(session.aesKey, envelope)).then(
    (bytes) => encrypted(state, conn, envelope.iv, textOrNull(bytes)),
    () => encrypted(state, conn, envelope.iv, null),
  );
}

/** The turn of a decrypted frame (`text` null: it failed authentication): replay check, then routing. */
function encrypted(state: SignalState, conn: SignalConnection, iv: string, text: string | null): Promise<void> | void {
  if (conn.closed) return;
  // Only a frame that authenticated is remembered (admit: checked and remembered in one lookup).
  if (text === null ? conn.replay.has(iv) : !conn.replay.admit(iv)) {
    return conn.sendError(
      SIGNAL_ERRORS.replay,
      "'encrypted' frame with an IV already seen on this connection (replayed or reflected); dropped",
    );
  }
  if (text === null) {
    return conn.sendError(
      SIGNAL_ERRORS.decryptFailed,
      "'encrypted' frame failed authentication (wrong key or tampered); dropped",
    );
  }
  let inner: SignalFrame;
  try {
    inner = parseInner(text);
  } catch (err) {
    return conn.sendError(SIGNAL_ERRORS.badFrame, (err as Error).message);
  }
  if (nestsDeeperThan(inner.data, state.maxDepth)) return refuseDeep(conn, state.maxDepth);
  return route(state, conn, inner);
}

/** Routes a decrypted event; only an application handler makes the next frame wait (handlers run one at a time). */
function route(state: SignalState, conn: SignalConnection, inner: SignalFrame): Promise<void> | void {
  // Built-in routes do not wait for their sends: each recipient's frames still leave in order.
  if (inner.event === 'echo') {
    const sent = conn.sendEncryptedNow(encodeFrame('echo', inner.data), true);
    if (typeof sent !== 'boolean') sent.catch((err: unknown) => state.logger.error('signal: echo failed', err));
    return;
  }
  if (inner.event === 'publish') return publishFromClient(state, conn, inner.data);
  const handler = state.handlers.get(inner.event);
  if (!handler) return conn.sendError(SIGNAL_ERRORS.unknownEvent, `no route for event '${inner.event}' on this server`);
  return runHandler(state, conn, inner, handler);
}

async function runHandler(
  state: SignalState,
  conn: SignalConnection,
  inner: SignalFrame,
  handler: SignalHandler,
): Promise<void> {
  try {
    await handler(contextOf(state, conn), inner.data);
  } catch (err) {
    state.logger.error(`signal: handler for '${inner.event}' failed`, err);
    conn.sendError(SIGNAL_ERRORS.handlerFailed, `the server's handler for '${inner.event}' failed`);
  }
}

function publishFromClient(state: SignalState, conn: SignalConnection, data: unknown): void {
  const problem = publishProblem(conn, data);
  if (problem) {
    conn.sendError(problem.code, problem.message);
    return;
  }
  const publish = data as { room: string; event: string; data: unknown };
  state.publish(publish.room, publish.event, publish.data, conn).catch((err: unknown) => {
    if (!(err instanceof ClusterUnavailableError)) {
      state.logger.error('signal: publish failed', err);
      return;
    }
    conn.sendError(
      SIGNAL_ERRORS.clusterUnavailable,
      `the cluster is unavailable: '${publish.event}' reached the members on this server only`,
    );
  });
}

/** What is wrong with a client's `publish` data, if anything. */
function publishProblem(conn: SignalConnection, data: unknown): { code: SignalErrorCode; message: string } | undefined {
  const { badFrame, notInRoom } = SIGNAL_ERRORS;
  if (!isRecord(data) || typeof data.room !== 'string' || !isEventName(data.event))
    return { code: badFrame, message: "'publish' data must be {room: string, event: string, data}" };
  if (!conn.rooms.has(data.room))
    return {
      code: notInRoom,
      message: `'publish' to room '${data.room.slice(0, 80)}', which this client has not joined`,
    };
  if (RESERVED_INNER_EVENTS.has(data.event))
    return { code: badFrame, message: `'publish' cannot carry the reserved event '${data.event}'` };
  return undefined;
}

/** The handler context of a connection. */
export function contextOf(state: SignalState, conn: SignalConnection): SignalContext {
  const session = conn.session;
  const check = (event: string, what: string): void => {
    if (!isEventName(event) || RESERVED_INNER_EVENTS.has(event)) {
      throw new InvalidArgumentError(
        `${what}: '${String(event).slice(0, 80)}' is not an application event name (control names are reserved)`,
      );
    }
  };
  return {
    id: session?.id ?? '',
    userId: session?.userId ?? '',
    rooms: [...conn.rooms],
    send: async (event, data) => {
      check(event, 'ctx.send(event)');
      // An answer to the frame being handled: never held back under a storm.
      return conn.sendEncrypted(event, data, true);
    },
    publish: async (room, event, data) => {
      check(event, 'ctx.publish(room, event)');
      return state.publish(room, event, data, conn);
    },
  };
}
