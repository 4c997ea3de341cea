// Upper bounds of the JSON text (UTF-8 bytes) of values that never change: objects the memory
// store deep-froze. A session's unchanged fields keep their stored objects from one version to
// the next (decision 009), so a write measures only the fields it changed.
const frozenBounds = new WeakMap<object, number>()

// Set while measuring when a value below the current object may still change, so that object's
// bound is not remembered.
let sawMutable = false

/**
 * The size of `data` as JSON text in UTF-8 bytes, when it is more than `limit`; otherwise
 * undefined. Exact when returned. Cheap for sessions well under the limit: an upper bound computed
 * without producing any text decides most writes, and only a session whose bound exceeds the limit
 * is serialised to be measured exactly.
 */
export function sessionBytesOver(data: object, limit: number): number | undefined {
  if (limit === Number.POSITIVE_INFINITY) return undefined
  sawMutable = false
  if (boundOf(data) <= limit) return undefined
  const bytes = Buffer.byteLength(JSON.stringify(data) ?? '', 'utf8')
  return bytes > limit ? bytes : undefined
}

/**
 * At least the UTF-8 length of `JSON.stringify(value)` (for a value JSON can write). A string takes
 * at most 6 bytes per UTF-16 unit (`\u001f`; anything else takes 1 to 3, or 4 per surrogate
 * pair), a number at most 25 characters (`-0.0000010479451560681113`), a Date at most 29.
 * Exported for its tests.
 */
export function jsonBytesUpperBound(value: unknown): number {
  sawMutable = false
  return boundOf(value)
}

function boundOf(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return 6 * value.length + 2
    case 'number':
    case 'bigint':
      return 25
    case 'boolean':
      return 5
    case 'object':
      break
    default:
      // undefined, a function or a symbol: left out of an object, null in an array.
      return 4
  }
  if (value === null) return 4
  const frozen = Object.isFrozen(value)
  if (frozen) {
    const known = frozenBounds.get(value)
    if (known !== undefined) return known
  }
  const outer = sawMutable
  sawMutable = false
  let total: number
  if (Array.isArray(value)) {
    const length = value.length
    total = 2
    for (let i = 0; i < length; i++) total += boundOf(value[i]) + 1
  } else {
    const prototype = Object.getPrototypeOf(value) as unknown
    if ((prototype === Object.prototype || prototype === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function') {
      // for-in, not Object.keys: no array per object on the write path. Inherited enumerable
      // fields (a polluted Object.prototype) are counted too, which only raises the bound.
      total = 2
      for (const key in value) total += 6 * key.length + 4 + boundOf((value as Record<string, unknown>)[key])
    } else if (value instanceof Date) {
      // A Date's time can change even when the object is frozen; its text never grows past 29.
      total = 32
    } else {
      // Anything else (a class instance, a Map, a toJSON method) is measured as JSON writes it, and never
      // remembered: its content may change however frozen the object is.
      total = Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8')
      sawMutable = true
    }
  }
  const remembered = frozen && !sawMutable
  if (remembered) frozenBounds.set(value, total)
  sawMutable = outer || !remembered
  return total
}
