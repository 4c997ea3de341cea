import { ServiceUnavailableError } from '@pikku/core'
import { hashSessionToken, SessionState } from '@pikku/core/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { createHTTPSessions } from './http-sessions.js'
import { decodePart, forgeToken } from './forge-token.test-support.js'
import { ADMIN, ALICE, HOUR, SECRET_A, SECRET_B, startStoredApp, type StoredApp, SESSION_COOKIE } from './test-app.test-support.js'

const apps: StoredApp[] = []
const start = async (...args: Parameters<typeof startStoredApp>): Promise<StoredApp> => {
  const started = await startStoredApp(...args)
  apps.push(started)
  return started
}
afterEach(async () => {
  await Promise.all(apps.splice(0).map((running) => running.close()))
})

const bearer = (token: string): { headers: Record<string, string>; withoutJar: true } => ({ headers: { authorization: `Bearer ${token}` }, withoutJar: true })

async function loginToken(app: StoredApp, user = ALICE): Promise<{ token: string; cookie: string }> {
  const client = app.client()
  const login = await client.post('/login', user)
  expect(login.status).toBe(200)
  return { token: login.body.token as string, cookie: (await client.cookie(SESSION_COOKIE))! }
}

describe('bearer tokens referencing stored sessions', () => {
  it('the token from login loads the same session without any cookie', async () => {
    const app = await start()
    const { token } = await loginToken(app)
    const profile = await app.client().get('/profile', bearer(token))
    expect(profile.status).toBe(200)
    expect(profile.body.userId).toBe('u-alice')
    expect(profile.headers.get('cache-control')).toBe('no-store')
    const update = await app.client().put('/preferences', { theme: 'light' }, bearer(token))
    expect(update.status).toBe(200)
    expect(update.setCookies).toEqual([])
    expect((await app.client().get('/profile', bearer(token))).body.preferences).toEqual({ theme: 'light' })
  })

  it('is an HS256 JWT with issuer, audience, type, key id, subject, session id and a one-hour expiry', async () => {
    const app = await start()
    const { token, cookie } = await loginToken(app)
    const header = decodePart(token, 0)
    const claims = decodePart(token, 1)
    expect(header).toMatchObject({ alg: 'HS256', typ: 'pikku-session+jwt' })
    expect(typeof header['kid']).toBe('string')
    expect(claims).toMatchObject({ iss: 'pikku', aud: 'pikku-session', sub: 'u-alice', sid: hashSessionToken(cookie) })
    expect((claims['exp'] as number) - (claims['iat'] as number)).toBe(3600)
    expect(claims['iat']).toBe(Math.floor(app.clock.now() / 1000))
    // The token names the session; it carries none of its data.
    expect(JSON.stringify(claims)).not.toContain('alice@example.com')
  })

  it('a cookie session can ask for a token, with extra claims', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const issued = await client.get('/token')
    expect(issued.status).toBe(200)
    expect(decodePart(issued.body.token, 1)['scope']).toBe('api')
    expect((await app.client().get('/profile', bearer(issued.body.token))).body.userId).toBe('u-alice')
  })

  it('logout with the cookie revokes the bearer token too', async () => {
    const app = await start()
    const client = app.client()
    const login = await client.post('/login', ALICE)
    expect((await client.post('/logout')).status).toBe(200)
    const replay = await app.client().get('/profile', bearer(login.body.token))
    expect(replay.status).toBe(401)
    expect(replay.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/)
  })

  it('logout with the bearer token ends the session and expires a cookie naming the same session', async () => {
    const app = await start()
    const client = app.client()
    const login = await client.post('/login', ALICE)
    const logout = await client.post('/logout', {}, { headers: { authorization: `Bearer ${login.body.token}` } })
    expect(logout.status).toBe(200)
    expect(logout.setCookies.some((line) => line.startsWith(`${SESSION_COOKIE}=;`))).toBe(true)
    expect((await app.client().get('/profile', bearer(login.body.token))).status).toBe(401)
  })

  it('a bearer logout leaves a cookie that names another session alone', async () => {
    const app = await start()
    const { token } = await loginToken(app, ADMIN)
    const client = app.client()
    await client.post('/login', ALICE)
    const logout = await client.post('/logout', {}, { headers: { authorization: `Bearer ${token}` } })
    expect(logout.status).toBe(200)
    expect(logout.setCookies).toEqual([])
    expect((await client.get('/profile')).body.userId).toBe('u-alice')
  })

  it('"log out everywhere" (revokeUser) revokes every token and cookie of the user', async () => {
    const app = await start()
    const first = await loginToken(app)
    const second = await loginToken(app)
    const other = await loginToken(app, ADMIN)
    const ended = await app.client().post('/logout-everywhere', {}, bearer(first.token))
    expect(ended.body).toEqual({ ended: 2 })
    expect((await app.client().get('/profile', bearer(first.token))).status).toBe(401)
    expect((await app.client().get('/profile', bearer(second.token))).status).toBe(401)
    expect((await app.client().get('/profile', { withoutJar: true, headers: { cookie: `${SESSION_COOKIE}=${second.cookie}` } })).status).toBe(401)
    expect((await app.client().get('/profile', bearer(other.token))).status).toBe(200)
  })

  it('an expired token is rejected while its session lives on', async () => {
    const app = await start({ manager: { idleTimeout: 4 * HOUR } })
    const { token, cookie } = await loginToken(app)
    app.clock.advance(HOUR + 6_000)
    const expired = await app.client().get('/profile', bearer(token))
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toMatch(/invalid_token/)
    expect((await app.client().get('/profile', { withoutJar: true, headers: { cookie: `${SESSION_COOKIE}=${cookie}` } })).status).toBe(200)
  })

  it('a token already used (and remembered as verified) is still rejected once it expires', async () => {
    const app = await start({ manager: { idleTimeout: 4 * HOUR } })
    const { token } = await loginToken(app)
    expect((await app.client().get('/profile', bearer(token))).status).toBe(200)
    app.clock.advance(HOUR - 60_000)
    expect((await app.client().get('/profile', bearer(token))).status).toBe(200)
    app.clock.advance(2 * 60_000)
    const expired = await app.client().get('/profile', bearer(token))
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toMatch(/invalid_token/)
  })

  it('a token never outlives its session', async () => {
    const app = await start({ manager: { idleTimeout: 30 * 60_000, renewalInterval: 60_000 }, http: { jwt: { secrets: [SECRET_A], expiresIn: 4 * 3600 } } })
    const { token } = await loginToken(app)
    app.clock.advance(31 * 60_000)
    expect((await app.client().get('/profile', bearer(token))).status).toBe(401)
  })

  it('a token must name the session of its own subject', async () => {
    const app = await start()
    const { cookie } = await loginToken(app)
    const now = Math.floor(app.clock.now() / 1000)
    const borrowed = await forgeToken({
      secret: SECRET_A,
      payload: { iss: 'pikku', aud: 'pikku-session', sub: 'u-admin', sid: hashSessionToken(cookie), iat: now, exp: now + 60 },
    })
    expect((await app.client().get('/profile', bearer(borrowed))).status).toBe(401)
    const own = await forgeToken({
      secret: SECRET_A,
      payload: { iss: 'pikku', aud: 'pikku-session', sub: 'u-alice', sid: hashSessionToken(cookie), iat: now, exp: now + 60 },
    })
    expect((await app.client().get('/profile', bearer(own))).status).toBe(200)
  })

  it('a 401 without any credential challenges with WWW-Authenticate: Bearer', async () => {
    const app = await start()
    const response = await app.client().get('/profile')
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
  })
})

describe('key rotation', () => {
  it('the first secret signs, all verify, and a retired secret is "no session"', async () => {
    const appA = await start({ http: { jwt: { secrets: [SECRET_A] } } })
    const { token: oldToken } = await loginToken(appA)

    const appBA = await appA.restart({ jwt: { secrets: [SECRET_B, SECRET_A] } })
    apps.push(appBA)
    expect((await appBA.client().get('/profile', bearer(oldToken))).status).toBe(200)
    const issued = await appBA.client().get('/token', bearer(oldToken))
    const newToken = issued.body.token as string
    expect(decodePart(newToken, 0)['kid']).not.toBe(decodePart(oldToken, 0)['kid'])
    expect((await appBA.client().get('/profile', bearer(newToken))).status).toBe(200)
    // A server still on the old secret alone does not know the new key.
    expect((await appA.client().get('/profile', bearer(newToken))).status).toBe(401)

    const appB = await appA.restart({ jwt: { secrets: [SECRET_B] } })
    apps.push(appB)
    const retired = await appB.client().get('/profile', bearer(oldToken))
    expect(retired.status).toBe(401)
    expect(retired.headers.get('www-authenticate')).toMatch(/invalid_token/)
    expect((await appB.client().get('/public', bearer(oldToken))).body.email).toBeNull()
    expect((await appB.client().get('/profile', bearer(newToken))).status).toBe(200)
  })

  it('a token whose kid names a retired key is rejected even if the signature would match a current key', async () => {
    const app = await start({ http: { jwt: { secrets: [SECRET_B] } } })
    const { cookie } = await loginToken(app)
    const now = Math.floor(app.clock.now() / 1000)
    const token = await forgeToken({ secret: SECRET_B, kid: 'not-a-known-key', payload: { iss: 'pikku', aud: 'pikku-session', sub: 'u-alice', sid: hashSessionToken(cookie), iat: now, exp: now + 60 } })
    expect((await app.client().get('/profile', bearer(token))).status).toBe(401)
  })
})

describe('several credentials at once', () => {
  it('a presented bearer token wins over the cookie', async () => {
    const app = await start()
    const { token: adminToken } = await loginToken(app, ADMIN)
    const client = app.client()
    await client.post('/login', ALICE)
    expect((await client.get('/profile', { headers: { authorization: `Bearer ${adminToken}` } })).body.userId).toBe('u-admin')
    expect((await client.get('/profile')).body.userId).toBe('u-alice')
  })

  it('a bad bearer token is used exclusively: no fallback to the cookie', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const profile = await client.get('/profile', { headers: { authorization: 'Bearer not-a-token' } })
    expect(profile.status).toBe(401)
    expect(profile.headers.get('www-authenticate')).toMatch(/invalid_token/)
    expect((await client.get('/public', { headers: { authorization: 'Bearer not-a-token' } })).body.email).toBeNull()
  })

  it('another Authorization scheme is ignored: the cookie is used, or no session', async () => {
    const app = await start()
    const client = app.client()
    const basic = { authorization: 'Basic YWxpY2U6c2VjcmV0' }
    const anonymous = await client.get('/public', { headers: basic })
    expect(anonymous.status).toBe(200)
    expect(anonymous.body.email).toBeNull()
    const denied = await client.get('/profile', { headers: basic })
    expect(denied.status).toBe(401)
    expect(denied.headers.get('www-authenticate')).toBe('Bearer')
    await client.post('/login', ALICE)
    expect((await client.get('/profile', { headers: basic })).body.userId).toBe('u-alice')
  })

  it('the bearer scheme name is case-insensitive', async () => {
    const app = await start()
    const { token } = await loginToken(app)
    expect((await app.client().get('/profile', { withoutJar: true, headers: { authorization: `bEaReR ${token}` } })).status).toBe(200)
  })
})

describe('authenticate and authenticateToken (for WebSocket upgrades, MCP, CLI)', () => {
  it('authenticates raw headers with the same precedence as the middleware', async () => {
    const app = await start()
    const alice = await loginToken(app)
    const admin = await loginToken(app, ADMIN)
    const headers = (values: Record<string, string>) => (name: string) => values[name]
    expect(await app.httpSessions.authenticate(headers({}))).toBeUndefined()
    const byCookie = await app.httpSessions.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}` }))
    expect(byCookie).toMatchObject({ via: 'cookie', record: { userId: 'u-alice' } })
    const both = await app.httpSessions.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}`, authorization: `Bearer ${admin.token}` }))
    expect(both).toMatchObject({ via: 'bearer', record: { userId: 'u-admin' } })
    expect(await app.httpSessions.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}`, authorization: 'Bearer junk' }))).toBeUndefined()
    expect(await app.httpSessions.authenticate(headers({ cookie: `${SESSION_COOKIE}=junk` }))).toBeUndefined()
  })

  it('verifies one token, and rejects with ServiceUnavailableError when the store is down', async () => {
    const app = await start()
    const { token } = await loginToken(app)
    expect(await app.httpSessions.authenticateToken(token)).toMatchObject({ userId: 'u-alice' })
    expect(await app.httpSessions.authenticateToken('junk')).toBeUndefined()
    app.store.down = true
    await expect(app.httpSessions.authenticateToken(token)).rejects.toBeInstanceOf(ServiceUnavailableError)
    await expect(app.httpSessions.authenticate((name) => (name === 'authorization' ? `Bearer ${token}` : undefined))).rejects.toBeInstanceOf(ServiceUnavailableError)
  })

  it('a store outage while checking a bearer token is 503', async () => {
    const app = await start()
    const { token } = await loginToken(app)
    app.store.down = true
    expect((await app.client().get('/public', bearer(token))).status).toBe(503)
  })

  it('jwt.sign() without a session fails with a message that says what to do', async () => {
    const app = await start()
    await expect(app.httpSessions.jwtFor(new SessionState()).sign()).rejects.toThrow(/needs a stored session in this call: call session.set\(\) first/)
  })

  it('jwt.sign() refuses to override the session claims', async () => {
    const app = await start()
    const client = app.client()
    await client.post('/login', ALICE)
    const state = app.sessions.createState((await app.sessions.loadByToken((await client.cookie(SESSION_COOKIE))!))!)
    await expect(app.httpSessions.jwtFor(state).sign({ sub: 'u-admin' })).rejects.toThrow(/the claim 'sub' is set by the session/)
  })

  it('without jwt options, tokens are off: signing says how to turn them on, no token is accepted', async () => {
    const app = await start({ http: { jwt: false } })
    const login = await app.client().post('/login', ALICE)
    expect(login.status).toBe(200)
    expect(login.body.token).toBeUndefined()
    const state = app.sessions.createState((await app.sessions.loadByToken((await app.client().post('/login', ALICE)).setCookies[0]!.split(/[=;]/)[1]))!)
    await expect(app.httpSessions.jwtFor(state).sign()).rejects.toThrow(/pass jwt: \{ secrets/)
    expect(await app.httpSessions.authenticateToken('x')).toBeUndefined()
    // A bearer header is then just another unknown scheme.
    expect((await app.client().get('/public', { headers: { authorization: 'Bearer x' } })).status).toBe(200)
  })

  it('bearer-only configuration (cookie: false) sets no cookie', async () => {
    const app = await start({ http: { cookie: false } })
    expect(app.httpSessions.cookieName).toBeUndefined()
    const login = await app.client().post('/login', ALICE)
    expect(login.setCookies).toEqual([])
    expect((await app.client().get('/profile', bearer(login.body.token))).status).toBe(200)
  })

  it('is usable on its own, outside any server', () => {
    expect(() => createHTTPSessions({ sessions: undefined as never })).toThrow(/needs \{ sessions \}/)
  })
})
