import { isIP } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { forwardedForAddress, parseForwardedEntry } from './forwarded-for.js'

const ows = fc.constantFrom('', ' ', '  ', '\t', ' \t ')
const address = fc.oneof(fc.ipV4(), fc.ipV6())
const port = fc.integer({ min: 0, max: 65_535 })

/**
 * An entry as proxies write it (bare, IPv4 with a port, IPv6 in brackets with or without a port),
 * with the address it holds.
 */
const entry = fc.tuple(address, fc.option(port, { nil: undefined }), fc.boolean()).map(([ip, withPort, brackets]) => {
  if (ip.includes(':')) return { text: withPort !== undefined ? `[${ip}]:${withPort}` : brackets ? `[${ip}]` : ip, ip: ip.toLowerCase() }
  return { text: withPort !== undefined ? `${ip}:${withPort}` : ip, ip }
})

describe('reading X-Forwarded-For', () => {
  it('never throws, and gives either nothing or an IP address', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (header) => {
        const result = forwardedForAddress(header)
        if (result !== undefined) expect(isIP(result)).not.toBe(0)
      }),
      { numRuns: 2000 },
    )
  })

  it('gives the rightmost entry of any list of addresses, whatever the spacing', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(ows, entry, ows), { minLength: 1, maxLength: 6 }), (items) => {
        const header = items.map(([before, { text }, after]) => `${before}${text}${after}`).join(',')
        expect(forwardedForAddress(header)).toBe(items[items.length - 1]![1].ip)
      }),
      { numRuns: 1000 },
    )
  })

  it('depends only on the rightmost entry: nothing a client writes to its left changes the result', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.oneof(entry.map(({ text }) => text), fc.string({ maxLength: 60 }).filter((text) => !text.includes(','))), (prefix, last) => {
        expect(forwardedForAddress(`${prefix},${last}`)).toBe(parseForwardedEntry(last))
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses entries that are not addresses', () => {
    for (const text of ['unknown', '_hidden', 'example.com', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4:99999', '[::1', '[::1]x', '::1%eth0', '1.2.3.4 5.6.7.8', '']) {
      expect(parseForwardedEntry(text), text).toBeUndefined()
    }
    expect(forwardedForAddress(`${' '.repeat(20_000)}1.2.3.4`)).toBe('1.2.3.4')
    expect(forwardedForAddress(`1.2.3.4${' '.repeat(20_000)}x`)).toBeUndefined()
  })
})
