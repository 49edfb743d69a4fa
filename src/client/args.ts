import { InvalidArgumentError } from '../errors.js';

/** Checks an argument that must be a non-empty string (a private ID, a raw request's method). */
export function checkNonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new InvalidArgumentError(`'${name}' must be a non-empty string, got ${describe(value)}`);
  return value;
}

/** Checks a list of private IDs; a single string is a list of one. */
export function checkRecipients(name: string, value: unknown, allowEmpty: boolean): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || (!allowEmpty && list.length === 0)) {
    throw new InvalidArgumentError(
      `'${name}' must be a private ID or a${allowEmpty ? 'n' : ' non-empty'} array of them, got ${describe(value)}`,
    );
  }
  for (const [i, id] of list.entries()) checkNonEmpty(`${name}[${i}]`, id);
  return list as string[];
}

/** A bad value, briefly, for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}
