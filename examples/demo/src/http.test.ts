import { createMemoryStore } from '@pikku/core'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN, ALICE, startHarness, type Harness } from './demo-harness.test-support.js'
import type { UserSession } from './types.js'

let harness: Harness

beforeAll(async () => {
  harness = await startHarness()
})

afterAll(async () => {
  await harness.close()
})

afterEach(() => {
  harness.log.length = 0
})

describe('the demo over HTTP with a cookie jar', () => {
  it('logs in, reads the profile, updates preferences, logs out, and the replayed cookie gets 401', async () => {
    const browser = harness.client()
    const login = await browser.request('POST', '/login', { body: ALICE })
    expect(login.status).toBe(200)
    expect(login.body.user).toEqual({ id: 'user-alice', email: ALICE.email, role: 'user' })
    expect(typeof login.body.token).toBe('string')
    const cookieHeader = await browser.jar.getCookieString(harness.demo.url)
    expect(cookieHeader).not.toBe('')

    const profile = await browser.request('GET', '/profile')
    expect(profile.status).toBe(200)
    expect(profile.body).toMatchObject({ id: 'user-alice', email: ALICE.email, role: 'user', preferences: {} })

    const update = await browser.request('PUT', '/preferences', { body: { theme: 'dark' } })
    expect(update.status).toBe(200)
    const after = await browser.request('GET', '/profile')
    expect(after.body.preferences).toEqual({ theme: 'dark' })
    const [stored] = await harness.app.sessions.listUserSessions('user-alice')
    expect(stored?.data.preferences).toEqual({ theme: 'dark' })

    const logout = await browser.request('POST', '/logout')
    expect(logout.status).toBe(200)
    expect(logout.body).toEqual({ success: true })
    expect((await browser.request('GET', '/profile')).status).toBe(401)

    const replay = await fetch(`${harness.demo.url}/profile`, { headers: { cookie: cookieHeader } })
    expect(replay.status).toBe(401)
  })

  it('refuses wrong credentials with 401 and a malformed login with 400', async () => {
    const browser = harness.client()
    const wrong = await browser.request('POST', '/login', { body: { email: ALICE.email, password: 'nope' } })
    expect(wrong.status).toBe(401)
    expect(wrong.body.error).toEqual({ code: 'UNAUTHORIZED', message: 'Invalid credentials' })
    expect((await browser.request('POST', '/login', { body: { email: 'not-an-email' } })).status).toBe(400)
    expect((await browser.request('POST', '/login', { body: '{"email":' })).status).toBe(400)
  })

  it('refuses a login with the credentials in the URL with 400, starting no session and logging no password', async () => {
    const browser = harness.client()
    const before = (await harness.app.sessions.listUserSessions('user-alice')).length
    const query = `?email=${encodeURIComponent(ALICE.email)}&password=${encodeURIComponent(ALICE.password)}`
    for (const path of ['/login', '/rpc/login']) {
      // Credentials only in the URL, and in the URL as well as the body: both refused.
      for (const body of [undefined, ALICE]) {
        const response = await browser.request('POST', `${path}${query}`, body === undefined ? {} : { body })
        expect(response.status).toBe(400)
        expect(response.body.error.code).toBe('BAD_REQUEST')
        expect(response.body.error.message).toMatch(/takes no query parameters; send "email", "password" in the JSON body instead\. URLs are kept in access logs/)
        expect(JSON.stringify(response.body)).not.toContain(ALICE.password)
        expect(response.headers.getSetCookie()).toEqual([])
      }
    }
    expect(await browser.jar.getCookieString(harness.demo.url)).toBe('')
    expect(await harness.app.sessions.listUserSessions('user-alice')).toHaveLength(before)
    expect(harness.log).toHaveLength(4)
    for (const line of harness.log) {
      expect(line).toMatch(/^POST \/(rpc\/)?login 400 .*BAD_REQUEST$/)
      expect(line).not.toContain(ALICE.password)
    }
    // The same login with the credentials in the body works.
    expect((await browser.request('POST', '/login', { body: ALICE })).status).toBe(200)
  })

  it('answers /profile without a session with 401', async () => {
    expect((await harness.client().request('GET', '/profile')).status).toBe(401)
  })

  it('personalises /public when a session is present', async () => {
    const browser = harness.client()
    const anonymous = await browser.request('GET', '/public')
    expect(anonymous.status).toBe(200)
    expect(anonymous.body.email).toBeUndefined()
    await browser.request('POST', '/login', { body: ADMIN })
    const personal = await browser.request('GET', '/public')
    expect(personal.body.email).toBe(ADMIN.email)
  })

  it('accepts the bearer token from login, and logout revokes it', async () => {
    const app = harness.client()
    const login = await app.request('POST', '/login', { body: ALICE, cookies: false })
    const bearer = { authorization: `Bearer ${login.body.token}` }
    const profile = await app.request('GET', '/profile', { headers: bearer, cookies: false })
    expect(profile.status).toBe(200)
    expect(profile.body.email).toBe(ALICE.email)
    const put = await app.request('PUT', '/preferences', { headers: bearer, cookies: false, body: { language: 'fi' } })
    expect(put.status).toBe(200)
    expect((await app.request('POST', '/logout', { headers: bearer, cookies: false })).status).toBe(200)
    const revoked = await app.request('GET', '/profile', { headers: bearer, cookies: false })
    expect(revoked.status).toBe(401)
    expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer/)
  })

  it('serves every function at POST /rpc/<name> too', async () => {
    const app = harness.client()
    const login = await app.request('POST', '/rpc/login', { body: ALICE, cookies: false })
    expect(login.status).toBe(200)
    const profile = await app.request('POST', '/rpc/getProfile', { headers: { authorization: `Bearer ${login.body.token}` }, cookies: false })
    expect(profile.body.email).toBe(ALICE.email)
  })

  it('logs one line per request', async () => {
    await harness.client().request('GET', '/public')
    await harness.client().request('GET', '/profile')
    expect(harness.log).toEqual([expect.stringMatching(/^GET \/public 200 /), expect.stringMatching(/^GET \/profile 401 .*UNAUTHORIZED$/)])
  })

  it('marks session-dependent responses as not cacheable', async () => {
    const browser = harness.client()
    await browser.request('POST', '/login', { body: ALICE })
    const profile = await browser.request('GET', '/profile')
    expect(profile.headers.get('cache-control')).toBe('no-store')
  })

  it('never answers random credentials and bodies with a 5xx', async () => {
    const routes = [
      ['POST', '/login'],
      ['POST', '/logout'],
      ['GET', '/profile'],
      ['GET', '/public'],
      ['PUT', '/preferences'],
    ] as const
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
        fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }).map((s) => `Bearer ${s}`)), { nil: undefined }),
        fc.option(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })), { nil: undefined }),
        async ([method, path], cookie, authorization, body) => {
          const headers: Record<string, string> = {}
          // Header values must be ByteStrings without control characters, or fetch itself refuses.
          const clean = (value: string) => value.replace(/[^\x20-\x7e]/g, '')
          if (cookie !== undefined) headers['cookie'] = clean(cookie)
          if (authorization !== undefined) headers['authorization'] = clean(authorization)
          const response = await fetch(`${harness.demo.url}${path}`, {
            method,
            headers: { ...headers, 'content-type': 'application/json', origin: harness.demo.url },
            body: method === 'GET' ? undefined : body,
          })
          await response.text()
          expect(response.status).toBeLessThan(500)
        },
      ),
      { numRuns: 120 },
    )
  })
})

describe('the demo shuts down cleanly', () => {
  it('lets an in-flight login finish before closing', async () => {
    const store = createMemoryStore<UserSession>({ sweepInterval: 0 })
    let closing: Promise<void> | undefined
    const own = await startHarness({
      store: {
        ...store,
        async set(record) {
          // Shutdown starts while this login is being persisted, i.e. mid-request.
          closing ??= own.close()
          await new Promise((resolve) => setImmediate(resolve))
          return store.set(record)
        },
      },
    })
    const response = await fetch(`${own.demo.url}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ALICE) })
    expect(response.status).toBe(200)
    expect(closing).toBeDefined()
    await closing
    await expect(fetch(`${own.demo.url}/public`)).rejects.toThrow()
  })
})
