import { parseCookie } from 'cookie'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readCookieValues } from './cookie-header.js'

/** The plain reading of RFC 6265 §5.4 pairs, as the `cookie` package splits them, keeping every value. */
function reference(header: string, name: string): string[] {
  const values: string[] = []
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=')
    if (equals === -1) continue
    if (pair.slice(0, equals).replace(/^[ \t]+|[ \t]+$/g, '') !== name) continue
    values.push(pair.slice(equals + 1).replace(/^[ \t]+|[ \t]+$/g, ''))
  }
  return values
}

const asArray = (values: string | readonly string[] | undefined): readonly string[] => (values === undefined ? [] : typeof values === 'string' ? [values] : values)
const always = (): boolean => true

const NAMES = ['sid', '__Host-sid', 'sid2', 'xsid', 'Sid']
const ows = fc.constantFrom('', ' ', '\t', '  ')
// Visible ASCII and spaces (what a header can carry), with the separators a value must not hide.
const text = fc.string({ unit: fc.constantFrom(...'abcAB09-_.=; \t"%,'.split('')), maxLength: 20 })
const pair = fc.oneof(
  fc.tuple(ows, fc.constantFrom(...NAMES), ows, ows, text.map((value) => value.replace(/;/g, '')), ows).map(([a, name, b, c, value, d]) => `${a}${name}${b}=${c}${value}${d}`),
  text,
)
const header = fc.oneof(fc.array(pair, { maxLength: 8 }).map((pairs) => pairs.join(';')), fc.string({ maxLength: 80 }))

describe('reading every value of a cookie name from a Cookie header', () => {
  it('finds exactly the values of that name, in order, as a pair-by-pair reading does', () => {
    fc.assert(
      fc.property(header, fc.constantFrom(...NAMES), (cookieHeader, name) => {
        expect(asArray(readCookieValues(cookieHeader, name, always, Number.MAX_SAFE_INTEGER))).toEqual(reference(cookieHeader, name))
      }),
      { numRuns: 3000 },
    )
  })

  it('agrees with the cookie package on the first value of the name', () => {
    fc.assert(
      fc.property(header, fc.constantFrom(...NAMES), (cookieHeader, name) => {
        const first = asArray(readCookieValues(cookieHeader, name, always, Number.MAX_SAFE_INTEGER))[0]
        expect(first).toBe(parseCookie(cookieHeader, { decode: (value) => value })[name])
      }),
      { numRuns: 3000 },
    )
  })

  it('gives a lone value as a plain string, and of duplicates only accepted values, at most the bound', () => {
    fc.assert(
      fc.property(header, fc.constantFrom(...NAMES), fc.integer({ min: 1, max: 4 }), (cookieHeader, name, max) => {
        const accept = (value: string): boolean => value.length > 0 && !value.includes('"')
        const read = readCookieValues(cookieHeader, name, accept, max)
        const all = reference(cookieHeader, name)
        // A lone value is left to the caller's verification (no check paid twice).
        const expected = all.length === 1 ? all : all.filter(accept).slice(0, max)
        expect(asArray(read)).toEqual(expected)
        if (expected.length === 1) expect(read).toBe(expected[0])
        if (expected.length === 0) expect(read).toBeUndefined()
      }),
      { numRuns: 3000 },
    )
  })

  it('is linear: a long header of near-misses is read at once', () => {
    const header = `${'xsid=1; sid2=2;  '.repeat(1000)}sid=found`
    expect(readCookieValues(header, 'sid', always, 4)).toBe('found')
    expect(readCookieValues(' '.repeat(50_000) + 'sid', 'sid', always, 4)).toBeUndefined()
  })
})
