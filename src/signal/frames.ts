/**
 * Validation of Signal frames (PROTOCOL.md §2), shared by the client and the
 * reference server. Every function throws a {@link ProtocolError} that names
 * what was wrong; nothing from the network is used before it passes here.
 */
import { ProtocolError } from '../errors.js';
import { base64ToBytes } from '../crypto/base64.js';
import { AES_GCM_IV_LENGTH, AES_GCM_TAG_LENGTH } from '../crypto/aead.js';
import { utf8Decode } from '../crypto/bytes.js';
import { isRecord, snippet } from '../protocol/guards.js';
import { RESERVED_INNER_EVENTS, type ISignalConnectedData } from './types.js';

/** Longest event name accepted, in characters. */
export const MAX_EVENT_NAME_LENGTH = 256;
/** Longest room name accepted, in characters. */
export const MAX_ROOM_NAME_LENGTH = 256;
/** Most rooms in one `join` or `leave`. */
export const MAX_ROOMS_PER_FRAME = 100;
/** Longest string accepted for connected.id / userId / time. */
const MAX_ID_LENGTH = 1024;

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

/** `{event, data}` from JSON text or its UTF-8 bytes; `what` names it in errors. */
function parseEvent(json: string | Uint8Array, what: string, frame?: string): SignalFrame {
  let value: unknown;
  try {
    value = JSON.parse(typeof json === 'string' ? json : utf8Decode(json));
  } catch (cause) {
    fail(`${what} is not JSON`, frame, cause);
  }
  if (!isRecord(value) || !isEventName(value.event)) fail(`${what} must be {event, data} with an event of 1-${MAX_EVENT_NAME_LENGTH} characters`, frame);
  return { event: value.event, data: value.data };
}

/** Parses a text frame into `{event, data}`. */
export function parseFrame(raw: unknown, maxChars: number): SignalFrame {
  if (typeof raw !== 'string') fail('dropped a binary frame; frames are JSON text');
  if (raw.length > maxChars) fail(`dropped a frame of ${raw.length} characters, over ${maxChars}`, raw);
  return parseEvent(raw, 'frame', raw);
}

/** Encodes a frame; `data` undefined is left out (as in `{"event":"heartbeat"}`). */
export function encodeFrame(event: string, data?: unknown): string {
  return JSON.stringify({ event, data });
}

/** Validates and decodes the data of an `encrypted` frame. */
export function parseEnvelope(data: unknown): ParsedEnvelope {
  if (!isRecord(data)) fail("'encrypted' data must be {iv, ct}");
  let ivBytes, ct;
  try {
    // Strict base64 (also of non-strings: a KeyFormatError), so the iv text is canonical and can key the replay guard.
    ivBytes = base64ToBytes(data.iv as string, "'encrypted' iv");
    ct = base64ToBytes(data.ct as string, "'encrypted' ct");
  } catch (err) {
    fail((err as Error).message, undefined, err);
  }
  if (ivBytes.length !== AES_GCM_IV_LENGTH || ct.length < AES_GCM_TAG_LENGTH) {
    fail(`'encrypted' iv must be ${AES_GCM_IV_LENGTH} bytes, ct no shorter than the ${AES_GCM_TAG_LENGTH}-byte tag`);
  }
  return { iv: data.iv as string, ivBytes, ct };
}

/** Parses the decrypted plaintext (text or UTF-8 bytes) of an envelope: `{event, data}` with an application event name. */
export function parseInner(plaintext: string | Uint8Array): SignalFrame {
  const inner = parseEvent(plaintext, 'decrypted payload');
  if (RESERVED_INNER_EVENTS.has(inner.event)) fail(`decrypted payload carries the reserved event '${inner.event}'`);
  return inner;
}

/**
 * Validates the data of a `connected` frame: string ids of at most 1024
 * characters; optional key material as strings (checked later, when used).
 */
export function parseConnected(data: unknown): ISignalConnectedData {
  if (!isRecord(data)) fail("'connected' data must be an object");
  const out: Record<string, string> = {};
  ['id', 'userId', 'time', 'serverPublicKey', 'salt', 'signature'].forEach((key, i) => {
    // The first three are required; the key material is optional, and null means absent.
    const value = Object.hasOwn(data, key) ? data[key] : undefined;
    if (i > 2 && value == null) return;
    if (typeof value !== 'string' || (i < 3 && value.length > MAX_ID_LENGTH)) {
      fail(`'connected' ${key} must be a string${i < 3 ? ` of at most ${MAX_ID_LENGTH} characters` : ''}`);
    }
    out[key] = value;
  });
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
