/**
 * A deep copy of session data: plain objects, arrays, primitives and Dates (what a session may
 * hold). Used wherever a copy must share nothing with the original, without the cost of a JSON
 * round trip or structuredClone on the hot path.
 */
export function copySessionData<T>(value: T): T {
  return copyValue(value) as T
}

function copyValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw notData()
    return value
  }
  if (Array.isArray(value)) return value.map(copyValue)
  const prototype = Object.getPrototypeOf(value) as unknown
  if (prototype === Object.prototype || prototype === null) {
    const copy: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      const field = copyValue((value as Record<string, unknown>)[key])
      // An own "__proto__" key (JSON.parse makes them) must stay data, not become the prototype.
      if (key === '__proto__') Object.defineProperty(copy, key, { value: field, enumerable: true, writable: true, configurable: true })
      else copy[key] = field
    }
    return copy
  }
  if (value instanceof Date) return new Date(value.getTime())
  try {
    return structuredClone(value)
  } catch (error) {
    throw notData(error)
  }
}

function notData(cause?: unknown): TypeError {
  return new TypeError('A session holds plain data (what JSON can carry, and Dates); functions and class instances cannot be stored', {
    cause,
  })
}

