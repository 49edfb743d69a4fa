/**
 * The messages nodes exchange over Redis pub/sub: one line of JSON (the
 * header), a newline, then the body as is. A frame for sessions travels as
 * its text in the body, written by the sending node once and handed to every
 * local recipient by each receiving node without being parsed. Presence
 * events carry `s`, their place in the cluster's event order (see lua.ts).
 * Everything read from Redis is validated here: a node never trusts the bus
 * more than a socket.
 */
import { isNonEmptyString, isRecord, isStringArray } from '../../protocol/guards.js';

/** A presence event: a session joined, was renamed, left; a node was reaped or came back. */
export type PresenceEvent =
  | { kind: 'join'; seq: number; node: string; pid: string; options: string; announce: string }
  | { kind: 'rename'; seq: number; node: string; from: string; to: string; announce: string }
  | { kind: 'leave'; seq: number; node: string; pid: string; announce: string }
  | { kind: 'reaped'; seq: number; node: string; dead: string; pids: string[] }
  | { kind: 'sync'; seq: number; node: string; sessions: Array<[pid: string, options: string]> };

/** Any message of the bus or of a node's inbox. */
export type BusMessage =
  | PresenceEvent
  | { kind: 'beat'; node: string }
  | { kind: 'broadcast'; node: string; from: string; exclude: string[]; frame: string }
  | { kind: 'direct'; node: string; to: string[]; frame: string }
  | { kind: 'room'; node: string; room: string; except: string | null; event: string };

const KINDS: Record<string, BusMessage['kind']> = {
  j: 'join',
  r: 'rename',
  l: 'leave',
  x: 'reaped',
  s: 'sync',
  h: 'beat',
  b: 'broadcast',
  d: 'direct',
  g: 'room',
};

/** Header of a presence event as a node writes it (the script adds `s`). */
export const joinHeader = (node: string, pid: string): string => JSON.stringify({ k: 'j', n: node, p: pid });
export const renameHeader = (node: string, from: string, to: string): string =>
  JSON.stringify({ k: 'r', n: node, f: from, t: to });
export const leaveHeader = (node: string, pid: string): string => JSON.stringify({ k: 'l', n: node, p: pid });
export const beatMessage = (node: string): string => `${JSON.stringify({ k: 'h', n: node })}\n`;

export const broadcastMessage = (node: string, from: string, exclude: Iterable<string>, frame: string): string =>
  `${JSON.stringify({ k: 'b', n: node, f: from, x: [...exclude] })}\n${frame}`;

export const directMessage = (node: string, to: readonly string[], frame: string): string =>
  `${JSON.stringify({ k: 'd', n: node, t: to })}\n${frame}`;

/** A Signal room event: `event` is the JSON `{"event","data"}` each member gets encrypted; `except` a client id. */
export const roomMessage = (node: string, room: string, except: string | null, event: string): string =>
  `${JSON.stringify({ k: 'g', n: node, r: room, x: except })}\n${event}`;

/** A decoded message, or why it was refused. */
export type Decoded = { ok: true; message: BusMessage } | { ok: false; reason: string };

const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) > 0;

/** JSON text of an object (connect options are objects). */
function isObjectJson(text: string): boolean {
  return isRecord(parseJson(text));
}

function split(text: string): [string, string] | null {
  const cut = text.indexOf('\n');
  return cut === -1 ? null : [text.slice(0, cut), text.slice(cut + 1)];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Decodes and validates one message; never throws. */
export function decodeBusMessage(text: string): Decoded {
  const parts = split(text);
  if (!parts) return { ok: false, reason: 'no header line' };
  const h = parseJson(parts[0]);
  if (!isRecord(h)) return { ok: false, reason: 'header is not a JSON object' };
  const kind = typeof h.k === 'string' ? KINDS[h.k] : undefined;
  if (!kind || !isNonEmptyString(h.n)) return { ok: false, reason: 'header has no known kind (k) or node (n)' };
  const message = decodeBody(kind, h, h.n, parts[1]);
  return message ? { ok: true, message } : { ok: false, reason: `malformed '${kind}' message` };
}

function decodeBody(
  kind: BusMessage['kind'],
  h: Record<string, unknown>,
  node: string,
  body: string,
): BusMessage | null {
  switch (kind) {
    case 'beat':
      return { kind, node };
    case 'broadcast':
      return isNonEmptyString(h.f) && isStringArray(h.x) ? { kind, node, from: h.f, exclude: h.x, frame: body } : null;
    case 'direct':
      return isStringArray(h.t) ? { kind, node, to: h.t, frame: body } : null;
    case 'room':
      return isNonEmptyString(h.r) && (h.x === null || isNonEmptyString(h.x)) && isObjectJson(body)
        ? { kind, node, room: h.r, except: h.x, event: body }
        : null;
    default:
      return isSeq(h.s) ? decodePresence(kind, h, node, h.s, body) : null;
  }
}

function decodePresence(
  kind: BusMessage['kind'],
  h: Record<string, unknown>,
  node: string,
  seq: number,
  body: string,
): PresenceEvent | null {
  if (kind === 'join') {
    const parts = split(body);
    if (!isNonEmptyString(h.p) || !parts || !isObjectJson(parts[0])) return null;
    return { kind, seq, node, pid: h.p, options: parts[0], announce: parts[1] };
  }
  if (kind === 'rename')
    return isNonEmptyString(h.f) && isNonEmptyString(h.t)
      ? { kind, seq, node, from: h.f, to: h.t, announce: body }
      : null;
  if (kind === 'leave') return isNonEmptyString(h.p) ? { kind, seq, node, pid: h.p, announce: body } : null;
  const list = parseJson(body);
  if (kind === 'reaped')
    return isNonEmptyString(h.d) && isStringArray(list) ? { kind, seq, node, dead: h.d, pids: list } : null;
  if (kind === 'sync' && Array.isArray(list) && list.every(isSessionPair))
    return { kind, seq, node, sessions: list as Array<[string, string]> };
  return null;
}

function isSessionPair(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    isNonEmptyString(value[0]) &&
    isNonEmptyString(value[1]) &&
    isObjectJson(value[1])
  );
}
