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
  if (raw.length > maxChars) fail(`received a ${raw.length}-character frame, over the limit of ${maxChars}; it was dropped`, raw);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (cause) {
    fail('received a frame that is not JSON', raw, cause);
  }
  if (!isRecord(value)) fail('received a frame that is not a JSON object {event, data}', raw);
  if (!isEventName(value.event)) fail(`frame 'event' must be a string of 1-${MAX_EVENT_NAME_LENGTH} characters`, raw);
  return { event: value.event, data: value.data };
}

/** Encodes a frame; `data` undefined is left out (as in `{"event":"heartbeat"}`). */
export function encodeFrame(event: string, data?: unknown): string {
  return JSON.stringify(data === undefined ? { event } : { event, data });
}

/** Validates and decodes the data of an `encrypted` frame. */
export function parseEnvelope(data: unknown): ParsedEnvelope {
  if (!isRecord(data) || typeof data.iv !== 'string' || typeof data.ct !== 'string') {
    fail("'encrypted' data must be an object {iv, ct} of base64 strings");
  }
  if (data.iv.length !== IV_BASE64_LENGTH) fail(`'encrypted' iv must be base64 of ${AES_GCM_IV_LENGTH} bytes`);
  try {
    const ivBytes = base64ToBytes(data.iv, "'encrypted' iv");
    const ct = base64ToBytes(data.ct, "'encrypted' ct");
    if (ct.length < AES_GCM_TAG_LENGTH) fail(`'encrypted' ct is ${ct.length} bytes, shorter than the ${AES_GCM_TAG_LENGTH}-byte tag`);
    return { iv: data.iv, ivBytes, ct };
  } catch (err) {
    if (err instanceof KeyFormatError) fail(err.message, undefined, err);
    throw err;
  }
}

/** Parses the decrypted plaintext of an envelope: `{event, data}` with an application event name. */
export function parseInner(plaintext: string): SignalFrame {
  let value: unknown;
  try {
    value = JSON.parse(plaintext);
  } catch (cause) {
    fail('decrypted payload is not JSON', undefined, cause);
  }
  if (!isRecord(value) || !isEventName(value.event)) {
    fail(`decrypted payload must be {event, data} with an event name of 1-${MAX_EVENT_NAME_LENGTH} characters`);
  }
  if (RESERVED_INNER_EVENTS.has(value.event)) {
    fail(`decrypted payload carries the reserved event '${value.event}'; control events are never encrypted`);
  }
  return { event: value.event, data: value.data };
}

function optionalString(data: Record<string, unknown>, key: string): string | undefined {
  if (!hasOwn(data, key) || data[key] === undefined || data[key] === null) return undefined;
  const value = data[key];
  if (typeof value !== 'string') fail(`'connected' ${key} must be a string`);
  return value;
}

function requiredId(data: Record<string, unknown>, key: string): string {
  const value = data[key];
  if (typeof value !== 'string' || value.length > MAX_ID_LENGTH) fail(`'connected' ${key} must be a string of at most ${MAX_ID_LENGTH} characters`);
  return value;
}

/** Validates the data of a `connected` frame (key material is checked later, when it is used). */
export function parseConnected(data: unknown): ISignalConnectedData {
  if (!isRecord(data)) fail("'connected' data must be an object {id, userId, time, serverPublicKey?, salt?}");
  const out: ISignalConnectedData = { id: requiredId(data, 'id'), userId: requiredId(data, 'userId'), time: requiredId(data, 'time') };
  const serverPublicKey = optionalString(data, 'serverPublicKey');
  const salt = optionalString(data, 'salt');
  const signature = optionalString(data, 'signature');
  if (serverPublicKey !== undefined) out.serverPublicKey = serverPublicKey;
  if (salt !== undefined) out.salt = salt;
  if (signature !== undefined) out.signature = signature;
  return out;
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
