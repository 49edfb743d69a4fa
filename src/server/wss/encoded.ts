/**
 * A result that is already JSON, as text and byte parts: the JSON-RPC layer
 * writes it into the response as it is. Used for the `WSS_Connect` result,
 * whose peer list is cached as bytes (see peer-cache.ts).
 */
export class EncodedJson {
  constructor(readonly parts: readonly (string | Buffer)[]) {}

  /** The JSON as one string (for hooks and tests; this copies). */
  toString(): string {
    return this.parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
  }
}
