import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonCopy } from './session-data-copy.js'

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
