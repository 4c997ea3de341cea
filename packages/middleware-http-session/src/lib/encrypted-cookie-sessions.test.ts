import { createMemoryStore, createSessionManager, type Logger, type SessionLifecycleEvent, silentLogger } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { parseSetCookie } from 'cookie'
import { afterEach, describe, expect, it } from 'vitest'
import { createEncryptedCookieSessions, type EncryptedCookieSessionsOptions } from './encrypted-cookie-sessions.js'
import { ALICE, HOUR, instrumentStore, MINUTE, SECRET_A, SECRET_B, serve, type InstrumentedStore, type RunningServer, type TestSession, SESSION_COOKIE } from './test-app.test-support.js'

interface EncryptedApp extends RunningServer {
  clock: TestClock
  store: InstrumentedStore
  errors: string[]
}

const running: RunningServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(options: Partial<EncryptedCookieSessionsOptions> = {}, clock = createTestClock()): Promise<EncryptedApp> {
  const store = instrumentStore(createMemoryStore<TestSession>({ clock: clock.now, sweepInterval: 0 }))
  store.down = true
  const sessions = createSessionManager<TestSession>({ store, clock: clock.now })
  const errors: string[] = []
  const logger: Logger = { ...silentLogger, error: (_message, meta) => errors.push(String((meta?.['error'] as Error | undefined)?.message)) }
  const strategy = createEncryptedCookieSessions({ secrets: [SECRET_A], clock: clock.now, idleTimeout: HOUR, absoluteTimeout: 8 * HOUR, ...options })
  const server = await serve({ strategy, sessions, logger })
  running.push(server)
  return { ...server, clock, store, errors }
}

describe('encrypted-cookie sessions (opt-in)', () => {
  it('keeps the whole session in an encrypted cookie with secure attributes and no store', async () => {
    const app = await start()
    const client = app.client()
    const login = await client.post('/login', ALICE)
    expect(login.status).toBe(200)
    const cookie = parseSetCookie(login.setCookies[0]!)
    expect(cookie).toMatchObject({ name: SESSION_COOKIE, httpOnly: true, secure: true, sameSite: 'lax', path: '/', maxAge: (8 * HOUR) / 1000 })
    expect(cookie.value!.split('.')).toHaveLength(5)
    expect(login.setCookies[0]).not.toContain('alice')
    expect(Buffer.from(cookie.value!.split('.')[3]!, 'base64url').toString('latin1')).not.toContain('alice')
    expect((await client.get('/profile')).body.email).toBe('alice@example.com')
    expect(app.store.writes).toEqual([])
  })

  it('a change re-encrypts the cookie; logout expires it', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const update = await client.put('/preferences', { theme: 'dark' })
    expect(update.setCookies).toHaveLength(1)
    expect((await client.get('/profile')).body.preferences).toEqual({ theme: 'dark' })
    const before = (await client.cookie(SESSION_COOKIE))!
    const logout = await client.post('/logout')
    expect(parseSetCookie(logout.setCookies[0]!)).toMatchObject({ value: '', maxAge: 0 })
    expect((await client.get('/profile')).status).toBe(401)
    // The documented trade-off: a copy taken before logout still decrypts until it times out.
    expect((await app.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${before}` } })).status).toBe(200)
  })

  it('enforces the idle timeout, renews only after the renewal interval, and enforces the absolute timeout', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    app.clock.advance(2 * MINUTE)
    expect((await client.get('/profile')).setCookies).toEqual([])
    app.clock.advance(4 * MINUTE)
    expect((await client.get('/profile')).setCookies).toHaveLength(1)
    for (let elapsed = 6 * MINUTE; elapsed < 8 * HOUR - 50 * MINUTE; elapsed += 50 * MINUTE) {
      app.clock.advance(50 * MINUTE)
      expect((await client.get('/profile')).status).toBe(200)
    }
    app.clock.advance(50 * MINUTE)
    expect((await client.get('/profile')).status).toBe(401)

    const idle = app.client()
    await idle.post('/login', ALICE)
    app.clock.advance(HOUR)
    expect((await idle.get('/profile')).status).toBe(401)
  })

  it('rotates keys: the first secret encrypts, all decrypt, a retired one is "no session"', async () => {
    const clock = createTestClock()
    const oldApp = await start({ secrets: [SECRET_A] }, clock)
    const client = oldApp.client()
    await client.post('/login', ALICE)
    const old = (await client.cookie(SESSION_COOKIE))!
    const rotated = await start({ secrets: [SECRET_B, SECRET_A] }, clock)
    expect((await rotated.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${old}` } })).status).toBe(200)
    const retired = await start({ secrets: [SECRET_B] }, clock)
    expect((await retired.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${old}` } })).status).toBe(401)
    expect((await retired.client().get('/public', { headers: { cookie: `${SESSION_COOKIE}=${old}` } })).body.email).toBeNull()
  })

  it('a tampered or foreign cookie is "no session"', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const value = (await client.cookie(SESSION_COOKIE))!
    const parts = value.split('.')
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`
    for (const bad of [parts.join('.'), 'x'.repeat(43), 'a.b.c.d.e', '']) {
      const headers = { cookie: `${SESSION_COOKIE}=${bad}` }
      expect((await app.client().get('/profile', { headers })).status).toBe(401)
      expect((await app.client().get('/public', { headers })).status).toBe(200)
    }
  })

  it('reports each rejected cookie to onEvent as a refused cookie credential with its reason, never the cookie', async () => {
    const events: SessionLifecycleEvent[] = []
    const clock = createTestClock()
    const app = await start({ onEvent: (event) => void events.push(event) }, clock)
    const client = app.client()
    await client.post('/login', ALICE)
    const value = (await client.cookie(SESSION_COOKIE))!
    const parts = value.split('.')
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`
    expect((await app.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${parts.join('.')}` } })).status).toBe(401)
    // Encrypted with a secret this server no longer has.
    const retired = await start({ secrets: [SECRET_B], onEvent: (event) => void events.push(event) }, clock)
    expect((await retired.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${value}` } })).status).toBe(401)
    clock.advance(2 * HOUR)
    expect((await app.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${value}` } })).status).toBe(401)
    await new Promise((resolve) => setImmediate(resolve))
    expect(events.map((event) => event.type === 'refused' && [event.credential, event.reason, event.protocol, event.address])).toEqual([
      ['cookie', 'invalid', 'http', '127.0.0.1'],
      ['cookie', 'invalid', 'http', '127.0.0.1'],
      ['cookie', 'expired', 'http', '127.0.0.1'],
    ])
    expect(JSON.stringify(events)).not.toContain(value)
  })

  it('refuses a session too large for a cookie with an error that says what to do, and sets no cookie', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const response = await client.put('/preferences', { notes: 'n'.repeat(4000) })
    expect(response.status).toBe(500)
    expect(response.setCookies).toEqual([])
    expect(app.errors.join('\n')).toMatch(/over the 4096-byte limit .*Store less in the session/)
    expect((await client.get('/profile')).body.preferences).toEqual({})
  })

  it('applies the CSRF defence to cookie-authenticated unsafe methods', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
    expect((await client.put('/preferences', { a: 1 }, { headers: crossSite })).status).toBe(403)
    expect((await app.client().post('/login', ALICE, { headers: crossSite })).status).toBe(403)
    expect((await client.put('/preferences', { a: 1 }, { headers: { origin: app.base } })).status).toBe(200)
  })

  it('refuses a cross-site GET that would log the user out, in or change the session, and keeps read-only GETs working', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    // Top-level navigations from links on another site: the cookie comes along, no Origin does.
    const crossSite = { 'sec-fetch-site': 'cross-site' }
    const logout = await client.get('/logout-link', { headers: crossSite })
    expect(logout.status).toBe(403)
    expect(logout.setCookies).toEqual([])
    const visit = await client.get('/visit', { headers: crossSite })
    expect(visit.status).toBe(403)
    expect(visit.setCookies).toEqual([])
    const guest = await app.client().get('/guest', { headers: crossSite })
    expect(guest.status).toBe(403)
    expect(guest.setCookies).toEqual([])
    expect((await client.get('/profile', { headers: crossSite })).body.preferences).toEqual({})
    // Past the renewal interval a cross-site read still works and re-encrypts: no change, no check.
    app.clock.advance(10 * MINUTE)
    expect((await client.get('/profile', { headers: crossSite })).setCookies).toHaveLength(1)
    // From the app's own pages they work.
    expect((await client.get('/visit', { headers: { 'sec-fetch-site': 'same-origin' } })).body).toEqual({ visits: 1 })
    expect((await client.get('/logout-link', { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(401)
  })

  it('is validated when created', () => {
    expect(() => createEncryptedCookieSessions({ secrets: [SECRET_A, 'short-secret'] })).toThrow('secrets[1] must be at least 32 bytes; got 12')
    expect(() => createEncryptedCookieSessions({ secrets: [] })).toThrow(/non-empty array/)
    expect(() => createEncryptedCookieSessions({ secrets: [SECRET_A], renewalInterval: HOUR, idleTimeout: HOUR })).toThrow(/renewalInterval/)
    expect(createEncryptedCookieSessions({ secrets: [SECRET_A], cookie: { hostPrefix: true } }).cookieName).toBe('__Host-pikku-session')
    // The same default as stored sessions: prefixed whenever the cookie is Secure, on / and host-only.
    expect(createEncryptedCookieSessions({ secrets: [SECRET_A] }).cookieName).toBe('__Host-pikku-session')
    expect(createEncryptedCookieSessions({ secrets: [SECRET_A], cookie: { secure: false }, logger: silentLogger }).cookieName).toBe('pikku-session')
  })
})
