import { createMemoryStore, createSessionManager, type Logger, silentLogger } from '@pikku/core'
import { describe, expect, it } from 'vitest'
import { createHTTPSessions } from './http-sessions.js'
import { readBearerToken } from './bearer-header.js'
import { SECRET_A, SECRET_B } from './test-app.test-support.js'

const sessions = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }) })

describe('createHTTPSessions validates its options when called', () => {
  it('names the secret that is too short and by how much', () => {
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [SECRET_A, 'twelve-bytes'] } })).toThrow(
      'jwt.secrets[1] must be at least 32 bytes; got 12',
    )
  })

  it('counts bytes, not characters', () => {
    // 16 two-byte characters are 32 bytes.
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: ['é'.repeat(16)] } })).not.toThrow()
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: ['é'.repeat(15)] } })).toThrow('jwt.secrets[0] must be at least 32 bytes; got 30')
  })

  it('refuses an empty secret list, a non-string and a duplicate', () => {
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [] } })).toThrow(/jwt.secrets must be a non-empty array/)
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [42 as unknown as string] } })).toThrow('jwt.secrets[0] must be a string; got number')
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [SECRET_A, SECRET_A] } })).toThrow(/same secret twice/)
  })

  it('refuses unknown algorithms (there is no way to ask for alg none) and bad lifetimes', () => {
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [SECRET_A], algorithm: 'none' as 'HS256' } })).toThrow(/algorithm must be 'HS256', 'HS384' or 'HS512'/)
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [SECRET_A], expiresIn: 0 } })).toThrow(/expiresIn must be a positive whole number of seconds/)
    expect(() => createHTTPSessions({ sessions, jwt: { secrets: [SECRET_A], issuer: '' } })).toThrow(/jwt.issuer must be a non-empty string/)
  })

  it('refuses cookie settings a browser would reject', () => {
    expect(() => createHTTPSessions({ sessions, cookie: { hostPrefix: true, secure: false } })).toThrow(/hostPrefix needs secure: true/)
    expect(() => createHTTPSessions({ sessions, cookie: { hostPrefix: true, path: '/app' } })).toThrow(/hostPrefix needs path '\/'/)
    expect(() => createHTTPSessions({ sessions, cookie: { hostPrefix: true, domain: 'example.com' } })).toThrow(/cannot be combined with domain/)
    expect(() => createHTTPSessions({ sessions, cookie: { sameSite: 'none', secure: false } })).toThrow(/sameSite 'none' needs secure: true/)
    expect(() => createHTTPSessions({ sessions, cookie: { name: 'has space' } })).toThrow(/cookie.name must be a cookie name/)
    expect(() => createHTTPSessions({ sessions, cookie: { name: '__Host-sid' } })).toThrow(/cookie.name must not carry a cookie prefix \(the __Host- prefix is added by hostPrefix\)/)
    expect(() => createHTTPSessions({ sessions, cookie: { hostPrefix: 'yes' as unknown as boolean } })).toThrow('cookie.hostPrefix must be true or false; got "yes"')
    expect(() => createHTTPSessions({ sessions, cookie: { name: 'n'.repeat(4100) } })).toThrow(/over the 4096-byte limit; shorten cookie.name/)
  })

  it('needs a session manager and at least one credential', () => {
    expect(() => createHTTPSessions({} as never)).toThrow(/needs \{ sessions \}/)
    expect(() => createHTTPSessions({ sessions, cookie: false })).toThrow(/with cookie: false, pass jwt/)
    expect(() => createHTTPSessions({ sessions, cookie: false, jwt: { secrets: [SECRET_B] } })).not.toThrow()
  })

  it('warns when Secure is turned off only once a cookie is sent, so processes that serve no cookies stay quiet', async () => {
    const warnings: string[] = []
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) }
    createHTTPSessions({ sessions, logger })
    createHTTPSessions({ sessions, logger, cookie: { secure: false } })
    expect(warnings).toEqual([])
  })

  it('reports the cookie name in use', () => {
    expect(createHTTPSessions({ sessions }).cookieName).toBe('__Host-pikku-session')
    expect(createHTTPSessions({ sessions, cookie: { name: 'sid', hostPrefix: true } }).cookieName).toBe('__Host-sid')
  })
})

describe('reading the Authorization header', () => {
  it('finds the bearer token, case-insensitively, and ignores other schemes', () => {
    expect(readBearerToken('Bearer abc')).toBe('abc')
    expect(readBearerToken('bearer  abc ')).toBe('abc')
    expect(readBearerToken('BEARER\tabc')).toBe('abc')
    expect(readBearerToken('Bearer')).toBe('')
    expect(readBearerToken('Basic abc')).toBeUndefined()
    expect(readBearerToken('Bearerabc')).toBeUndefined()
    expect(readBearerToken('')).toBeUndefined()
  })
})
