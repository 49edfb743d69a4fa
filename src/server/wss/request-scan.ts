/**
 * One pass over a WSS frame's bytes: whether they are one JSON text, exactly
 * as `JSON.parse` decides (RFC 8259; the bytes are valid UTF-8 already), and
 * where the `params.data` value of each request lies, so that request-parse.ts
 * can parse the rest and keep `data` as bytes ({@link RawJson}).
 *
 * Iterative (a frame nested 100,000 deep costs a byte per level, never the
 * stack), and where JSON.parse keeps the last of duplicate members, so does
 * this: the span is that of the last `data` member of the last `params` member.
 */

/** Where one request's `params.data` value lies in the frame. */
export interface DataSpan {
  /** Offset of its first byte. */
  readonly start: number;
  /** Offset just past its last byte. */
  readonly end: number;
  /** How deep it nests (see `RawJson.levels`). */
  readonly levels: number;
}

/** What {@link scanRequests} found in a valid frame. */
export interface RequestScan {
  /** The frame is an array (a batch). */
  readonly batch: boolean;
  /** `data[0]` for a single request, `data[i]` for element `i` of a batch: its `params.data`, or `null`. */
  readonly data: (DataSpan | null)[];
}

const OBJECT = 0;
const ARRAY = 1;

/** What the value about to be scanned is to the protocol. */
const NONE = 0;
const REQUEST = 1;
const PARAMS = 2;
const DATA = 3;

/** Bytes that end the plain run of a string: `"`, `\` and the control characters. */
const STRING_STOP = new Uint8Array(256);
for (let c = 0; c < 0x20; c++) STRING_STOP[c] = 1;
STRING_STOP[0x22] = 1;
STRING_STOP[0x5c] = 1;

/** Characters allowed after a backslash, but `u`. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;

/** `true`, `false` and `null` by their first byte. */
const LITERALS: ReadonlyMap<number, Buffer> = new Map(
  ['true', 'false', 'null'].map((w) => [w.charCodeAt(0), Buffer.from(w)]),
);

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/**
 * Scans one frame. `null` when it is not one JSON text (what `JSON.parse`
 * would throw on); otherwise where each request's `params.data` lies.
 */
export function scanRequests(bytes: Buffer): RequestScan | null {
  const scanner = new Scanner(bytes);
  return scanner.run() ? { batch: scanner.batch, data: scanner.spans } : null;
}

class Scanner {
  readonly #b: Buffer;
  readonly #n: number;
  #i = 0;
  #stack = new Uint8Array(64);
  #depth = 0;
  /** Role of the next value. */
  #role = REQUEST;
  /** Depth of the open request object's members (1, or 2 in a batch); 0 while none is open. */
  #requestLevel = 0;
  #paramsOpen = false;
  #dataStart = -1;
  #peak = 0;
  /** The last `data` of the open params object. */
  #paramsData: DataSpan | null = null;
  /** The `data` of the last params object of the open request. */
  #requestData: DataSpan | null = null;
  batch = false;
  readonly spans: (DataSpan | null)[] = [];

  constructor(bytes: Buffer) {
    this.#b = bytes;
    this.#n = bytes.length;
  }

  run(): boolean {
    this.#skipSpace();
    for (let next = this.#value(); next !== -1; ) {
      if (next === 1) {
        this.#skipSpace();
        next = this.#value();
        continue;
      }
      this.#ended();
      this.#skipSpace();
      if (this.#depth === 0) return this.#i === this.#n;
      next = this.#afterMember();
    }
    return false;
  }

  /** Scans a scalar, or opens a container. 1: a value follows; 0: a value ended; -1: invalid. */
  #value(): number {
    const c = this.#b[this.#i];
    this.#starting(c);
    if (c === 0x7b) return this.#open(OBJECT, 0x7d);
    if (c === 0x5b) return this.#open(ARRAY, 0x5d);
    let ok: boolean;
    if (c === 0x22) ok = this.#string();
    else if (c === 0x2d || isDigit(c)) ok = this.#number();
    else ok = this.#literal(c);
    return ok ? 0 : -1;
  }

  /** After a value inside a container: `,` then the next member, or the container's end. */
  #afterMember(): number {
    const c = this.#b[this.#i];
    const object = this.#stack[this.#depth - 1] === OBJECT;
    if (c === 0x2c) {
      this.#i++;
      if (!object) {
        this.#role = this.#depth === 1 && this.batch ? REQUEST : NONE;
        return 1;
      }
      this.#skipSpace();
      return this.#key() ? 1 : -1;
    }
    if (c !== (object ? 0x7d : 0x5d)) return -1;
    this.#i++;
    this.#depth--;
    return 0;
  }

  #open(kind: number, close: number): number {
    this.#i++;
    if (this.#depth === this.#stack.length) {
      const grown = new Uint8Array(this.#stack.length * 2);
      grown.set(this.#stack);
      this.#stack = grown;
    }
    this.#stack[this.#depth++] = kind;
    if (this.#depth > this.#peak) this.#peak = this.#depth;
    this.#skipSpace();
    if (this.#b[this.#i] === close) {
      this.#i++;
      this.#depth--;
      return 0;
    }
    if (kind === ARRAY) {
      this.#role = this.#depth === 1 && this.batch ? REQUEST : NONE;
      return 1;
    }
    return this.#key() ? 1 : -1;
  }

  /** A value is about to start at `#i` (its first byte `c`): note what it is to the protocol. */
  #starting(c: number | undefined): void {
    const role = this.#role;
    this.#role = NONE;
    if (role === NONE) return;
    if (role === DATA) {
      this.#dataStart = this.#i;
      this.#peak = this.#depth;
    } else if (role === PARAMS) {
      this.#requestData = null;
      this.#paramsOpen = c === 0x7b;
    } else if (this.#depth === 0 && c === 0x5b) {
      this.batch = true;
    } else {
      this.spans.push(null);
      if (c === 0x7b) this.#requestLevel = this.#depth + 1;
    }
  }

  /** A value just ended at `#i`, leaving the depth at `#depth`: close what it was to the protocol. */
  #ended(): void {
    const level = this.#requestLevel;
    if (level === 0 || this.#depth > level + 1) return;
    if (this.#depth === level + 1) {
      if (this.#dataStart === -1) return;
      this.#paramsData = { start: this.#dataStart, end: this.#i, levels: this.#peak - this.#depth };
      this.#dataStart = -1;
    } else if (this.#depth === level) {
      if (!this.#paramsOpen) return;
      this.#requestData = this.#paramsData;
      this.#paramsData = null;
      this.#paramsOpen = false;
    } else {
      this.spans[this.spans.length - 1] = this.#requestData;
      this.#requestData = null;
      this.#requestLevel = 0;
    }
  }

  /** A member name, then `:`; sets the role of the value that follows. */
  #key(): boolean {
    if (this.#b[this.#i] !== 0x22) return false;
    const start = this.#i + 1;
    if (!this.#string()) return false;
    const end = this.#i - 1;
    this.#skipSpace();
    if (this.#b[this.#i] !== 0x3a) return false;
    this.#i++;
    const level = this.#requestLevel;
    if (level !== 0 && this.#depth === level) this.#role = this.#named(start, end, 'params') ? PARAMS : NONE;
    else if (this.#paramsOpen && this.#depth === level + 1) this.#role = this.#named(start, end, 'data') ? DATA : NONE;
    else this.#role = NONE;
    return true;
  }

  /** Whether the member name at `start..end` (between its quotes) is `name`, escapes decoded. */
  #named(start: number, end: number, name: string): boolean {
    const b = this.#b;
    for (let k = start; k < end; k++) {
      if (b[k] === 0x5c) return JSON.parse(b.toString('utf8', start - 1, end + 1)) === name;
    }
    if (end - start !== name.length) return false;
    for (let k = 0; k < name.length; k++) if (b[start + k] !== name.charCodeAt(k)) return false;
    return true;
  }

  /** A string, from its opening quote at `#i`. */
  #string(): boolean {
    const b = this.#b;
    const n = this.#n;
    let i = this.#i + 1;
    for (;;) {
      while (i < n && STRING_STOP[b[i] as number] === 0) i++;
      if (i >= n) return false;
      const c = b[i];
      if (c === 0x22) break;
      if (c !== 0x5c) return false;
      const escaped = b[i + 1];
      if (escaped === 0x75) {
        if (i + 5 >= n || !HEX[b[i + 2] as number] || !HEX[b[i + 3] as number]) return false;
        if (!HEX[b[i + 4] as number] || !HEX[b[i + 5] as number]) return false;
        i += 6;
      } else if (escaped !== undefined && SIMPLE_ESCAPE[escaped]) i += 2;
      else return false;
    }
    this.#i = i + 1;
    return true;
  }

  /** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` */
  #number(): boolean {
    const b = this.#b;
    let i = this.#i;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else return false;
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) return false;
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!isDigit(b[i])) return false;
      while (isDigit(b[i])) i++;
    }
    this.#i = i;
    return true;
  }

  #literal(c: number | undefined): boolean {
    const word = c === undefined ? undefined : LITERALS.get(c);
    if (word === undefined || this.#i + word.length > this.#n) return false;
    for (let k = 1; k < word.length; k++) if (this.#b[this.#i + k] !== word[k]) return false;
    this.#i += word.length;
    return true;
  }

  #skipSpace(): void {
    const b = this.#b;
    let i = this.#i;
    for (let c = b[i]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = b[i]) i++;
    this.#i = i;
  }
}
