/**
 * Validation of Signal frames (PROTOCOL.md §2), shared by the client and the
 * reference server. Every function throws a {@link ProtocolError} that names
 * what was wrong; nothing from the network is used before it passes here.
 */
import { KeyFormatError, ProtocolError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { AES_GCM_IV_LENGTH, AES_GCM_TAG_LENGTH } from '../crypto/aead.js';
import { hasOwn, isRecord, snippet } from '../protocol/guards.js';
import { RESERVED_INNER_EVENTS, type ISignalConnectedData } from './types.js';

/** Longest event name accepted, in characters. */
export const MAX_EVENT_NAME_LENGTH = 256;
/** Longest room name accepted, in characters. */
export const MAX_ROOM_NAME_LENGTH = 256;
/** Most rooms in one `join` or `leave`. */
export const MAX_ROOMS_PER_FRAME = 100;
/** Longest string accepted for connected.id / userId / time. */
const MAX_ID_LENGTH = 1024;
/** Base64 length of a 12-byte IV. */
const IV_BASE64_LENGTH = 16;

/** One parsed frame. */
export interface SignalFrame {
  event: string;
  data: unknown;
}

/** A decoded, well-formed `encrypted` payload. */
export interface ParsedEnvelope {
  /** The IV as sent (canonical base64, so usable as a replay key). */
  iv: string;
  ivBytes: Uint8Array<ArrayBuffer>;
  ct: Uint8Array<ArrayBuffer>;
}

function fail(message: string, frame?: string, cause?: unknown): never {
  throw new ProtocolError(message, { frame, cause });
}

/** Whether `name` is usable as an event name. */
export function isEventName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_EVENT_NAME_LENGTH;
}

/** Parses a text frame into `{event, data}`. */
export function parseFrame(raw: unknown, maxChars: number): SignalFrame {
  if (typeof raw !== 'string') fail('received a binary frame; Signal frames are JSON text');
  if (raw.length > maxChars) fail(`dropped a ${raw.length}-character frame, over the limit of ${maxChars}`, raw);
  return parseEventObject(raw, 'frame', raw);
}

/** `{event, data}` from JSON text; `what` names the text in errors. */
function parseEventObject(text: string, what: string, frame?: string): SignalFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    fail(`${what} is not JSON`, frame, cause);
  }
  if (!isRecord(value) || !isEventName(value.event)) fail(`${what} must be {event, data} with an event name of 1-${MAX_EVENT_NAME_LENGTH} characters`, frame);
  return { event: value.event, data: value.data };
}

/** Encodes a frame; `data` undefined is left out (as in `{"event":"heartbeat"}`). */
export function encodeFrame(event: string, data?: unknown): string {
  return JSON.stringify({ event, data });
}

/** Validates and decodes the data of an `encrypted` frame. */
export function parseEnvelope(data: unknown): ParsedEnvelope {
  if (!isRecord(data) || typeof data.iv !== 'string' || typeof data.ct !== 'string' || data.iv.length !== IV_BASE64_LENGTH) {
    fail(`'encrypted' data must be {iv, ct}: base64 of a ${AES_GCM_IV_LENGTH}-byte IV and of ciphertext ‖ tag`);
  }
  try {
    const ivBytes = base64ToBytes(data.iv, "'encrypted' iv");
    const ct = base64ToBytes(data.ct, "'encrypted' ct");
    if (ct.length < AES_GCM_TAG_LENGTH) fail(`'encrypted' ct is shorter than the ${AES_GCM_TAG_LENGTH}-byte tag`);
    return { iv: data.iv, ivBytes, ct };
  } catch (err) {
    if (err instanceof KeyFormatError) fail(err.message, undefined, err);
    throw err;
  }
}

/** Parses the decrypted plaintext of an envelope: `{event, data}` with an application event name. */
export function parseInner(plaintext: string): SignalFrame {
  const inner = parseEventObject(plaintext, 'decrypted payload');
  if (RESERVED_INNER_EVENTS.has(inner.event)) fail(`decrypted payload carries the reserved event '${inner.event}'; control events are never encrypted`);
  return inner;
}

const CONNECTED_REQUIRED = ['id', 'userId', 'time'];
const CONNECTED_OPTIONAL = ['serverPublicKey', 'salt', 'signature'];

/**
 * Validates the data of a `connected` frame: string ids of at most 1024
 * characters; optional key material as strings (checked later, when used).
 */
export function parseConnected(data: unknown): ISignalConnectedData {
  if (!isRecord(data)) fail("'connected' data must be an object {id, userId, time, ...}");
  const out: Record<string, string> = {};
  for (const key of [...CONNECTED_REQUIRED, ...CONNECTED_OPTIONAL]) {
    const value = hasOwn(data, key) ? data[key] : undefined;
    const optional = CONNECTED_OPTIONAL.includes(key);
    if (optional && value == null) continue;
    if (typeof value !== 'string' || (!optional && value.length > MAX_ID_LENGTH)) {
      fail(`'connected' ${key} must be a string${optional ? '' : ` of at most ${MAX_ID_LENGTH} characters`}`);
    }
    out[key] = value;
  }
  return out as unknown as ISignalConnectedData;
}

/** Validates the data of a `join` / `leave` frame: `{rooms: string[]}`. */
export function parseRooms(event: string, data: unknown): string[] {
  if (!isRecord(data) || !Array.isArray(data.rooms)) fail(`'${event}' data must be {rooms: string[]}`);
  const rooms = data.rooms as unknown[];
  if (rooms.length > MAX_ROOMS_PER_FRAME) fail(`'${event}' lists ${rooms.length} rooms; at most ${MAX_ROOMS_PER_FRAME} per frame`);
  for (const room of rooms) {
    if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_NAME_LENGTH) {
      fail(`'${event}' rooms must be strings of 1-${MAX_ROOM_NAME_LENGTH} characters; got ${snippet(JSON.stringify(room) ?? String(room), 60)}`);
    }
  }
  return rooms as string[];
}
