/** Small runtime type guards shared by every validator. */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string. */
export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** An array whose every element is a non-empty string. */
export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isNonEmptyString);
}

/** Own-property check that ignores the prototype chain (`__proto__` and friends). */
export function hasOwn(obj: object, key: string): boolean {
  return Object.hasOwn(obj, key);
}

/** The start of a frame for error messages and logs. */
export function snippet(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
