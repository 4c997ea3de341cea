import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { splitShellWords } from './shell-words.js'

describe('splitting an interactive command line', () => {
  it('splits on whitespace', () => {
    expect(splitShellWords('  login   --email a@b.c ')).toEqual(['login', '--email', 'a@b.c'])
  })

  it('keeps quoted spaces and quote characters', () => {
    expect(splitShellWords(`login --password 'pa ss"word'`)).toEqual(['login', '--password', 'pa ss"word'])
    expect(splitShellWords(`x "a \\"b\\" c" d`)).toEqual(['x', 'a "b" c', 'd'])
    expect(splitShellWords(`x 'it'\\''s'`)).toEqual(['x', "it's"])
    expect(splitShellWords(`x ""`)).toEqual(['x', ''])
  })

  it('escapes with a backslash outside quotes', () => {
    expect(splitShellWords('x a\\ b')).toEqual(['x', 'a b'])
  })

  it('reports an unterminated quote', () => {
    expect(() => splitShellWords(`x "open`)).toThrow('unterminated double quote')
    expect(() => splitShellWords(`x 'open`)).toThrow('unterminated single quote')
  })

  it('round-trips any words quoted the POSIX way', () => {
    const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 6 }), (words) => {
        expect(splitShellWords(words.map(quote).join(' '))).toEqual(words)
      }),
    )
  })
})
