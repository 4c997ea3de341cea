const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Whether a string can serve as a stored session id or user id in a database-backed store. A lone
 * surrogate would be written as U+FFFD (so two different ids could collide) and some drivers refuse
 * a NUL; neither can come from core's token hashes, so stores treat such ids as "not found" rather
 * than failing.
 */
export function isStorableKey(value: string): boolean {
  return typeof value === 'string' && !value.includes('\0') && !LONE_SURROGATE.test(value)
}
