import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { exitCodeFor, exitCodes, isPikkuErrorCode } from './exit-codes.js'

const FAILURE_CODES = ['INTERNAL', 'BAD_REQUEST', 'UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PAYLOAD_TOO_LARGE', 'TOO_MANY_REQUESTS', 'SERVICE_UNAVAILABLE'] as const

describe('exit codes', () => {
  it('are the numbers scripts were promised (README, decision 006)', () => {
    const table = Object.entries(exitCodes).map(([name, code]) => `${name}=${code}`)
    expect(table.join(' ')).toBe(
      'OK=0 INTERNAL=1 BAD_REQUEST=2 UNAUTHORIZED=3 FORBIDDEN=4 NOT_FOUND=5 CONFLICT=6 PAYLOAD_TOO_LARGE=7 TOO_MANY_REQUESTS=8 SERVICE_UNAVAILABLE=9 LOGIN_DENIED=10 LOGIN_EXPIRED=11 CREDENTIALS=78 CANCELLED=130',
    )
    expect(FAILURE_CODES.map(exitCodeFor)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it("a server's error code counts only when it is one of core's codes, never a CLI-only name or an object key", () => {
    for (const code of FAILURE_CODES) expect(isPikkuErrorCode(code)).toBe(true)
    for (const code of ['OK', 'LOGIN_DENIED', 'LOGIN_EXPIRED', 'CREDENTIALS', 'CANCELLED', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'unauthorized', '']) {
      expect(isPikkuErrorCode(code)).toBe(false)
    }
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.anything()), (value) => {
        expect(isPikkuErrorCode(value)).toBe((FAILURE_CODES as readonly unknown[]).includes(value))
      }),
    )
  })
})
