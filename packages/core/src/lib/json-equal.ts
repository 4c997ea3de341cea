/**
 * Structural equality for JSON-like values. Used to decide whether a `set()` changed anything, so
 * that re-setting an equal session causes no store write.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // NaN is the one JSON-ish value that is not equal to itself.
    return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b)
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime()
  }
  const aRecord = a as Record<string, unknown>
  const bRecord = b as Record<string, unknown>
  let aCount = 0
  for (const key in aRecord) {
    if (!Object.hasOwn(aRecord, key) || aRecord[key] === undefined) continue
    aCount++
    if (!jsonEqual(aRecord[key], ownField(bRecord, key))) return false
  }
  let bCount = 0
  for (const key in bRecord) {
    if (Object.hasOwn(bRecord, key) && bRecord[key] !== undefined) bCount++
  }
  return aCount === bCount
}

/**
 * `record[key]` for a field of JSON data: a field named "__proto__" is read only when it is the
 * record's own (JSON.parse makes such fields), never the prototype. Other inherited members are
 * functions, which equal no data.
 */
export function ownField(record: Record<string, unknown>, key: string): unknown {
  if (key === '__proto__') return Object.hasOwn(record, key) ? record[key] : undefined
  return record[key]
}
