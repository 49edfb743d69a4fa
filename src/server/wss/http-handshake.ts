/** The WSS protocol over HTTP POST (meant for `WSS_Handshake`; the other methods answer -32002 there). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CORS_HEADERS, readBody, reply } from '../http.js';
import type { ResolvedServerOptions } from '../options.js';
import { clientOf } from '../transport/client.js';
import { WSS_ERRORS } from './messages.js';
import type { WssRpc } from './rpc.js';

const JSON_RPC_TYPE = 'application/json-rpc';

/** Answers one POST: the body is a JSON-RPC request or batch, answered as the legacy server did. */
export async function answerPost(
  rpc: WssRpc,
  options: ResolvedServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const headers: Record<string, string> = { 'Content-Type': JSON_RPC_TYPE };
  if (options.cors) Object.assign(headers, CORS_HEADERS);
  const body = await readBody(req, options.maxPayload);
  if (!body.ok) {
    if (body.reason === 'aborted') return;
    const error = { code: WSS_ERRORS.tooLarge.code, message: WSS_ERRORS.tooLarge.message };
    reply(res, 413, JSON.stringify({ jsonrpc: '2.0', id: null, error }), headers, true);
    return;
  }
  const { ipKey } = clientOf(req, options.trustProxy);
  const answer = await rpc.handle(Buffer.from(body.text, 'utf8'), { transport: 'http', ipKey, conn: null });
  if (answer === null) reply(res, 204, '', headers);
  else reply(res, 200, answer.toString(), headers);
}
