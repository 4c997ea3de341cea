import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errorFrame, eventFrame, parseRequestFrame, RejectedFrame, resultFrame } from './envelope.js'

describe('channel envelope', () => {
  it('reads a well-formed request as it is', () => {
    expect(parseRequestFrame('{"id":1,"func":"login","data":{"a":1}}')).toEqual({ id: 1, func: 'login', data: { a: 1 } })
    expect(parseRequestFrame('{"id":"x","func":"logout"}')).toEqual({ id: 'x', func: 'logout' })
  })

  it('never throws on any text, and accepts only objects with a usable id and func', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((value) => JSON.stringify(value))), (text) => {
        const parsed = parseRequestFrame(text)
        if (parsed instanceof RejectedFrame) {
          expect(parsed.error.code).toBe('BAD_REQUEST')
          expect(parsed.id === null || typeof parsed.id === 'string' || typeof parsed.id === 'number').toBe(true)
        } else {
          expect(typeof parsed.func).toBe('string')
          expect(parsed.func.length).toBeGreaterThan(0)
          expect(typeof parsed.id === 'string' || Number.isFinite(parsed.id)).toBe(true)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('keeps the id of a request that names no function, so the client can match the error', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer()), fc.oneof(fc.constant(undefined), fc.integer(), fc.constant(''), fc.constant(null)), (id, func) => {
        const parsed = parseRequestFrame(JSON.stringify({ id, func }))
        expect(parsed).toBeInstanceOf(RejectedFrame)
        expect((parsed as RejectedFrame).id).toBe(id)
      }),
    )
  })

  it('writes replies and events that parse back to the documented shapes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer()), fc.jsonValue(), (id, value) => {
        // JSON cannot carry -0; it comes back as 0.
        const expected = JSON.parse(JSON.stringify(value)) as unknown
        expect(JSON.parse(resultFrame(id, value))).toEqual({ id, result: expected })
        expect(JSON.parse(eventFrame('session', value))).toEqual({ event: 'session', data: expected })
      }),
    )
    expect(JSON.parse(resultFrame(1, undefined))).toEqual({ id: 1, result: null })
    expect(JSON.parse(errorFrame(null, { code: 'BAD_REQUEST', message: 'no' }))).toEqual({ id: null, error: { code: 'BAD_REQUEST', message: 'no' } })
  })
})
