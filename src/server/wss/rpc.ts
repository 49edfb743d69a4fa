/**
 * The JSON-RPC 2.0 layer of the WSS endpoint: parses a frame or HTTP body
 * (`params.data` kept as bytes: request-parse.ts), checks the envelope and
 * the nesting depth, splits batches and dispatches to the method handlers
 * through `json-rpc-2.0`'s `JSONRPCServer`.
 *
 * Glue around the library, and why: it answers bad JSON, bad envelopes and
 * unknown methods with its own texts ("Parse error", "Invalid Request",
 * "Method not found"), while the WSS wire uses the legacy texts of
 * messages.ts; and it answers a batch whose only response is one object with
 * that bare object, where JSON-RPC 2.0 wants an array. So parsing, envelope
 * checks and batching happen here, and the library only maps a valid request
 * to its handler, echoes the id and suppresses responses to notifications.
 */
import {
  createJSONRPCErrorResponse,
  createJSONRPCSuccessResponse,
  JSONRPCServer,
  type JSONRPCID,
  type JSONRPCRequest,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
import { ClusterUnavailableError } from '../../errors.js';
import { isRecord } from '../../protocol/guards.js';
import { WssErrorCodes, WssMethods } from '../../protocol/wss.js';
import { nestsDeeperThan } from '../transport/depth.js';
import { handleConnect } from './connect.js';
import { EncodedJson } from './encoded.js';
import { handleHandshake } from './handshake.js';
import {
  batchTooLargeMessage,
  methodNotFoundMessage,
  tooDeepMessage,
  WSS_ERRORS,
  type WssErrorEntry,
} from './messages.js';
import { frameStart, parseFrame } from './request-parse.js';
import { handleSend } from './send.js';
import { handleSession } from './session.js';
import { failure, type CallContext, type MethodHandler, type Outcome, type WssState } from './state.js';

const METHODS: Readonly<Record<string, MethodHandler>> = {
  [WssMethods.HANDSHAKE]: handleHandshake,
  [WssMethods.CONNECT]: handleConnect,
  [WssMethods.SEND]: handleSend,
  [WssMethods.SESSION]: handleSession,
};

/** The WSS method names (for metrics labels). */
export const WSS_METHOD_NAMES: readonly string[] = Object.keys(METHODS);

/** What a frame or body is answered with: JSON text, JSON in parts (see {@link EncodedJson}), or nothing. */
export type Answer = string | EncodedJson | null;

type Envelope = { readonly request: JSONRPCRequest } | { readonly response: JSONRPCResponse };

const isId = (id: unknown): id is JSONRPCID => typeof id === 'string' || typeof id === 'number' || id === null;

function errorResponse(id: JSONRPCID, error: WssErrorEntry, data?: unknown): JSONRPCResponse {
  return createJSONRPCErrorResponse(id, error.code, error.message, data);
}

/** Checks one request object against JSON-RPC 2.0 and the depth limit; invalid ones get their error response. */
function checkEnvelope(value: unknown, maxDepth: number): Envelope {
  if (!isRecord(value)) return { response: errorResponse(null, WSS_ERRORS.notAnObject) };
  const id = isId(value.id) ? value.id : null;
  const invalid = (error: WssErrorEntry): Envelope => ({ response: errorResponse(id, error) });
  if (value.jsonrpc === undefined) return invalid(WSS_ERRORS.missingJsonrpc);
  if (value.jsonrpc !== '2.0') return invalid(WSS_ERRORS.wrongJsonrpc);
  if (value.method === undefined) return invalid(WSS_ERRORS.missingMethod);
  if (typeof value.method !== 'string' || value.method.trim() === '') return invalid(WSS_ERRORS.badMethod);
  if (value.id !== undefined && !isId(value.id)) return invalid(WSS_ERRORS.badId);
  if (value.params !== undefined && typeof value.params !== 'object') return invalid(WSS_ERRORS.badParams);
  if (value.params === null) return invalid(WSS_ERRORS.badParams);
  if (nestsDeeperThan(value.params, maxDepth)) {
    return invalid({ code: WssErrorCodes.INVALID_PARAMS_ERROR, message: tooDeepMessage(maxDepth) });
  }
  return { request: value as unknown as JSONRPCRequest };
}

/** Serialises a response; a result that is already JSON is spliced in as it is. */
function encode(response: JSONRPCResponse): string | EncodedJson {
  const result: unknown = response.result;
  if (!(result instanceof EncodedJson)) return JSON.stringify(response);
  return new EncodedJson([`{"jsonrpc":"2.0","id":${JSON.stringify(response.id)},"result":`, ...result.parts, '}']);
}

/** Serialises a batch answer (an array), splicing in results that are already JSON. */
function encodeBatch(responses: readonly JSONRPCResponse[]): string | EncodedJson {
  const encoded = responses.map(encode);
  if (encoded.every((item) => typeof item === 'string')) return `[${encoded.join(',')}]`;
  const parts: (string | Buffer)[] = ['['];
  encoded.forEach((item, i) => {
    if (i > 0) parts.push(',');
    if (typeof item === 'string') parts.push(item);
    else parts.push(...item.parts);
  });
  parts.push(']');
  return new EncodedJson(parts);
}

/** Answers WSS JSON-RPC traffic for one endpoint. */
export class WssRpc {
  readonly #server: JSONRPCServer<CallContext>;
  readonly #state: WssState;

  constructor(state: WssState) {
    this.#state = state;
    this.#server = new JSONRPCServer<CallContext>({
      errorListener: (message, data) => state.logger.error(`wss: ${message}`, data),
    });
    this.#server.handleMethodNotFound = async (request) => {
      if (request.id === undefined) return null;
      // The original server's answer for the reserved "rpc:" prefix (JSON-RPC system extensions).
      if (request.method.trim().startsWith('rpc:')) return errorResponse(request.id, WSS_ERRORS.systemExtension);
      return createJSONRPCErrorResponse(
        request.id,
        WssErrorCodes.METHOD_NOT_FOUND_ERROR,
        methodNotFoundMessage(request.method),
      );
    };
    for (const [name, handler] of Object.entries(METHODS)) {
      this.#server.addMethodAdvanced(name, (request, call) => this.#respond(request, handler, call));
    }
  }

  /** Answers one frame or HTTP body (UTF-8): the text to send back, or `null` when nothing is due (notifications only). */
  async handle(bytes: Buffer, call: CallContext): Promise<Answer> {
    const parsed = parseFrame(bytes);
    if (!parsed.ok) {
      this.#state.logger.debug(`wss: unparsable request from ${call.ipKey}: ${frameStart(bytes)}`);
      return JSON.stringify(errorResponse(null, WSS_ERRORS.parse));
    }
    if (!Array.isArray(parsed.value)) {
      const response = await this.#handleOne(parsed.value, call);
      return response === null ? null : encode(response);
    }
    return this.#handleBatch(parsed.value, call);
  }

  async #handleBatch(batch: unknown[], call: CallContext): Promise<Answer> {
    const max = this.#state.options.maxBatch;
    if (batch.length === 0) return JSON.stringify(errorResponse(null, WSS_ERRORS.emptyBatch));
    if (batch.length > max) {
      const message = batchTooLargeMessage(max, batch.length);
      return JSON.stringify(createJSONRPCErrorResponse(null, WssErrorCodes.REQUEST_ERROR, message));
    }
    // One after another: a batch's sends keep their order, and two connects in one batch cannot race.
    const due: JSONRPCResponse[] = [];
    for (const item of batch) {
      const response = await this.#handleOne(item, call);
      if (response !== null) due.push(response);
    }
    return due.length === 0 ? null : encodeBatch(due);
  }

  async #handleOne(value: unknown, call: CallContext): Promise<JSONRPCResponse | null> {
    const envelope = checkEnvelope(value, this.#state.options.maxDepth);
    if ('response' in envelope) {
      this.#state.logger.debug(`wss: invalid request from ${call.ipKey}: ${envelope.response.error?.message}`);
      return envelope.response;
    }
    return this.#server.receive(envelope.request, call);
  }

  async #respond(request: JSONRPCRequest, handler: MethodHandler, call: CallContext): Promise<JSONRPCResponse | null> {
    const started = performance.now();
    const outcome = await this.#run(request, handler, call);
    this.#state.metrics.observeRequest(request.method, outcome.ok, (performance.now() - started) / 1000);
    if (!outcome.ok) {
      this.#state.logger.debug(`wss: ${request.method} from ${call.ipKey} refused: ${outcome.error.message}`);
    }
    if (request.id === undefined) return null;
    return outcome.ok
      ? createJSONRPCSuccessResponse(request.id, outcome.result)
      : errorResponse(request.id, outcome.error, outcome.data);
  }

  async #run(request: JSONRPCRequest, handler: MethodHandler, call: CallContext): Promise<Outcome> {
    try {
      return await handler(request.params, call, this.#state);
    } catch (err) {
      if (err instanceof ClusterUnavailableError) {
        this.#state.logger.info(`wss: ${request.method} from ${call.ipKey} needed the cluster: ${err.message}`);
        return failure(WSS_ERRORS.clusterUnavailable);
      }
      this.#state.logger.error(`wss: ${request.method} failed inside the server`, err);
      return failure(WSS_ERRORS.internal);
    }
  }
}
