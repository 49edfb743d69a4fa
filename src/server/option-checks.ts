/**
 * The checks the server's option groups share (the server's own options,
 * `signal` and `cluster`), so that every bad option is refused with one
 * message shape: `Server option '<group><name>' must be <expected>; got <value>`.
 */
import { InvalidArgumentError } from '../errors.js';

/** How a group shows the bad value at the end of its messages. */
export interface ShownValue {
  /** Characters of a string value shown (JSON-quoted). Default: all. */
  readonly maxChars?: number;
  /** Show an object (or `null`) as its type, `object`, rather than as `String(value)`. Default: false. */
  readonly objectsAsType?: boolean;
}

/** The validators of one option group; each throws {@link InvalidArgumentError} naming the option. */
export class OptionChecks {
  readonly #group: string;
  readonly #maxChars: number;
  readonly #objectsAsType: boolean;

  /** @param group prefix of every option name in the messages, such as `'signal.'` (`''` for the server's own). */
  constructor(group: string, shown: ShownValue = {}) {
    this.#group = group;
    this.#maxChars = shown.maxChars ?? Number.POSITIVE_INFINITY;
    this.#objectsAsType = shown.objectsAsType ?? false;
  }

  /** @throws InvalidArgumentError saying what option `name` must be and what it was. */
  fail(name: string, expected: string, value: unknown): never {
    throw new InvalidArgumentError(
      `Server option '${this.#group}${name}' must be ${expected}; got ${this.#show(value)}`,
    );
  }

  /** `value`, when it is an integer from `min` to `max`. */
  int(name: string, value: unknown, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      this.fail(name, `an integer from ${min} to ${max}`, value);
    return value;
  }

  /** `value`, when it is `true` or `false`. */
  bool(name: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(name, 'true or false', value);
    return value;
  }

  /** Refuses the first member of `options` not in `known`, listing the known ones. */
  onlyKnown(options: object, known: ReadonlySet<string>): void {
    for (const key of Object.keys(options))
      if (!known.has(key)) this.fail(key, `one of ${[...known].join(', ')} (unknown option)`, key);
  }

  #show(value: unknown): string {
    if (typeof value === 'string') return JSON.stringify(value.slice(0, this.#maxChars));
    if (this.#objectsAsType && typeof value === 'object') return typeof value;
    return String(value);
  }
}
