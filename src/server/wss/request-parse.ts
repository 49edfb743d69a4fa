/**
 * Parsing a WSS frame: the JSON-RPC envelope into objects, each request's
 * `params.data` into a {@link RawJson} of the bytes the client sent. `data`
 * is only relayed, so it is checked (request-scan.ts) but never built into
 * objects, and the push carries it byte for byte (see push.ts).
 */
import { isRecord, snippet } from '../../protocol/guards.js';
import { RawJson } from '../transport/raw-json.js';
import { type DataSpan, scanRequests } from './request-scan.js';

/** A parsed frame, or `ok: false` when it is not one JSON text. */
export type ParsedFrame = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/** Parses one frame or body (UTF-8); `params.data` members become {@link RawJson}. */
export function parseFrame(bytes: Buffer): ParsedFrame {
  const scan = scanRequests(bytes);
  if (scan === null) return { ok: false };
  let value: unknown;
  try {
    value = JSON.parse(withoutData(bytes, scan.data));
  } catch {
    return { ok: false };
  }
  scan.data.forEach((span, i) => {
    if (span !== null) putData(scan.batch && Array.isArray(value) ? value[i] : value, bytes, span);
  });
  return { ok: true, value };
}

/** The frame's text with every `params.data` value replaced by `null`. */
function withoutData(bytes: Buffer, spans: readonly (DataSpan | null)[]): string {
  let text = '';
  let at = 0;
  for (const span of spans) {
    if (span === null) continue;
    text += `${bytes.toString('utf8', at, span.start)}null`;
    at = span.end;
  }
  return text + bytes.toString('utf8', at);
}

function putData(request: unknown, bytes: Buffer, span: DataSpan): void {
  if (!isRecord(request) || !isRecord(request.params) || request.params.data !== null) return;
  request.params.data = new RawJson(bytes.subarray(span.start, span.end), span.levels);
}

/** The id a frame is answered with when it is refused unread: `undefined` for a notification (no answer). */
export function requestIdOf(parsed: ParsedFrame): string | number | null | undefined {
  if (!parsed.ok || !isRecord(parsed.value)) return null;
  const id = parsed.value.id;
  return typeof id === 'string' || typeof id === 'number' || id === null || id === undefined ? id : null;
}

/** The first 80 characters of a frame, for log lines. */
export function frameStart(bytes: Buffer): string {
  return snippet(bytes.toString('utf8', 0, 320), 80);
}
