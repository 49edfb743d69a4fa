import { KeyFormatError } from '../errors.js';
import { kindOf } from './bytes.js';

/** What a CryptoKey must be for an operation; checked before WebCrypto sees it. */
export interface KeyRequirement {
  type: KeyType;
  algorithm: string;
  /** Omitted for public ECDH keys, which carry no usages. */
  usage?: KeyUsage;
  namedCurve?: string;
}

/** E.g. `'private ECDH P-256 key'`. */
const describe = (type: unknown, algorithm = '?', curve?: string): string =>
  `${String(type)} ${algorithm}${curve ? ` ${curve}` : ''} key`;

/**
 * Throws a KeyFormatError naming the mismatch unless `key` is a CryptoKey of the
 * required type, algorithm, curve and usage. WebCrypto would reject these too,
 * but with messages that do not say which argument was wrong.
 */
export function assertKey(key: unknown, what: string, need: KeyRequirement): asserts key is CryptoKey {
  const k = key as Partial<CryptoKey> | null;
  const algorithm = k?.algorithm as { name?: string; namedCurve?: string } | null | undefined;
  if (
    typeof k !== 'object' ||
    !k ||
    typeof k.type !== 'string' ||
    typeof algorithm !== 'object' ||
    !algorithm ||
    !Array.isArray(k.usages)
  ) {
    throw new KeyFormatError(`${what} must be a CryptoKey, got ${kindOf(key)}`);
  }
  if (
    k.type !== need.type ||
    algorithm.name !== need.algorithm ||
    (need.namedCurve && algorithm.namedCurve !== need.namedCurve)
  ) {
    throw new KeyFormatError(
      `${what} must be a ${describe(need.type, need.algorithm, need.namedCurve)}, got a ${describe(k.type, algorithm.name, algorithm.namedCurve)}`,
    );
  }
  if (need.usage && !k.usages.includes(need.usage)) {
    throw new KeyFormatError(
      `${what} lacks the '${need.usage}' usage (it has [${k.usages.join(', ')}]); create it with that usage`,
    );
  }
}
