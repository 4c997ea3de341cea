import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { jsonCopy } from './session-data-copy.js'
import { jsonBytesUpperBound, sessionBytesOver } from './session-size.js'

const bytesOf = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8')

/** Values of every shape a session may carry, with the strings and numbers JSON writes longest. */
const sessionValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.constantFrom('\u0000', '\u001f', '"', '\\', '\u2028', '\ud800', '\udfff', 'é', '€', '😀', 'a'), maxLength: 40 }),
    fc.double(),
    fc.constantFrom(-0, -Number.MAX_VALUE, -Number.MIN_VALUE, -1.2345678901234567e-300, -0.0000010479451560681113, -123456789012345680000, Number.NaN, Number.NEGATIVE_INFINITY, true, false, null, undefined),
    fc.date({ noInvalidDate: false }),
    fc.constantFrom(new Date(8.64e15), new Date(-8.64e15)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.sparseArray(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ unit: 'binary' }), tie('value'), { maxKeys: 4, noNullPrototype: false }),
    fc.constant(new Map([['a', 1]])),
    fc.constant({ toJSON: () => 'x'.repeat(50) }),
  ),
})).value

describe('the size of a session as stored (JSON text, UTF-8 bytes)', () => {
  it('the estimate that decides most writes is never below the real size, for any value', () => {
    fc.assert(
      fc.property(sessionValue, fc.boolean(), (value, frozen) => {
        const measured = frozen && typeof value === 'object' && value !== null ? jsonCopy(value, true) : value
        if (JSON.stringify(measured) === undefined) return
        expect(jsonBytesUpperBound(measured)).toBeGreaterThanOrEqual(bytesOf(measured))
      }),
      { numRuns: 2000 },
    )
  })

  it('reports a session exactly when it is over the limit, whatever it holds', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), sessionValue, { maxKeys: 6 }), fc.boolean(), (fields, frozen) => {
        const session = frozen ? jsonCopy({ userId: 'u', ...fields }, true) : { userId: 'u', ...fields }
        const bytes = bytesOf(session)
        // Just under the size: the estimate used to skip exact measurement must never be too low.
        expect(sessionBytesOver(session, bytes - 1)).toBe(bytes)
        expect(sessionBytesOver(session, bytes)).toBeUndefined()
        expect(sessionBytesOver(session, Number.POSITIVE_INFINITY)).toBeUndefined()
      }),
      { numRuns: 1000 },
    )
  })

  it('measures a mutable object again after it grew, even inside a frozen one', () => {
    const preferences: Record<string, string> = { theme: 'dark' }
    const session = Object.freeze({ userId: 'u', preferences })
    expect(sessionBytesOver(session, 1000)).toBeUndefined()
    preferences['note'] = 'n'.repeat(2000)
    expect(sessionBytesOver(session, 1000)).toBe(bytesOf(session))
  })

  it('a deeply frozen field is walked once and then remembered, so a write costs what it changed', () => {
    const stored = jsonCopy({ history: Array.from({ length: 50 }, (_, i) => ({ at: i, page: `/p/${i}` })) }, true)
    let walks = 0
    // Counts how often the measurement reads the array's length, that is, walks it.
    const history = new Proxy(stored.history, {
      get(target, key, receiver) {
        if (key === 'length') walks++
        return Reflect.get(target, key, receiver) as unknown
      },
    })
    for (let i = 0; i < 10; i++) expect(sessionBytesOver({ userId: 'u', history, theme: `t${i}` }, 1_000_000)).toBeUndefined()
    expect(walks).toBe(1)
    // A mutable one is walked every time.
    const mutable = new Proxy([...stored.history], {
      get(target, key, receiver) {
        if (key === 'length') walks++
        return Reflect.get(target, key, receiver) as unknown
      },
    })
    walks = 0
    for (let i = 0; i < 10; i++) sessionBytesOver({ userId: 'u', history: mutable }, 1_000_000)
    expect(walks).toBe(10)
  })
})
