import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonEqual } from './json-equal.js'

/** A structurally equal value that shares no objects with the original. */
const copy = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

describe('jsonEqual decides whether a set() changed anything', () => {
  it('is reflexive on arbitrary JSON values, including independent copies', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonEqual(value, value)).toBe(true)
        expect(jsonEqual(value, copy(value))).toBe(true)
      }),
    )
  })

  it('is symmetric on arbitrary pairs of JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        expect(jsonEqual(a, b)).toBe(jsonEqual(b, a))
      }),
    )
  })

  it('tells apart objects that differ in one field, both ways round', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), fc.jsonValue(), (object, key, value) => {
        const changed = { ...copy(object) as object, [key]: value }
        const same = jsonEqual(object[key], value) && Object.hasOwn(object, key)
        expect(jsonEqual(object, changed)).toBe(same)
        expect(jsonEqual(changed, object)).toBe(same)
      }),
    )
  })

  it('treats a key holding undefined like a missing key, as JSON does', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true)
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true)
  })

  it('compares a "__proto__" field as data, never with the prototype', () => {
    const ownProto = JSON.parse('{"__proto__":{}}') as object
    expect(jsonEqual(ownProto, { x: 1 })).toBe(false)
    expect(jsonEqual({ x: 1 }, ownProto)).toBe(false)
    expect(jsonEqual(ownProto, {})).toBe(false)
    expect(jsonEqual(ownProto, JSON.parse('{"__proto__":{}}'))).toBe(true)
  })

  it('compares arrays by order and dates by instant', () => {
    expect(jsonEqual([1, 2], [2, 1])).toBe(false)
    expect(jsonEqual([1, 2], { 0: 1, 1: 2 })).toBe(false)
    expect(jsonEqual({ 0: 1, 1: 2 }, [1, 2])).toBe(false)
    expect(jsonEqual(new Date(5), new Date(5))).toBe(true)
    expect(jsonEqual(new Date(5), new Date(6))).toBe(false)
    expect(jsonEqual(new Date(5), {})).toBe(false)
    expect(jsonEqual({}, new Date(5))).toBe(false)
  })
})
