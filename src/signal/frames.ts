/**
 * Validation of Signal frames (PROTOCOL.md §2), shared by the client and the
 * reference server. Every parser throws a {@link ProtocolError} that names
 * what was wrong; nothing from the network is used before it passes here.
 */
import { ProtocolError } from '../errors.js';
import { decodeBase64 } from '../crypto/base64.js';
import { decodeUtf8 } from '../crypto/bytes.js';
import type { IEncryptedPayload } from '../crypto/signal-crypto.js';
import { isRecord, snippet } from '../protocol/guards.js';
import { RESERVED_INNER_EVENTS, type ISignalConnectedData } from './types.js';

/** Longest event name accepted, in characters. */
export const MAX_EVENT_NAME_LENGTH = 256;
/** Longest room name accepted, in characters. */
export const MAX_ROOM_NAME_LENGTH = 256;
/** Most rooms in one `join` or `leave`. */
export const MAX_ROOMS_PER_FRAME = 100;

/** One parsed frame. */
export interface SignalFrame {
  event: string;
  data: unknown;
}

/** A decoded, well-formed `encrypted` payload; its bytes may be views into a shared pool (see `decodeBase64`). */
export interface ParsedEnvelope {
  /** The IV as sent (canonical base64, so usable as a replay key). */
  iv: string;
  ivBytes: Uint8Array<ArrayBuffer>;
  ct: Uint8Array<ArrayBuffer>;
}

/**
 * The one check of the Signal modules: throws `new E(message)` unless `ok`;
 * a ProtocolError by default, as for every frame.
 * @internal
 */
export function need(ok: unknown, message: string, E: new (message: string) => Error = ProtocolError): asserts ok {
  if (!ok) throw new E(message);
}

/** Whether `name` is usable as an event name. */
export function isEventName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_EVENT_NAME_LENGTH;
}

/** `{event, data}` from JSON text or its UTF-8 bytes; `what` names it in errors. */
function parseEvent(json: string | Uint8Array, what: string): SignalFrame {
  let value: unknown;
  try {
    value = JSON.parse(typeof json === 'string' ? json : decodeUtf8(json));
  } catch {}
  // The messages below are built only on failure: these checks run on every frame.
  if (!isRecord(value) || !isEventName(value.event)) throw new ProtocolError(`${what} must be JSON {event, data}`);
  return { event: value.event, data: value.data };
}

/** Parses a text frame of at most `maxChars` characters into `{event, data}`. */
export function parseFrame(raw: unknown, maxChars: number): SignalFrame {
  if (typeof raw !== 'string' || raw.length > maxChars)
    throw new ProtocolError(`frame must be text of at most ${maxChars} characters`);
  return parseEvent(raw, 'frame');
}

/** Encodes a frame; `data` undefined is left out (as in `{"event":"heartbeat"}`). */
export function encodeFrame(event: string, data?: unknown): string {
  return JSON.stringify({ event, data });
}

/**
 * Encodes an `encrypted` frame: the same text as `encodeFrame('encrypted',
 * payload)`, built directly, because base64 never needs JSON escaping.
 */
export function encodeEnvelope(payload: IEncryptedPayload): string {
  return `{"event":"encrypted","data":{"iv":"${payload.iv}","ct":"${payload.ct}"}}`;
}

/** The decoded envelope, or `undefined` unless `iv` and `ct` are canonical base64 of 12 and at least 16 bytes. */
function decodeEnvelope(iv: unknown, ct: unknown): ParsedEnvelope | undefined {
  const ivBytes = decodeBase64(iv);
  const ctBytes = decodeBase64(ct);
  return ivBytes.length === 12 && ctBytes.length >= 16 ? { iv: iv as string, ivBytes, ct: ctBytes } : undefined;
}

/** Validates and decodes the data of an `encrypted` frame: a 12-byte IV, a ciphertext no shorter than the 16-byte tag. */
export function parseEnvelope(data: unknown): ParsedEnvelope {
  const { iv, ct } = Object(data) as Record<string, unknown>;
  const envelope = decodeEnvelope(iv, ct);
  need(envelope, "'encrypted' {iv, ct} must be base64 of 12 and 16+ bytes");
  return envelope;
}

const HEAD = '{"event":"encrypted","data":{"iv":"';
const MIDDLE = '","ct":"';
const TAIL = '"}}';

/**
 * The envelope of an `encrypted` frame written exactly as {@link encodeEnvelope}
 * writes it (as every sender in this library and the original client's
 * `JSON.stringify` do), read without `JSON.parse`. The text between the fixed
 * parts must be canonical base64, which has no quote or backslash, so a text
 * accepted here is that JSON and means nothing else. `undefined` for every
 * other text (other spacing or key order, escapes, a bad envelope), which
 * then takes the general path: {@link parseFrame}, then {@link parseEnvelope}.
 */
export function matchEnvelope(raw: string): ParsedEnvelope | undefined {
  if (!raw.startsWith(HEAD) || !raw.endsWith(TAIL)) return undefined;
  const middle = raw.indexOf(MIDDLE, HEAD.length);
  const ctStart = middle + MIDDLE.length;
  const ctEnd = raw.length - TAIL.length;
  if (middle < 0 || ctStart > ctEnd) return undefined;
  return decodeEnvelope(raw.slice(HEAD.length, middle), raw.slice(ctStart, ctEnd));
}

/** Parses the decrypted plaintext (text or UTF-8 bytes) of an envelope: `{event, data}` with an application event name. */
export function parseInner(plaintext: string | Uint8Array): SignalFrame {
  const inner = parseEvent(plaintext, 'decrypted payload');
  if (RESERVED_INNER_EVENTS.has(inner.event)) throw new ProtocolError(`reserved event '${inner.event}' in an envelope`);
  return inner;
}

/**
 * Validates the data of a `connected` frame: id, userId and time must be
 * strings of at most 1024 characters. The key material (serverPublicKey,
 * salt, signature; null or undefined when absent) is checked when used.
 * Returns the data as sent.
 */
export function parseConnected(data: unknown): ISignalConnectedData {
  const given = Object(data) as Record<string, unknown>;
  need(
    ['id', 'userId', 'time'].every((key) => typeof given[key] === 'string' && (given[key] as string).length <= 1024),
    "'connected' id, userId and time must be strings of 0-1024 characters",
  );
  return given as unknown as ISignalConnectedData;
}

/** Validates the data of a `join` / `leave` frame: `{rooms: string[]}`. */
export function parseRooms(event: string, data: unknown): string[] {
  const rooms = isRecord(data) && data.rooms;
  need(Array.isArray(rooms), `'${event}' data must be {rooms: string[]}`);
  need(
    rooms.length <= MAX_ROOMS_PER_FRAME,
    `'${event}' lists ${rooms.length} rooms; at most ${MAX_ROOMS_PER_FRAME} per frame`,
  );
  for (const room of rooms as unknown[]) {
    need(
      typeof room === 'string' && room.length > 0 && room.length <= MAX_ROOM_NAME_LENGTH,
      `'${event}' rooms must be strings of 1-${MAX_ROOM_NAME_LENGTH} characters; got ${snippet(JSON.stringify(room) ?? String(room), 60)}`,
    );
  }
  return rooms as string[];
}
