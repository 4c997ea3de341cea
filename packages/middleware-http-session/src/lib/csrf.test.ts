import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveCsrfPolicy } from './csrf.js'
import { ADMIN, ALICE, MINUTE, SESSION_COOKIE, startStoredApp, type StoredApp } from './test-app.test-support.js'
import type { CookieClient } from './cookie-client.test-support.js'

const apps: StoredApp[] = []
const start = async (...args: Parameters<typeof startStoredApp>): Promise<StoredApp> => {
  const started = await startStoredApp(...args)
  apps.push(started)
  return started
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((running) => running.close()))
})

async function loggedIn(app: StoredApp): Promise<CookieClient> {
  const client = app.client()
  expect((await client.post('/login', ALICE)).status).toBe(200)
  return client
}

describe('CSRF defence for cookie-authenticated unsafe methods', () => {
  it('refuses a cross-site PUT (Sec-Fetch-Site) with 403 and a clear message, changing nothing', async () => {
    const app = await start()
    const client = await loggedIn(app)
    const response = await client.put('/preferences', { theme: 'evil' }, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
    expect(response.status).toBe(403)
    expect(response.body.error.code).toBe('FORBIDDEN')
    expect(response.body.error.message).toMatch(/^Cross-site request refused/)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect((await client.get('/profile')).body.preferences).toEqual({})
  })

  it('refuses a POST from a foreign Origin without fetch metadata', async () => {
    const app = await start()
    const client = await loggedIn(app)
    const response = await client.post('/logout', {}, { headers: { origin: 'https://evil.example' } })
    expect(response.status).toBe(403)
    expect(response.body.error.message).toContain('https://evil.example')
    expect((await client.get('/profile')).status).toBe(200)
  })

  it('refuses Origin: null (sandboxed frames, some redirects)', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.put('/preferences', {}, { headers: { origin: 'null' } })).status).toBe(403)
  })

  it('refuses a same-site (sibling subdomain) request whose origin is not allowed', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.put('/preferences', {}, { headers: { 'sec-fetch-site': 'same-site', origin: 'https://other.example.com' } })).status).toBe(403)
    expect((await client.put('/preferences', {}, { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403)
  })

  it('allows same-origin and user-initiated requests', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.put('/preferences', { a: 1 }, { headers: { 'sec-fetch-site': 'same-origin', origin: app.base } })).status).toBe(200)
    expect((await client.put('/preferences', { a: 2 }, { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200)
  })

  it('allows the request\'s own origin, derived from Host and the scheme', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.put('/preferences', { a: 1 }, { headers: { origin: app.base } })).status).toBe(200)
    // Another site is refused; the test server listens on 127.0.0.1, where any loopback page
    // (another port, another scheme) counts as local (the origin rule of @pikku/http).
    expect((await client.put('/preferences', { a: 1 }, { headers: { origin: 'http://evil.example' } })).status).toBe(403)
    expect((await client.put('/preferences', { a: 1 }, { headers: { origin: 'http://localhost:5173' } })).status).toBe(200)
  })

  it('on a loopback server, refuses a rebound Host even when Origin matches it (DNS rebinding)', async () => {
    const app = await start()
    const client = await loggedIn(app)
    const cookie = await client.jar.getCookieString(app.base)
    // fetch() always sends the URL's own Host; node:http sends the one given, as a rebound name would.
    const put = (host: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const body = JSON.stringify({ a: 1 })
        const req = request(`${app.base}/preferences`, { method: 'PUT', headers: { host, origin: `http://${host}`, cookie, 'content-type': 'application/json' } }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end(body)
      })
    expect(await put('evil.example:3000')).toBe(403)
    expect(await put(new URL(app.base).host)).toBe(200)
  })

  it('allows origins on the allow-list, even from another site', async () => {
    const app = await start({ http: { csrf: { allowedOrigins: ['https://app.example.com'] } } })
    const client = await loggedIn(app)
    const allowed = await client.put('/preferences', { a: 1 }, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' } })
    expect(allowed.status).toBe(200)
    const other = await client.put('/preferences', { a: 1 }, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
    expect(other.status).toBe(403)
  })

  it('allows a client that sends neither Origin nor Sec-Fetch-Site (not a browser)', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.put('/preferences', { a: 1 })).status).toBe(200)
  })

  it('does not apply to safe methods', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.get('/profile', { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })).status).toBe(200)
  })

  it('does not apply to bearer-token requests', async () => {
    const app = await start()
    const login = await app.client().post('/login', ALICE)
    const response = await app.client().put('/preferences', { a: 1 }, {
      headers: { authorization: `Bearer ${login.body.token}`, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    })
    expect(response.status).toBe(200)
  })

  it('does not apply to requests without a session cookie, or with a dead one', async () => {
    const app = await start()
    const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
    expect((await app.client().post('/public', {}, { headers: crossSite })).status).toBe(200)
    expect((await app.client().post('/public', {}, { headers: { ...crossSite, cookie: `${SESSION_COOKIE}=dead` } })).status).toBe(200)
  })

  it('refuses a cross-site login (login CSRF) before anything is stored', async () => {
    const app = await start()
    const response = await app.client().post('/login', ALICE, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } })
    expect(response.status).toBe(403)
    expect(response.setCookies).toEqual([])
    expect(app.store.writes).toEqual([])
    expect((await app.client().post('/login', ALICE, { headers: { origin: app.base } })).status).toBe(200)
  })

  it('can leave cross-site logins alone (checkLogin: false), or be turned off entirely', async () => {
    const loginAllowed = await start({ http: { csrf: { checkLogin: false } } })
    const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }
    const client = loginAllowed.client()
    expect((await client.post('/login', ALICE, { headers: crossSite })).status).toBe(200)
    expect((await client.put('/preferences', {}, { headers: crossSite })).status).toBe(403)

    const off = await start({ http: { csrf: false } })
    const offClient = off.client()
    expect((await offClient.post('/login', ALICE, { headers: crossSite })).status).toBe(200)
    expect((await offClient.put('/preferences', {}, { headers: crossSite })).status).toBe(200)
  })

  it('sets no cookie on a cross-site login that carries a junk bearer header (login CSRF cannot ride on it)', async () => {
    const app = await start()
    const browser = app.client()
    const response = await browser.post('/login', ALICE, {
      headers: { authorization: 'Bearer junk', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    })
    expect(response.setCookies).toEqual([])
    expect(await browser.cookie(SESSION_COOKIE)).toBeUndefined()
    // The browser is not logged in to anything by it.
    expect((await browser.get('/profile')).status).toBe(401)
  })

  it('gives a bearer client that logs in again a new token and no cookie, from any site', async () => {
    const app = await start()
    const first = await app.client().post('/login', ALICE)
    // A cross-origin single-page app the server's CORS lets send Authorization, switching user.
    const again = await app.client().post('/login', ADMIN, {
      headers: { authorization: `Bearer ${first.body.token}`, 'sec-fetch-site': 'cross-site', origin: 'https://spa.example' },
    })
    expect(again.status).toBe(200)
    expect(again.setCookies).toEqual([])
    expect(again.body.token).not.toBe(first.body.token)
    const profile = await app.client().get('/profile', { withoutJar: true, headers: { authorization: `Bearer ${again.body.token}` } })
    expect(profile.status).toBe(200)
    expect(profile.body.userId).toBe('u-admin')
  })

  it('refuses a cross-site GET that would log the user out (a link on another site), keeping the session', async () => {
    const app = await start()
    const client = await loggedIn(app)
    // A top-level navigation from another site: SameSite=Lax sends the cookie, the browser sends no Origin.
    const response = await client.get('/logout-link', { headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(403)
    expect(response.body.error.message).toMatch(/^Cross-site request refused/)
    expect(response.setCookies).toEqual([])
    expect(app.store.writes).toEqual(['set'])
    expect((await client.get('/profile')).status).toBe(200)
    // From the app's own pages the link works.
    expect((await client.get('/logout-link', { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
    expect((await client.get('/profile')).status).toBe(401)
  })

  it('refuses a cross-site GET that would log the visitor in, storing nothing', async () => {
    const app = await start()
    const browser = app.client()
    const response = await browser.get('/guest', { headers: { 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(403)
    expect(response.setCookies).toEqual([])
    expect(app.store.writes).toEqual([])
    const sameSite = await browser.get('/guest', { headers: { 'sec-fetch-site': 'same-origin' } })
    expect(sameSite.status).toBe(200)
    expect(sameSite.setCookies).toHaveLength(1)
  })

  it('refuses a cross-site GET that would change the session, storing nothing', async () => {
    const app = await start()
    const client = await loggedIn(app)
    expect((await client.get('/visit', { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    expect((await client.get('/visit', { headers: { origin: 'https://evil.example' } })).status).toBe(403)
    expect(app.store.writes).toEqual(['set'])
    expect((await client.get('/visit', { headers: { 'sec-fetch-site': 'same-origin' } })).body).toEqual({ visits: 1 })
  })

  it('keeps read-only GETs from other sites working, renewals included', async () => {
    const app = await start()
    const client = await loggedIn(app)
    const crossSite = { 'sec-fetch-site': 'cross-site' }
    expect((await client.get('/profile', { headers: crossSite })).status).toBe(200)
    // Past the renewal interval the read writes a touch: keeping a session alive is no change.
    app.clock.advance(10 * MINUTE)
    expect((await client.get('/profile', { headers: crossSite })).status).toBe(200)
    expect(app.store.writes).toEqual(['set', 'touch'])
  })

  it('leaves a session change on GET alone when the request carries a bearer token', async () => {
    const app = await start()
    const login = await app.client().post('/login', ALICE)
    const response = await app.client().get('/visit', { withoutJar: true, headers: { authorization: `Bearer ${login.body.token}`, 'sec-fetch-site': 'cross-site' } })
    expect(response.status).toBe(200)
  })

  it('validates the allow-list when created', () => {
    expect(() => resolveCsrfPolicy({ allowedOrigins: ['app.example.com'] }, 'csrf')).toThrow(/csrf.allowedOrigins\[0\] must be an origin/)
    expect(() => resolveCsrfPolicy({ allowedOrigins: ['https://app.example.com/path'] }, 'csrf')).toThrow(/did you mean "https:\/\/app.example.com"/)
    // One parser for every protocol: a default port or a trailing slash is normalized, not refused.
    expect(() => resolveCsrfPolicy({ allowedOrigins: ['https://app.example.com:443', 'https://b.example.com/'] }, 'csrf')).not.toThrow()
    expect(() => resolveCsrfPolicy({ allowedOrigins: ['https://app.example.com', 'http://localhost:5173'] }, 'csrf')).not.toThrow()
  })
})
