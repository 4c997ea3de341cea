import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { normalizeAccountKey } from './account-key.js'

// The account key comes straight from a caller's input: any string, or anything else.

describe('normalizeAccountKey', () => {
  it('never throws, and gives a non-empty string or undefined, for any value at all', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        const key = normalizeAccountKey(value)
        expect(key === undefined || (typeof key === 'string' && key.length > 0)).toBe(true)
      }),
    )
  })

  it('is stable: a key normalises to itself, so stored counts are found again', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const key = normalizeAccountKey(text)
        if (key !== undefined) expect(normalizeAccountKey(key)).toBe(key)
      }),
      { numRuns: 2_000 },
    )
  })

  it('ignores letter case and surrounding white space, whatever the script', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), fc.constantFrom('', ' ', '\t', '\u3000'), (text, padding) => {
        const key = normalizeAccountKey(text)
        expect(normalizeAccountKey(`${padding}${text.toUpperCase()}${padding}`)).toBe(key)
        expect(normalizeAccountKey(text.toLowerCase())).toBe(key)
      }),
      { numRuns: 2_000 },
    )
  })

  it('folds the spellings a login form lets through into one account', () => {
    const alice = normalizeAccountKey('alice@example.com')
    for (const spelling of ['ALICE@EXAMPLE.COM', 'Alice@Example.com', 'ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ', '  alice@example.com\n']) {
      expect(normalizeAccountKey(spelling)).toBe(alice)
    }
    expect(normalizeAccountKey('straße@example.com')).toBe(normalizeAccountKey('STRASSE@example.com'))
    expect(normalizeAccountKey('bob@example.com')).not.toBe(alice)
  })

  it('names no account for non-strings and blank strings', () => {
    for (const value of [undefined, null, 42, {}, ['alice@example.com'], '', '   ', '\u3000']) expect(normalizeAccountKey(value)).toBeUndefined()
  })
})
