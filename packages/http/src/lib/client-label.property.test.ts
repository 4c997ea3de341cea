import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { httpSessionMetadata, userAgentLabel } from './client-label.js'

const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/

describe('client labels from untrusted headers', () => {
  it('names the browser and OS family of common User-Agents', () => {
    expect(userAgentLabel('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0')).toBe('Firefox on Linux')
    expect(userAgentLabel('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36')).toBe(
      'Chrome on macOS',
    )
    expect(
      userAgentLabel('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'),
    ).toBe('Safari on iOS')
  })

  it('falls back to the first product token for tools, and to nothing for nothing', () => {
    expect(userAgentLabel('curl/8.5.0')).toBe('curl/8.5.0')
    expect(userAgentLabel('')).toBeUndefined()
    expect(userAgentLabel('   ')).toBeUndefined()
    expect(userAgentLabel(undefined)).toBeUndefined()
    expect(userAgentLabel(['Firefox'])).toBeUndefined()
  })

  it('records a CLI that names itself as a cli session, and anything else as http', () => {
    const headers = (values: Record<string, string>) => (name: string) => values[name]
    expect(httpSessionMetadata(headers({ 'pikku-client': 'cli@build-box', 'user-agent': 'demo/1.0' }), 'bearer', '127.0.0.1')).toEqual({
      protocol: 'cli',
      credential: 'bearer',
      label: 'cli@build-box',
      address: '127.0.0.1',
    })
    expect(httpSessionMetadata(headers({ 'pikku-client': 'Firefox', 'user-agent': 'curl/8.5.0' }), 'cookie', undefined)).toEqual({
      protocol: 'http',
      credential: 'cookie',
      label: 'curl/8.5.0',
    })
  })

  it('never fails and always yields a short printable label, whatever the header holds (property)', () => {
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 2000 }),
      fc.constantFrom('Mozilla/5.0 (', 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'),
      fc.tuple(fc.constantFrom('Mozilla/5.0 (Windows NT 10.0; Win64; x64) ', 'Opera/', 'Edg/'), fc.string({ unit: 'binary', maxLength: 300 })).map(([a, b]) => a + b),
    )
    fc.assert(
      fc.property(header, header, (userAgent, name) => {
        const label = userAgentLabel(userAgent)
        if (label !== undefined) {
          expect(label.length).toBeGreaterThan(0)
          expect(label.length).toBeLessThanOrEqual(120)
          expect(label).not.toMatch(UNPRINTABLE)
          expect(label).toBe(label.trim())
        }
        const metadata = httpSessionMetadata((key) => (key === 'user-agent' ? userAgent : name), 'cookie', undefined)
        expect(['http', 'cli']).toContain(metadata.protocol)
        if (metadata.label !== undefined) {
          expect(metadata.label.length).toBeLessThanOrEqual(120)
          expect(metadata.label).not.toMatch(UNPRINTABLE)
        }
      }),
      { numRuns: 500 },
    )
  })
})
