const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Whether a string can be a stored id or user id. A lone surrogate would be written as U+FFFD (so
 * two different ids would collide) and a NUL is refused by some drivers; neither can come from
 * core's token hashes, so such ids are simply "not found" instead of an error.
 */
export function isStorableKey(value: string): boolean {
  return typeof value === 'string' && !value.includes('\0') && !LONE_SURROGATE.test(value)
}
