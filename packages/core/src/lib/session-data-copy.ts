import { BadRequestError } from './errors.js'

/**
 * A deep copy of session data: plain objects, arrays, primitives and Dates (what a session may
 * hold). Used wherever a copy must share nothing with the original, without the cost of a JSON
 * round trip or structuredClone on the hot path.
 */
export function copySessionData<T>(value: T): T {
  return copyValue(value) as T
}

/**
 * `copySessionData` for a value entering the session (`set()`): refuses, with `BadRequestError`,
 * a field named `__proto__`, `constructor` or `prototype` at any depth. `where` names the call in
 * the message.
 */
export function copySessionInput<T>(value: T, where: string): T {
  try {
    return copyCheckedValue(value) as T
  } catch (error) {
    if (error !== FORBIDDEN_KEY) throw error
    // Class instances are walked by their own fields, as they were cloned: the walk finds it.
    throw forbiddenKeyError(findForbiddenKey(value, '') ?? { key: '?', path: '?' }, where)
  }
}

/**
 * Refuses a value holding a field named `__proto__`, `constructor` or `prototype` at any depth,
 * with `BadRequestError` (nothing is changed). `where` names the call in the message.
 */
export function assertNoForbiddenKeys(value: unknown, where: string): void {
  if (holdsForbiddenKey(value)) throw forbiddenKeyError(findForbiddenKey(value, '') ?? { key: '?', path: '?' }, where)
}

/**
 * Field names that never enter session data. An own `__proto__` (which JSON.parse makes) becomes
 * an object's prototype as soon as the app copies the session with `Object.assign` or a spread
 * into an existing object; `constructor` and `prototype` are the other two steps of prototype
 * pollution gadgets. No session needs them as data.
 */
function isForbiddenKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype'
}

// Thrown inside the copy (no allocation, no path building on the common path); the path for the
// message is found afterwards by a second walk, only when a key is refused.
const FORBIDDEN_KEY: unique symbol = Symbol('pikku.session.forbiddenKey')

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
      setField(copy, key, field)
    }
    return copy
  }
  return copyOther(value)
}

/**
 * `copyValue` that also refuses forbidden field names. A second function rather than a flag:
 * `copyValue` is on the read path of every request (`get()`), and stays exactly as cheap.
 */
function copyCheckedValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw notData()
    return value
  }
  if (Array.isArray(value)) return value.map(copyCheckedValue)
  const prototype = Object.getPrototypeOf(value) as unknown
  if (prototype === Object.prototype || prototype === null) {
    const copy: Record<string, unknown> = {}
    for (const key of Object.keys(value)) {
      if (isForbiddenKey(key)) throw FORBIDDEN_KEY
      setField(copy, key, copyCheckedValue((value as Record<string, unknown>)[key]))
    }
    return copy
  }
  // A class instance clones to a plain object of its own fields, which are stored as data too.
  if (holdsForbiddenKey(value)) throw FORBIDDEN_KEY
  return copyOther(value)
}

/** A Date, or anything structuredClone copies (a class instance becomes a plain object). */
function copyOther(value: object): unknown {
  if (value instanceof Date) return new Date(value.getTime())
  try {
    return structuredClone(value)
  } catch (error) {
    throw notData(error)
  }
}

/** Whether a forbidden field name appears at any depth (no allocation: the write path runs it). */
function holdsForbiddenKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (holdsForbiddenKey(value[i])) return true
    return false
  }
  // for-in, not Object.keys: no array per object. An own `__proto__` field is enumerated like any
  // other; inherited fields (only a polluted Object.prototype has enumerable ones) may be checked too.
  for (const key in value) {
    if (isForbiddenKey(key) || holdsForbiddenKey((value as Record<string, unknown>)[key])) return true
  }
  return false
}

interface ForbiddenKey {
  readonly key: string
  /** Where it is: `preferences.__proto__`, `items[2].constructor`. */
  readonly path: string
}

function findForbiddenKey(value: unknown, path: string): ForbiddenKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${path}[${i}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    const at = path === '' ? key : `${path}.${key}`
    if (isForbiddenKey(key)) return { key, path: at }
    const found = findForbiddenKey((value as Record<string, unknown>)[key], at)
    if (found !== undefined) return found
  }
  return undefined
}

function forbiddenKeyError(found: ForbiddenKey, where: string): BadRequestError {
  return new BadRequestError(
    `${where} refused the session data: it holds a field named ${JSON.stringify(found.key)} (at ${found.path}); ` +
      'fields named __proto__, constructor or prototype are never stored in a session',
  )
}

/**
 * Sets an own data field. A field named "__proto__" (JSON.parse makes them) stays data: plain
 * assignment would change the object's prototype instead.
 */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

function notData(cause?: unknown): TypeError {
  return new TypeError('A session holds plain data (what JSON can carry, and Dates); functions and class instances cannot be stored', {
    cause,
  })
}

/** Below this depth no cycle can be hidden cheaply; deeper, ancestors are tracked to report one. */
const UNTRACKED_DEPTH = 64

/**
 * Exactly `JSON.parse(JSON.stringify(value))`, without producing the text: what a store that
 * serialises sessions to JSON gives back. `toJSON` (Dates) is honoured, `undefined`, functions and
 * symbols are dropped (null in arrays), NaN and Infinity become null, boxed primitives are
 * unwrapped, other objects keep their own enumerable fields, and a BigInt or a cycle throws the
 * `TypeError` JSON.stringify throws. With `freeze`, every object and array of the result is
 * frozen, so readers can share it without a copy of their own.
 */
export function jsonCopy<T>(value: T, freeze: boolean): T {
  const result = jsonCopyValue(value, '', freeze, 0, undefined)
  if (result === OMIT) {
    throw new TypeError(`A session must be a JSON object; got ${typeof value}`)
  }
  return result as T
}

const OMIT: unique symbol = Symbol('omit')

/**
 * `jsonCopy(data, true)` for a new version of a session whose previous version `previous` was
 * made by this function or `jsonCopy(…, true)` (so every object in it is frozen and normalised): a
 * top-level field that still holds the very object `previous` holds under the same name is kept
 * as it is, so an update copies only the fields it changed, however large the rest of the session.
 */
export function jsonCopyFrozenReusing<T extends object>(data: T, previous: object): T {
  const record = data as Record<string, unknown>
  // Whole-value conversions (a toJSON on the session itself, a non-plain object) take the full path.
  if (typeof record['toJSON'] === 'function' || Array.isArray(data) || Object.getPrototypeOf(data) !== Object.prototype) {
    return jsonCopy(data, true)
  }
  const kept = previous as Record<string, unknown>
  const copy: Record<string, unknown> = {}
  for (const field of Object.keys(record)) {
    const value = record[field]
    if (typeof value === 'object' && value !== null && value === kept[field] && Object.hasOwn(kept, field)) {
      setField(copy, field, value)
      continue
    }
    const element = jsonCopyValue(value, field, true, 1, undefined)
    if (element !== OMIT) setField(copy, field, element)
  }
  return Object.freeze(copy) as T
}

function jsonCopyValue(input: unknown, key: string | number, freeze: boolean, depth: number, ancestors: Set<object> | undefined): unknown {
  let value = input
  if (typeof value === 'object' && value !== null) {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      value = (value as { toJSON(key: string): unknown }).toJSON(String(key))
    }
    // Boxed primitives are written as their primitive value.
    if (value instanceof Number) value = Number(value)
    else if (value instanceof String) value = String(value)
    else if (value instanceof Boolean) value = value.valueOf()
    else if (typeof BigInt === 'function' && value instanceof BigInt) value = value.valueOf()
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      // NaN and ±Infinity are written as null, -0 as 0.
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null
    case 'undefined':
    case 'function':
    case 'symbol':
      return OMIT
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt')
    default:
      break
  }
  if (value === null) return null
  const object = value as object
  let seen = ancestors
  if (depth >= UNTRACKED_DEPTH) {
    seen ??= new Set()
    if (seen.has(object)) throw new TypeError('Converting circular structure to JSON')
    seen.add(object)
  }
  let result: unknown[] | Record<string, unknown>
  if (Array.isArray(object)) {
    const length = object.length
    const copy: unknown[] = new Array(length)
    for (let i = 0; i < length; i++) {
      const element = jsonCopyValue(object[i], i, freeze, depth + 1, seen)
      copy[i] = element === OMIT ? null : element
    }
    result = copy
  } else {
    const copy: Record<string, unknown> = {}
    const record = object as Record<string, unknown>
    for (const field of Object.keys(record)) {
      const element = jsonCopyValue(record[field], field, freeze, depth + 1, seen)
      if (element === OMIT) continue
      setField(copy, field, element)
    }
    result = copy
  }
  seen?.delete(object)
  return freeze ? Object.freeze(result) : result
}
