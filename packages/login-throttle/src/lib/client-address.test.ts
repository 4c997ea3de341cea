import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addressBucket } from './client-address.js'

// Addresses come from adapters and, behind a trusted proxy, from a header: treated as untrusted.

describe('addressBucket', () => {
  it('never throws for any value or prefix length, and gives a non-empty string or undefined', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string(), fc.ipV4(), fc.ipV6(), fc.ipV4Extended()), fc.integer({ min: 1, max: 128 }), (value, subnet) => {
        const bucket = addressBucket(value, subnet)
        expect(bucket === undefined || (typeof bucket === 'string' && bucket.length > 0)).toBe(true)
      }),
      { numRuns: 2_000 },
    )
  })

  it('counts an IPv4 address as itself, and the same IPv4 address mapped into IPv6 in the same bucket', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(addressBucket(ip, 56)).toBe(ip)
        expect(addressBucket(`::ffff:${ip}`, 56)).toBe(ip)
      }),
    )
  })

  it('puts IPv6 addresses that share their first `subnet` bits in one bucket, and others apart', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 1, max: 128 }), (a, b, subnet) => {
        const bucketA = addressBucket(a, subnet)
        const bucketB = addressBucket(b, subnet)
        // Addresses with a dotted IPv4 tail are IPv4-mapped (counted as IPv4, tested above) or the
        // deprecated IPv4-compatible form, which ipaddr.js reads as mapped: that only merges buckets.
        const mapped = (ip: string): boolean => ip.includes('.') || /^(0{1,4}:){5}ffff:/i.test(ip) || /^::ffff:/i.test(ip)
        if (mapped(a) || mapped(b)) return
        expect(bucketA === bucketB).toBe(prefixBits(a, subnet) === prefixBits(b, subnet))
      }),
      { numRuns: 2_000 },
    )
  })

  it('reads the usual IPv6 spellings alike, zone included', () => {
    expect(addressBucket('2001:DB8:0:0:1::1', 64)).toBe(addressBucket('2001:db8::1:0:0:2', 64))
    expect(addressBucket('2001:db8:0:12::1', 56)).toBe('2001:db8:0:0:0:0:0:0/56')
    expect(addressBucket('2001:db8:0:112::1', 56)).toBe('2001:db8:0:100:0:0:0:0/56')
    expect(addressBucket('fe80::1%eth0', 64)).toBe('fe80:0:0:0:0:0:0:0/64')
  })

  it('counts text that is not an IP address as given, and nothing for blanks and non-strings', () => {
    expect(addressBucket(' /run/app.sock ', 56)).toBe('/run/app.sock')
    expect(addressBucket('010.0.0.1', 56)).toBe('010.0.0.1')
    for (const value of [undefined, null, 7, '', '  ']) expect(addressBucket(value, 56)).toBeUndefined()
  })
})

/** The first `bits` bits of an IPv6 address as a string of 0s and 1s (an independent reading). */
function prefixBits(ip: string, bits: number): string {
  const [head = '', tail] = ip.split('::')
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'))
  const expanded = tail === undefined ? groups(head) : [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill('0'), ...groups(tail)]
  return expanded
    .map((group) => parseInt(group, 16).toString(2).padStart(16, '0'))
    .join('')
    .slice(0, bits)
}
