/**
 * The extended envelope (type letter `x`) of end-to-end delivery: its payload
 * (items, and the sender's session proof) and the per-recipient entry carried
 * in each wrap. Pure encoding and validation; spec "Delivery", D.3 and D.5.
 */
import { InvalidArgumentError } from '../errors.js';
import { isRecord } from '../protocol/guards.js';

/** Kinds of items: broadcast and direct messages, requests, answers, failed answers. */
export type ItemKind = 'b' | 'd' | 'q' | 'r' | 'e';

/** One item of an extended envelope, as received. */
export type Item = ['b' | 'd', unknown] | ['q' | 'r', number, unknown] | ['e', number, string];

/** A receipt: the receiver's stream `[epoch, k]` was delivered up to and including `k`. */
export type Receipt = [epoch: number, delivered: number];

/** What one recipient's wrap says besides the message key (every member optional). */
export interface Entry {
  /** Epoch of the sender's stream to this recipient. */
  e?: number;
  /** Sequence number of the first item; absent: the items are not sequenced. */
  q?: number;
  /** Every sequence number below `f` is settled at the sender. */
  f?: number;
  /** Receipt for this recipient's own stream to the sender. */
  a?: Receipt;
  /** A gap after `a` was seen: re-send from there. */
  n?: 1;
  /** A hello: answer with a receipt. */
  h?: 1;
}

/** The payload of an extended envelope: its items and, until the recipients know it, the sender's session proof. */
export interface Payload {
  i: Item[];
  /** Session ID (base64 of the session's ECDSA P-256 public key) and its proof over the connection key. */
  s?: string;
  g?: string;
}

/** Longest error text an answer carries; longer texts are cut. */
export const MAX_ERROR_TEXT = 1024;

/** Largest epoch (epochs are 32-bit). */
const MAX_EPOCH = 2 ** 32 - 1;

/** A sequence number (or an envelope's counter): a positive safe integer. */
export const isSeq = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isEpoch = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_EPOCH;

/** Whether `value` is a well-formed item. */
function isItem(value: unknown): value is Item {
  if (!Array.isArray(value)) return false;
  const [kind, id, text] = value;
  if (kind === 'b' || kind === 'd') return value.length === 2;
  if (value.length !== 3 || !isSeq(id)) return false;
  if (kind === 'q' || kind === 'r') return true;
  return kind === 'e' && typeof text === 'string' && text.length <= MAX_ERROR_TEXT;
}

/** A JSON object, or `null` when the text is not one. */
function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/** The payload of an extended envelope, or `null` when it is not one (not a JSON object with an item list, a half proof). */
export function parsePayload(text: string): Payload | null {
  const value = parseObject(text);
  if (!value) return null;
  const { i, s, g } = value;
  if (!Array.isArray(i) || !i.every(isItem)) return null;
  if (s === undefined && g === undefined) return { i };
  return typeof s === 'string' && typeof g === 'string' ? { i, s, g } : null;
}

/** The entry carried after the message key in a wrap (`{}` when there is none), or `null` when malformed. */
export function parseEntry(text: string): Entry | null {
  if (!text) return {};
  const value = parseObject(text);
  if (!value) return null;
  const { e, q, f, a, n, h } = value;
  const ok =
    (e === undefined || isEpoch(e)) &&
    (q === undefined || (isSeq(q) && isSeq(f) && (f as number) <= q)) &&
    (f === undefined || (isSeq(f) && e !== undefined)) &&
    (a === undefined || (Array.isArray(a) && a.length === 2 && isEpoch(a[0]) && isCount(a[1]))) &&
    (n === undefined || n === 1) &&
    (h === undefined || h === 1);
  return ok ? (value as Entry) : null;
}

/** The JSON of an entry; empty when it says nothing (the wrap then holds the message key alone). */
export function encodeEntry(entry: Entry): string {
  for (const key in entry) if ((entry as Record<string, unknown>)[key] !== undefined) return JSON.stringify(entry);
  return '';
}

/** The JSON of a payload from its items' JSON (see {@link itemJson}) and, when given, the session proof. */
export function encodePayload(items: readonly string[], proof?: { s: string; g: string }): string {
  const credentials = proof ? `,"s":${JSON.stringify(proof.s)},"g":${JSON.stringify(proof.g)}` : '';
  return `{"i":[${items.join(',')}]${credentials}}`;
}

/** `value` as JSON (`undefined` as `null`), or `undefined` when it has none. */
export function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value ?? null);
  } catch {
    // BigInt and cycles throw; functions and symbols give undefined. Both are answered alike.
    return undefined;
  }
}

/** The JSON of a message's data. @throws {InvalidArgumentError} when it has none. */
export function toJson(data: unknown): string {
  const json = jsonOf(data);
  if (json === undefined) throw new InvalidArgumentError('data must be JSON-serialisable');
  return json;
}

/** The JSON of one item from its kind, its request id (requests and answers) and its data's JSON. */
export function itemJson(kind: ItemKind, id: number, json: string): string {
  return kind === 'b' || kind === 'd' ? `["${kind}",${json}]` : `["${kind}",${id},${json}]`;
}
