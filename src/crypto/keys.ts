import { KeyFormatError } from '../errors.js';

/** What a CryptoKey must be for an operation; checked before WebCrypto sees it. */
export interface KeyRequirement {
  type: KeyType;
  algorithm: string;
  /** Omitted for public ECDH keys, which carry no usages. */
  usage?: KeyUsage;
  namedCurve?: string;
}

function isCryptoKeyLike(value: unknown): value is CryptoKey {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Partial<CryptoKey>;
  return typeof key.type === 'string' && typeof key.algorithm === 'object' && key.algorithm !== null && Array.isArray(key.usages);
}

/**
 * Throws a KeyFormatError naming the mismatch unless `key` is a CryptoKey of the
 * required type, algorithm, curve and usage. WebCrypto would reject these too,
 * but with messages that do not say which argument was wrong.
 */
export function assertKey(key: unknown, what: string, need: KeyRequirement): asserts key is CryptoKey {
  if (!isCryptoKeyLike(key)) {
    throw new KeyFormatError(`${what} must be a CryptoKey, got ${key === null ? 'null' : typeof key}`);
  }
  const algorithm = key.algorithm as { name?: string; namedCurve?: string };
  const describe = `${key.type} ${algorithm.name ?? '?'}${algorithm.namedCurve ? ` ${algorithm.namedCurve}` : ''} key`;
  const wanted = `${need.type} ${need.algorithm}${need.namedCurve ? ` ${need.namedCurve}` : ''} key`;
  if (key.type !== need.type || algorithm.name !== need.algorithm || (need.namedCurve !== undefined && algorithm.namedCurve !== need.namedCurve)) {
    throw new KeyFormatError(`${what} must be a ${wanted}, got a ${describe}`);
  }
  if (need.usage !== undefined && !key.usages.includes(need.usage)) {
    throw new KeyFormatError(`${what} lacks the '${need.usage}' usage (it has [${key.usages.join(', ')}]); create it with that usage`);
  }
}
