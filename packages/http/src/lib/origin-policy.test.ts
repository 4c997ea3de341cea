import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createOriginPolicy, isLoopbackAddress, normalizeOrigin, type OriginCheckRequest } from './origin-policy.js'

function request(headers: Record<string, string>, options: { secure?: boolean; localAddress?: string } = {}): OriginCheckRequest {
  return { header: (name) => headers[name], secure: options.secure ?? false, localAddress: options.localAddress }
}

const PUBLIC = '203.0.113.5'

describe('origin policy', () => {
  it('accepts an allowed origin with or without a trailing slash, in any letter case', () => {
    const withSlash = createOriginPolicy({ allowedOrigins: ['https://App.example.com/'] })
    const without = createOriginPolicy({ allowedOrigins: ['https://app.example.com'] })
    const req = request({ host: 'api.example.com' }, { secure: true, localAddress: PUBLIC })
    for (const policy of [withSlash, without]) {
      expect(policy.allowsOrigin('https://app.example.com', req)).toBe(true)
      expect(policy.allowsOrigin('https://APP.example.com/', req)).toBe(true)
      expect(policy.allowsOrigin('https://evil.example.com', req)).toBe(false)
    }
    expect(withSlash.allowedOrigins).toEqual(without.allowedOrigins)
  })

  it('refuses configured entries that are not origins, saying which and what was meant', () => {
    expect(() => createOriginPolicy({ allowedOrigins: ['https://a.example.com/path'] }, 'csrf.allowedOrigins')).toThrow(
      /csrf\.allowedOrigins\[0\].*did you mean "https:\/\/a\.example\.com"/,
    )
    expect(() => createOriginPolicy({ allowedOrigins: ['not a url'] })).toThrow(/allowedOrigins\[0\] must be an origin/)
    expect(() => createOriginPolicy({ allowedOrigins: ['ftp://a.example.com'] })).toThrow(/must be an origin/)
    expect(() => createOriginPolicy({ allowedOrigins: ['https://user@a.example.com'] })).toThrow(/must be an origin/)
    expect(() => createOriginPolicy({ allowedOrigins: 'https://a.example.com' as unknown as string[] })).toThrow(/must be an array/)
  })

  it("accepts the request's own origin, default ports dropped", () => {
    const policy = createOriginPolicy()
    expect(policy.allowsOrigin('https://api.example.com', request({ host: 'api.example.com:443' }, { secure: true, localAddress: PUBLIC }))).toBe(true)
    expect(policy.allowsOrigin('http://api.example.com:8080', request({ host: 'api.example.com:8080' }, { localAddress: PUBLIC }))).toBe(true)
    // The scheme counts: a plain-http page is not the https site.
    expect(policy.allowsOrigin('http://api.example.com', request({ host: 'api.example.com' }, { secure: true, localAddress: PUBLIC }))).toBe(false)
  })

  it('never allows null, opaque or malformed origins', () => {
    const policy = createOriginPolicy({ allowedOrigins: ['https://app.example.com'] })
    const req = request({ host: 'localhost:3000' }, { localAddress: '127.0.0.1' })
    for (const origin of ['null', '', 'file://', 'https://app.example.com/x', 'javascript:alert(1)', 'http://localhost:3000?x']) {
      expect(policy.allowsOrigin(origin, req)).toBe(false)
    }
  })

  it('on a loopback server accepts localhost, 127.0.0.1 and [::1] origins with any port', () => {
    const policy = createOriginPolicy()
    const req = request({ host: '127.0.0.1:3000' }, { localAddress: '127.0.0.1' })
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:5173', 'http://localhost:1', 'https://localhost']) {
      expect(policy.allowsOrigin(origin, req)).toBe(true)
    }
    expect(policy.allowsOrigin('http://evil.example.com', req)).toBe(false)
    expect(policy.allowsOrigin('http://localhost.evil.example.com:3000', req)).toBe(false)
  })

  it('on a loopback server refuses any Host that is not a loopback name (DNS rebinding)', () => {
    const policy = createOriginPolicy()
    const rebound = request({ host: 'evil.example.com:3000', origin: 'http://evil.example.com:3000' }, { localAddress: '127.0.0.1' })
    expect(policy.allowsHost(rebound)).toBe(false)
    expect(policy.allowsOrigin('http://evil.example.com:3000', rebound)).toBe(false)
    expect(policy.ownOrigin(rebound)).toBeUndefined()
    for (const host of ['localhost:3000', '127.0.0.1:9', '[::1]:3000', 'LOCALHOST']) {
      expect(policy.allowsHost(request({ host }, { localAddress: '::1' }))).toBe(true)
    }
    expect(policy.allowsHost(request({}, { localAddress: '127.0.0.1' }))).toBe(false)
  })

  it('does not restrict Host on a public server, and never reflects a malformed one', () => {
    const policy = createOriginPolicy()
    expect(policy.allowsHost(request({ host: 'api.example.com' }, { localAddress: PUBLIC }))).toBe(true)
    expect(policy.ownOrigin(request({ host: 'api.example.com' }, { secure: true, localAddress: PUBLIC }))).toBe('https://api.example.com')
    expect(policy.ownOrigin(request({ host: 'a.example.com"; x="y' }, { localAddress: PUBLIC }))).toBeUndefined()
    expect(policy.ownOrigin(request({ host: 'a@b' }, { localAddress: PUBLIC }))).toBeUndefined()
  })

  it('the loopback option decides when the adapter cannot tell the local address', () => {
    const loopback = createOriginPolicy({ loopback: true })
    const remote = createOriginPolicy({ loopback: false })
    const req = request({ host: 'evil.example.com' })
    expect(loopback.allowsHost(req)).toBe(false)
    expect(remote.allowsHost(request({ host: 'evil.example.com' }, { localAddress: '127.0.0.1' }))).toBe(true)
    expect(() => createOriginPolicy({ loopback: 'yes' as unknown as boolean })).toThrow(/loopback must be/)
  })

  it('tells loopback addresses, including IPv4-mapped ones', () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true)
    expect(isLoopbackAddress('127.1.2.3')).toBe(true)
    expect(isLoopbackAddress('::1')).toBe(true)
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true)
    expect(isLoopbackAddress('10.0.0.1')).toBe(false)
    expect(isLoopbackAddress('::ffff:10.0.0.1')).toBe(false)
    expect(isLoopbackAddress(undefined)).toBe(false)
  })
})

describe('origin policy on untrusted input (property-based)', () => {
  const policy = createOriginPolicy({ allowedOrigins: ['https://app.example.com'] })

  it('never throws, whatever the Origin and Host headers and the local address', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.option(fc.string({ maxLength: 300 })), fc.boolean(), fc.constantFrom('127.0.0.1', '::1', PUBLIC, undefined), (origin, host, secure, localAddress) => {
        const req = request(host === null ? {} : { host }, { secure, localAddress })
        expect(typeof policy.allowsOrigin(origin, req)).toBe('boolean')
        expect(typeof policy.allowsHost(req)).toBe('boolean')
        const own = policy.ownOrigin(req)
        if (own !== undefined) expect(normalizeOrigin(own)).toBe(own)
      }),
    )
  })

  it('an allowed origin is always a normalized http(s) origin that is listed, own, or loopback', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.domain(), fc.constantFrom('127.0.0.1', PUBLIC), (origin, host, localAddress) => {
        const req = request({ host }, { secure: true, localAddress })
        if (!policy.allowsOrigin(origin, req)) return
        const normalized = normalizeOrigin(origin)
        expect(normalized).toBeDefined()
        const loopbackName = /^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(normalized!)
        expect(normalized === 'https://app.example.com' || normalized === policy.ownOrigin(req) || (localAddress === '127.0.0.1' && loopbackName)).toBe(true)
      }),
    )
  })

  it('normalizing is idempotent and ignores one trailing slash', () => {
    fc.assert(
      fc.property(fc.webUrl(), (url) => {
        const origin = normalizeOrigin(new URL(url).origin)
        if (origin === undefined) return
        expect(normalizeOrigin(origin)).toBe(origin)
        expect(normalizeOrigin(`${origin}/`)).toBe(origin)
      }),
    )
  })
})
