import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyCookieOverrides, recordSetCookie, type CookieOverrides } from './cookie-overrides.js'

const NOW = Date.UTC(2026, 0, 1)
const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
const value = fc.stringMatching(/^[A-Za-z0-9_.-]{0,20}$/)
/** Cookie headers as clients send them, junk included. */
const cookieHeader = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.array(fc.tuple(name, value), { maxLength: 6 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')),
)

function namesIn(header: string | undefined): string[] {
  if (header === undefined) return []
  return header.split(';').map((piece) => piece.trim().split('=', 1)[0]!.trim())
}

describe('the Cookie header a request session loads its next change with', () => {
  it('never throws, carries each overridden cookie once with its new value, drops deleted ones, and keeps the rest', () => {
    fc.assert(
      fc.property(cookieHeader, fc.array(fc.tuple(name, fc.option(value, { nil: undefined })), { maxLength: 4 }), (header, changes) => {
        const overrides: CookieOverrides = new Map(changes)
        const result = applyCookieOverrides(header, overrides)
        const names = namesIn(result)
        for (const [cookie, next] of overrides) {
          const count = names.filter((candidate) => candidate === cookie).length
          if (next === undefined) expect(count).toBe(0)
          else {
            expect(count).toBe(1)
            expect(result).toContain(`${cookie}=${next}`)
          }
        }
        for (const kept of namesIn(header)) {
          if (kept.length > 0 && !overrides.has(kept)) expect(names).toContain(kept)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('leaves the header untouched when nothing was set', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ maxLength: 100 }), { nil: undefined }), (header) => {
        expect(applyCookieOverrides(header, new Map())).toBe(header)
      }),
    )
  })
})

describe('reading a Set-Cookie value', () => {
  it('never throws on any string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (setCookie) => {
        recordSetCookie(new Map(), setCookie, NOW)
      }),
      { numRuns: 2000 },
    )
  })

  it('sets the cookie, or deletes it for Max-Age=0 or a past Expires, with Max-Age winning over Expires', () => {
    fc.assert(
      fc.property(name, value, fc.integer({ min: -5, max: 400 * 86_400 }), fc.boolean(), (cookie, next, maxAge, withExpires) => {
        const overrides: CookieOverrides = new Map()
        const expires = withExpires ? `; Expires=${new Date(0).toUTCString()}` : ''
        recordSetCookie(overrides, `${cookie}=${next}${expires}; Max-Age=${maxAge}; Path=/; HttpOnly`, NOW)
        expect(overrides.get(cookie)).toBe(maxAge <= 0 ? undefined : next)
        expect(overrides.has(cookie)).toBe(true)
      }),
    )
    const overrides: CookieOverrides = new Map()
    recordSetCookie(overrides, 'a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT', NOW)
    recordSetCookie(overrides, 'b=2; Expires=Fri, 01 Jan 2100 00:00:00 GMT', NOW)
    recordSetCookie(overrides, 'no-equals-sign; Path=/', NOW)
    expect([...overrides]).toEqual([
      ['a', undefined],
      ['b', '2'],
    ])
  })
})
