/** Small HTTP helpers shared by every HTTP route: bounded body reading, JSON and text replies, CORS. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The request body, or why there is none. */
export type BodyResult =
  | { readonly ok: true; readonly text: string }
  | { readonly ok: false; readonly reason: 'too-large' | 'aborted' };

/** Reads a request body as UTF-8, giving up (and pausing the request) once it exceeds `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      resolve({ ok: false, reason: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('aborted', onAbort);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve({ ok: false, reason: 'too-large' });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ ok: true, text: Buffer.concat(chunks).toString('utf8') });
    };
    const onAbort = (): void => {
      cleanup();
      resolve({ ok: false, reason: 'aborted' });
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('aborted', onAbort);
  });
}

/** Headers that let any origin call the server from a browser. */
export const CORS_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Access-Control-Allow-Origin': '*' });

/** Extra headers for an `OPTIONS` preflight answer. */
export const PREFLIGHT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '600',
});

/** Sends a complete reply; `close` asks the client to drop the connection (used after refusing a body). */
export function reply(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
  close = false,
): void {
  if (res.headersSent) return;
  const all: Record<string, string | number> = { ...headers, 'Content-Length': Buffer.byteLength(body) };
  if (close) all.Connection = 'close';
  res.writeHead(status, all);
  res.end(body);
}
