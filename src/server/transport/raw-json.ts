/**
 * A JSON value kept as the bytes a client sent, checked but never parsed into
 * objects. The WSS endpoint relays `WSS_Send` data this way: a large value
 * parsed by `JSON.parse` is built straight into V8's old generation (the parser
 * does so for any text of 100 KiB or more), where it stays until a full
 * collection however soon it is dropped, so relaying large messages at speed
 * grew the heap by tens of megabytes. As bytes, a value costs one buffer that
 * goes to every recipient as it is.
 */
export class RawJson {
  /**
   * @param bytes one valid JSON value (UTF-8), exactly as received.
   * @param levels how deep it nests: `0` for a string, number or literal, `1`
   *   for an object or array of those, and so on (see `nestsDeeperThan`).
   */
  constructor(
    readonly bytes: Buffer,
    readonly levels: number,
  ) {}

  /** The value itself, parsed (for `JSON.stringify` and anyone who needs it; this parses every time). */
  toJSON(): unknown {
    return JSON.parse(this.bytes.toString('utf8'));
  }
}
