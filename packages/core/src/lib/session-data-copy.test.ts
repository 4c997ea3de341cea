import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonCopy, jsonCopyFrozenReusing } from './session-data-copy.js'

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown

/**
 * Identical JSON values: same primitives (Object.is, so -0 differs from 0), same prototypes, same
 * keys in the same order. (toStrictEqual is confused by an own field named "constructor".)
 */
function identical(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b)
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  const aKeys = Object.keys(a)
  const bKeys = Object.keys(b)
  if (aKeys.length !== bKeys.length) return false
  return aKeys.every((key, index) => key === bKeys[index] && identical((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
}

function isDeeplyFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen)
}

/** Values of every shape a session might carry, including the ones JSON rewrites or drops. */
// Sanity of the comparison itself.
if (identical({ a: 0 }, { a: -0 }) || identical({ a: 1, b: 2 }, { b: 2, a: 1 }) || !identical([1, { x: null }], [1, { x: null }])) {
  throw new Error('identical() is broken')
}

const awkward = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double(),
    fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, true, false, null, undefined),
    fc.date({ noInvalidDate: false }),
    fc.constantFrom(() => 1, Symbol('s')),
    fc.oneof(fc.integer(), fc.string(), fc.boolean()).map((primitive) => Object(primitive) as object),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'toString', 'constructor')), tie('value'), { maxKeys: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 3, noNullPrototype: false }),
    fc.constant(new Map([['a', 1]])),
    fc.constant({ toJSON: (key: string) => `toJSON called with ${JSON.stringify(key)}` }),
  ),
})).value

describe('jsonCopy: a JSON round trip without the text', () => {
  it('gives exactly what JSON.parse(JSON.stringify(value)) gives, for any object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), awkward, { maxKeys: 6 }), (value) => {
        expect(identical(jsonCopy(value, false), roundTrip(value))).toBe(true)
        expect(identical(jsonCopy(value, true), roundTrip(value))).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('with freeze, every object and array of the result is frozen; the input is untouched', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), awkward, { maxKeys: 6 }), (value) => {
        const before = roundTrip(value)
        const copy = jsonCopy(value, true)
        expect(isDeeplyFrozen(copy)).toBe(true)
        expect(identical(roundTrip(value), before)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('shares nothing with its input', () => {
    const input = { userId: 'u', nested: { list: [{ deep: 1 }] } }
    const copy = jsonCopy(input, false)
    copy.nested.list[0]!.deep = 2
    expect(input.nested.list[0]!.deep).toBe(1)
  })

  it("keeps an own '__proto__' field as data, as JSON.parse does", () => {
    const input = JSON.parse('{"userId":"u","__proto__":{"polluted":true}}') as Record<string, unknown>
    const copy = jsonCopy(input, true) as Record<string, unknown>
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.hasOwn(copy, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  })

  it('throws the TypeError JSON.stringify throws for a cycle (however deep) or a BigInt', () => {
    const cyclic: Record<string, unknown> = { userId: 'u' }
    cyclic['self'] = cyclic
    expect(() => jsonCopy(cyclic, false)).toThrow(TypeError)
    let deep: Record<string, unknown> = { userId: 'u' }
    const root = deep
    for (let i = 0; i < 500; i++) deep = (deep['next'] = {}) as Record<string, unknown>
    deep['back'] = root
    expect(() => jsonCopy(root, true)).toThrow(/circular/)
    expect(() => jsonCopy({ userId: 'u', big: 10n }, false)).toThrow(TypeError)
  })

  it('copies nesting far deeper than any session needs', () => {
    let value: Record<string, unknown> = { leaf: true }
    for (let i = 0; i < 2_000; i++) value = { child: value }
    expect(identical(jsonCopy(value, true), roundTrip(value))).toBe(true)
  })

  it('refuses a top-level value JSON cannot carry', () => {
    expect(() => jsonCopy(undefined, false)).toThrow(TypeError)
    expect(() => jsonCopy(() => 1, false)).toThrow(TypeError)
  })
})

describe('jsonCopyFrozenReusing: the next version of a stored session, copying only what changed', () => {
  it('gives exactly what JSON gives, deeply frozen, whatever mix of kept and new fields', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), awkward, { maxKeys: 6 }),
        fc.dictionary(fc.string(), awkward, { maxKeys: 4 }),
        fc.array(fc.string(), { maxLength: 6 }),
        (previousInput, changes, keptKeys) => {
          const previous = jsonCopy(previousInput, true) as Record<string, unknown>
          // The next version: some fields carried over (the very objects stored), some changed.
          const next: Record<string, unknown> = {}
          for (const key of keptKeys) if (Object.hasOwn(previous, key)) Object.defineProperty(next, key, { value: previous[key], enumerable: true, writable: true, configurable: true })
          for (const key of Object.keys(changes)) Object.defineProperty(next, key, { value: changes[key], enumerable: true, writable: true, configurable: true })
          const copy = jsonCopyFrozenReusing(next, previous)
          expect(identical(copy, roundTrip(next))).toBe(true)
          expect(isDeeplyFrozen(copy)).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('keeps the stored object of an unchanged field and copies a changed one', () => {
    const previous = jsonCopy({ userId: 'u', big: { list: [1, 2, 3] }, prefs: { theme: 'light' } }, true)
    const prefs = { theme: 'dark' }
    const copy = jsonCopyFrozenReusing({ ...previous, prefs }, previous)
    expect(copy.big).toBe(previous.big)
    expect(copy.prefs).not.toBe(prefs)
    expect(copy.prefs).toEqual({ theme: 'dark' })
    prefs.theme = 'changed later'
    expect(copy.prefs.theme).toBe('dark')
  })

  it('copies an object that is only equal to, not the same as, the stored one, and one moved to another field', () => {
    const previous = jsonCopy({ userId: 'u', a: { x: 1 }, b: { y: 2 } }, true)
    const lookalike = { x: 1 }
    const copy = jsonCopyFrozenReusing({ userId: 'u', a: lookalike, b: previous.a } as Record<string, unknown>, previous) as Record<string, unknown>
    expect(copy['a']).not.toBe(lookalike)
    expect(copy['b']).not.toBe(previous.a)
    expect(copy['b']).toEqual({ x: 1 })
    expect(Object.isFrozen(copy['a'])).toBe(true)
  })

  it('takes the full path for a session with its own toJSON', () => {
    const previous = jsonCopy({ userId: 'u' }, true)
    const odd = { userId: 'u', toJSON: () => ({ userId: 'u', via: 'toJSON' }) }
    expect(jsonCopyFrozenReusing(odd, previous)).toEqual({ userId: 'u', via: 'toJSON' })
  })
})
