import { createMemoryStore, createSessionManager, silentLogger } from '@pikku/core'
import { hashSessionToken } from '@pikku/core/protocol'
import { parseSetCookie } from 'cookie'
import { afterEach, describe, expect, it } from 'vitest'
import { toFetchHandler } from '@pikku/http'
import { createHTTPSessions } from './http-sessions.js'
import { ADMIN, ALICE, buildHandler, HOUR, MINUTE, startStoredApp, type StoredApp, SESSION_COOKIE } from './test-app.test-support.js'

let app: StoredApp
const apps: StoredApp[] = []
const start = async (...args: Parameters<typeof startStoredApp>): Promise<StoredApp> => {
  const started = await startStoredApp(...args)
  apps.push(started)
  return started
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((running) => running.close()))
})

describe('stored cookie sessions', () => {
  it('login → profile → update → logout, then replaying the cookie gets 401', async () => {
    app = await start()
    const client = app.client()

    const login = await client.post('/login', ALICE)
    expect(login.status).toBe(200)
    expect(login.body.user).toEqual({ id: 'u-alice', email: 'alice@example.com', role: 'user' })
    const token = await client.cookie(SESSION_COOKIE)
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)

    const profile = await client.get('/profile')
    expect(profile.status).toBe(200)
    expect(profile.body).toMatchObject({ userId: 'u-alice', email: 'alice@example.com', role: 'user', preferences: {} })
    expect(profile.headers.get('cache-control')).toBe('no-store')

    const update = await client.put('/preferences', { theme: 'dark' })
    expect(update.status).toBe(200)
    expect(update.setCookies).toEqual([])
    expect((await client.get('/profile')).body.preferences).toEqual({ theme: 'dark' })

    const logout = await client.post('/logout')
    expect(logout.status).toBe(200)
    expect(logout.body).toEqual({ success: true })
    expect(await client.cookie(SESSION_COOKIE)).toBeUndefined()

    expect((await client.get('/profile')).status).toBe(401)
    const replayed = await client.get('/profile', { withoutJar: true, headers: { cookie: `${SESSION_COOKIE}=${token}` } })
    expect(replayed.status).toBe(401)
    expect(replayed.body.error.code).toBe('UNAUTHORIZED')
    expect(await app.sessions.loadByToken(token)).toBeUndefined()
  })

  it('sets the cookie HttpOnly, Secure, SameSite=Lax, Path=/ with Max-Age from the absolute timeout, holding only the token', async () => {
    app = await start()
    const login = await app.client().post('/login', ALICE)
    expect(login.setCookies).toHaveLength(1)
    const raw = login.setCookies[0]!
    const cookie = parseSetCookie(raw)
    expect(cookie.name).toBe(SESSION_COOKIE)
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(cookie.httpOnly).toBe(true)
    expect(cookie.secure).toBe(true)
    expect(cookie.sameSite).toBe('lax')
    expect(cookie.path).toBe('/')
    expect(cookie.maxAge).toBe((8 * HOUR) / 1000)
    expect(cookie.domain).toBeUndefined()
    expect(raw).not.toContain('alice')
    expect(raw.length).toBeLessThan(4096)
    expect(login.headers.get('cache-control')).toBe('no-store')
    // The store keeps the hash, never the token.
    expect(await app.store.get(cookie.value!)).toBeUndefined()
    expect(await app.store.get(hashSessionToken(cookie.value!))).toMatchObject({ userId: 'u-alice' })
  })

  it('uses the __Host- prefix by default, so a sibling subdomain cannot plant or shadow the cookie', async () => {
    app = await start()
    expect(app.httpSessions.cookieName).toBe('__Host-pikku-session')
    const client = app.client()
    const login = await client.post('/login', ALICE)
    expect(login.setCookies[0]).toMatch(/^__Host-pikku-session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    expect((await client.get('/profile')).body.userId).toBe('u-alice')
    // An unprefixed cookie of the same name is another cookie: not the session.
    const token = (await client.cookie(SESSION_COOKIE))!
    expect((await app.client().get('/profile', { withoutJar: true, headers: { cookie: `pikku-session=${token}` } })).status).toBe(401)
  })

  it('leaves the prefix off where a browser would refuse it, or when turned off', () => {
    const sessions = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }) })
    const name = (cookie: Parameters<typeof createHTTPSessions>[0]['cookie']): string | undefined => createHTTPSessions({ sessions, cookie, logger: silentLogger }).cookieName
    expect(name({})).toBe('__Host-pikku-session')
    expect(name({ hostPrefix: true, name: 'sid' })).toBe('__Host-sid')
    expect(name({ secure: false })).toBe('pikku-session')
    expect(name({ path: '/app' })).toBe('pikku-session')
    expect(name({ domain: 'example.com' })).toBe('pikku-session')
    expect(name({ hostPrefix: false })).toBe('pikku-session')
  })

  it('an in-place change writes no cookie; logout expires it and can send Clear-Site-Data', async () => {
    app = await start({ http: { cookie: { clearSiteData: true } } })
    const client = app.client()
    await client.post('/login', ALICE)
    const update = await client.put('/preferences', { lang: 'fr' })
    expect(update.setCookies).toEqual([])
    const logout = await client.post('/logout')
    expect(logout.setCookies).toHaveLength(1)
    const expired = parseSetCookie(logout.setCookies[0]!)
    expect(expired.name).toBe(SESSION_COOKIE)
    expect(expired.value).toBe('')
    expect(expired.maxAge).toBe(0)
    expect(logout.headers.get('clear-site-data')).toBe('"cookies"')
    expect(logout.headers.get('cache-control')).toBe('no-store')
  })

  it('a session revoked elsewhere while the call ran gets its cookie expired', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const response = await client.post('/revoked-mid-call')
    expect(response.status).toBe(200)
    expect(response.setCookies).toHaveLength(1)
    expect(parseSetCookie(response.setCookies[0]!)).toMatchObject({ name: SESSION_COOKIE, value: '', maxAge: 0 })
    expect(await client.cookie(SESSION_COOKIE)).toBeUndefined()
  })

  it('does not send Clear-Site-Data unless configured', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    expect((await client.post('/logout')).headers.get('clear-site-data')).toBeNull()
  })

  it('a login mints a new session id and destroys the previous one (fixation)', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const before = (await client.cookie(SESSION_COOKIE))!

    const relogin = await client.post('/login', ADMIN)
    expect(relogin.status).toBe(200)
    const after = (await client.cookie(SESSION_COOKIE))!
    expect(after).not.toBe(before)
    expect((await client.get('/profile')).body.userId).toBe('u-admin')

    // The pre-login session is gone from the store: the old cookie is worthless.
    expect(await app.store.get(hashSessionToken(before))).toBeUndefined()
    const replay = await app.client().get('/profile', { headers: { cookie: `${SESSION_COOKIE}=${before}` } })
    expect(replay.status).toBe(401)
  })

  it('a session planted by an attacker is replaced at login, not adopted', async () => {
    app = await start()
    const attacker = app.client()
    await attacker.post('/login', ADMIN)
    const planted = (await attacker.cookie(SESSION_COOKIE))!

    const victim = app.client()
    await victim.setCookie(SESSION_COOKIE, planted)
    await victim.post('/login', ALICE)
    const victimToken = (await victim.cookie(SESSION_COOKIE))!
    expect(victimToken).not.toBe(planted)
    // The attacker's copy of the planted id does not lead to the victim's session.
    const attackerView = await attacker.get('/profile')
    expect(attackerView.status).toBe(401)
    expect((await victim.get('/profile')).body.userId).toBe('u-alice')
  })

  it('responses without any session carry no Cache-Control and no cookie', async () => {
    app = await start()
    const response = await app.client().get('/public')
    expect(response.status).toBe(200)
    expect(response.body).toEqual({ greeting: 'hello', email: null })
    expect(response.headers.get('cache-control')).toBeNull()
    expect(response.setCookies).toEqual([])
  })

  it('a sessionless route sees the session when a cookie is present', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const response = await client.get('/public')
    expect(response.body.email).toBe('alice@example.com')
    expect(response.headers.get('cache-control')).toBe('no-store')
  })

  it('a store outage is 503, never "no session", on auth and sessionless routes', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    app.store.down = true
    const profile = await client.get('/profile')
    expect(profile.status).toBe(503)
    expect(profile.body.error.code).toBe('SERVICE_UNAVAILABLE')
    expect((await client.get('/public')).status).toBe(503)
    expect(profile.setCookies).toEqual([])
    app.store.down = false
    expect((await client.get('/profile')).status).toBe(200)
  })

  it('a store outage during login is 503 and sets no cookie', async () => {
    app = await start()
    app.store.down = true
    const login = await app.client().post('/login', ALICE)
    expect(login.status).toBe(503)
    expect(login.setCookies).toEqual([])
  })
})

describe('timeouts with an injected clock', () => {
  it('an idle session ends after the idle timeout', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    app.clock.advance(HOUR - MINUTE)
    expect((await client.get('/profile')).status).toBe(200)
    // That read renewed the idle timer: another almost-hour is fine.
    app.clock.advance(HOUR - MINUTE)
    expect((await client.get('/profile')).status).toBe(200)
    app.clock.advance(HOUR)
    expect((await client.get('/profile')).status).toBe(401)
  })

  it('an active session still ends at the absolute timeout', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    for (let elapsed = 0; elapsed < 8 * HOUR - 30 * MINUTE; elapsed += 30 * MINUTE) {
      app.clock.advance(30 * MINUTE)
      expect((await client.get('/profile')).status).toBe(200)
    }
    app.clock.advance(30 * MINUTE)
    const expired = await client.get('/profile')
    expect(expired.status).toBe(401)
  })

  it('a read-only request writes nothing to the store within the renewal interval, and one touch after it', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    expect(app.store.writes).toEqual(['set'])

    app.clock.advance(4 * MINUTE)
    await client.get('/profile')
    await client.get('/public')
    expect(app.store.writes).toEqual(['set'])

    app.clock.advance(2 * MINUTE)
    const renewed = await client.get('/profile')
    expect(renewed.status).toBe(200)
    expect(renewed.setCookies).toEqual([])
    expect(app.store.writes).toEqual(['set', 'touch'])

    await client.get('/profile')
    expect(app.store.writes).toEqual(['set', 'touch'])
  })

  it('an in-place update is one versioned write, and logout one delete', async () => {
    app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    await client.put('/preferences', { a: 1 })
    await client.post('/logout')
    expect(app.store.writes).toEqual(['set', 'update', 'delete'])
  })
})

describe('cookie configuration', () => {
  it('secure: false works over http and logs a warning once, when the first cookie is sent', async () => {
    app = await start({ http: { cookie: { secure: false } } })
    const warnings = () => app.logged.filter((line) => line.includes('secure is false'))
    expect(warnings()).toHaveLength(0)
    const login = await app.client().post('/login', ALICE)
    expect(parseSetCookie(login.setCookies[0]!).secure).toBeUndefined()
    expect(warnings()).toHaveLength(1)
    await app.client().post('/login', ALICE)
    expect(warnings()).toHaveLength(1)
  })

  it('secure is on unless turned off, with no warning', async () => {
    app = await start()
    expect(app.logged).toEqual([])
  })

  it('a browser-session cookie has no Max-Age when persistent is false', async () => {
    app = await start({ http: { cookie: { persistent: false } } })
    const login = await app.client().post('/login', ALICE)
    expect(parseSetCookie(login.setCookies[0]!).maxAge).toBeUndefined()
  })
})

describe('on a web-standard fetch runtime', () => {
  it('logs in, reads the session and logs out through Request/Response', async () => {
    const sessions = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }) })
    const fetchHandler = toFetchHandler(buildHandler({ strategy: createHTTPSessions({ sessions, jwt: { secrets: ['a-test-secret-that-is-long-enough-0001'] } }), sessions }))
    const login = await fetchHandler(new Request('https://app.example/login', { method: 'POST', body: JSON.stringify(ALICE), headers: { 'content-type': 'application/json' } }))
    expect(login.status).toBe(200)
    const setCookie = login.headers.getSetCookie()[0]!
    expect(setCookie).toMatch(/; HttpOnly; Secure; SameSite=Lax$/)
    const cookie = setCookie.split(';')[0]!
    const profile = await fetchHandler(new Request('https://app.example/profile', { headers: { cookie } }))
    expect(((await profile.json()) as { userId: string }).userId).toBe('u-alice')
    // A hand-made Request has no Host header; the CSRF check takes the own origin from the URL.
    const crossSite = await fetchHandler(new Request('https://app.example/logout', { method: 'POST', body: '{}', headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' } }))
    expect(crossSite.status).toBe(403)
    const logout = await fetchHandler(new Request('https://app.example/logout', { method: 'POST', body: '{}', headers: { cookie, origin: 'https://app.example', 'content-type': 'application/json' } }))
    expect(logout.status).toBe(200)
    expect((await fetchHandler(new Request('https://app.example/profile', { headers: { cookie } }))).status).toBe(401)
  })
})

describe('stored cookie sessions held in this process', () => {
  it('a session manager wrapper that replaces loadByToken (tracing, auditing) sees the load of every cookie request', async () => {
    const first = await start()
    const loads: string[] = []
    const traced = Object.create(first.sessions) as typeof first.sessions
    Object.assign(traced, {
      loadByToken: (token: string | undefined, options?: Parameters<typeof first.sessions.loadByToken>[1]) => {
        loads.push(options?.protocol ?? 'none')
        return first.sessions.loadByToken(token, options)
      },
    })
    app = await start({}, { clock: first.clock, store: first.store, sessions: traced })
    const client = app.client()
    expect((await client.post('/login', ALICE)).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(200)
    expect(loads).toEqual(['http', 'http'])
  })

  it('a session revoked through the manager is refused on the next request, though the store holds records in memory', async () => {
    app = await start()
    const client = app.client()
    expect((await client.post('/login', ALICE)).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(200)
    expect(await app.sessions.revokeUser('u-alice')).toBe(1)
    expect((await client.get('/profile')).status).toBe(401)
  })

  it('a store that went down answers 503, not the record it held a moment ago', async () => {
    app = await start()
    const client = app.client()
    expect((await client.post('/login', ALICE)).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(200)
    app.store.down = true
    expect((await client.get('/profile')).status).toBe(503)
  })
})
