import { createMemoryStore, createSessionManager, type SessionLifecycleEvent } from '@pikku/core'
import { createTestClock, type TestClock } from '@pikku/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createStatelessJwtSessions, type StatelessJwtSessionsOptions } from './stateless-jwt-sessions.js'
import { decodePart, tamper, unsignedToken } from './forge-token.test-support.js'
import { ALICE, ADMIN, instrumentStore, MINUTE, SECRET_A, SECRET_B, serve, startStoredApp, type InstrumentedStore, type RunningServer, type TestSession } from './test-app.test-support.js'

interface StatelessApp extends RunningServer {
  clock: TestClock
  store: InstrumentedStore
}

const running: RunningServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function start(options: Partial<StatelessJwtSessionsOptions> = {}, clock = createTestClock()): Promise<StatelessApp> {
  // A store that is down: stateless sessions must never touch it.
  const store = instrumentStore(createMemoryStore<TestSession>({ clock: clock.now, sweepInterval: 0 }))
  store.down = true
  const sessions = createSessionManager<TestSession>({ store, clock: clock.now })
  const strategy = createStatelessJwtSessions({ secrets: [SECRET_A], clock: clock.now, ...options })
  const server = await serve({ strategy, sessions })
  running.push(server)
  return { ...server, clock, store }
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` }, withoutJar: true as const })

describe('stateless JWT sessions (opt-in)', () => {
  it('login returns a token carrying the session; no store and no cookie are involved', async () => {
    const app = await start()
    const login = await app.client().post('/login', ALICE)
    expect(login.status).toBe(200)
    expect(login.setCookies).toEqual([])
    const { token } = login.body
    expect(decodePart(token, 0)).toMatchObject({ alg: 'HS256', typ: 'pikku-stateless+jwt' })
    expect(decodePart(token, 1)).toMatchObject({ sub: 'u-alice', aud: 'pikku-stateless-session', ses: { userId: 'u-alice', email: 'alice@example.com' } })
    const profile = await app.client().get('/profile', bearer(token))
    expect(profile.status).toBe(200)
    expect(profile.body.email).toBe('alice@example.com')
    expect(profile.headers.get('cache-control')).toBe('no-store')
    expect(app.store.writes).toEqual([])
  })

  it('a change is reissued in the x-session-token header', async () => {
    const app = await start()
    const { token } = (await app.client().post('/login', ALICE)).body
    const update = await app.client().put('/preferences', { theme: 'dark' }, bearer(token))
    expect(update.status).toBe(200)
    const reissued = update.headers.get('x-session-token')!
    expect(reissued).toBeTruthy()
    expect((await app.client().get('/profile', bearer(reissued))).body.preferences).toEqual({ theme: 'dark' })
    expect((await app.client().get('/profile', bearer(token))).body.preferences).toEqual({})
    // The reissued token keeps the original login time.
    expect(decodePart(reissued, 1)['auth_time']).toBe(decodePart(token, 1)['auth_time'])
  })

  it('a read-only request within the first half of the lifetime reissues nothing', async () => {
    const app = await start()
    const { token } = (await app.client().post('/login', ALICE)).body
    app.clock.advance(29 * MINUTE)
    expect((await app.client().get('/profile', bearer(token))).headers.get('x-session-token')).toBeNull()
    app.clock.advance(2 * MINUTE)
    expect((await app.client().get('/profile', bearer(token))).headers.get('x-session-token')).toBeTruthy()
  })

  it('the trade-off: a token still works after logout until it expires', async () => {
    const app = await start()
    const { token } = (await app.client().post('/login', ALICE)).body
    const logout = await app.client().post('/logout', {}, bearer(token))
    expect(logout.status).toBe(200)
    expect(logout.headers.get('x-session-token')).toBeNull()
    expect((await app.client().get('/profile', bearer(token))).status).toBe(200)
    app.clock.advance(61 * MINUTE)
    const expired = await app.client().get('/profile', bearer(token))
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toMatch(/invalid_token/)
  })

  it('reissuing never extends a session past maxLifetime', async () => {
    const app = await start({ maxLifetime: 2 * 3600 })
    let { token } = (await app.client().post('/login', ALICE)).body
    for (const step of [40, 40, 39]) {
      app.clock.advance(step * MINUTE)
      const response = await app.client().get('/profile', bearer(token))
      expect(response.status).toBe(200)
      token = response.headers.get('x-session-token') ?? token
    }
    // Two hours after login, however fresh the last token is.
    expect(decodePart(token, 1)['exp']).toBe(decodePart(token, 1)['auth_time'] as number + 2 * 3600)
    app.clock.advance(1 * MINUTE)
    expect((await app.client().get('/profile', bearer(token))).status).toBe(401)
  })

  it('a new login in a call gets a new login time', async () => {
    const app = await start()
    const { token } = (await app.client().post('/login', ALICE)).body
    app.clock.advance(10 * MINUTE)
    const relogin = await app.client().post('/login', ADMIN, bearer(token))
    expect(decodePart(relogin.body.token, 1)['auth_time']).toBe(Math.floor(app.clock.now() / 1000))
    expect(decodePart(relogin.body.token, 1)['sub']).toBe('u-admin')
  })

  it('rotates keys: the first secret signs, all verify, a retired one is rejected', async () => {
    const clock = createTestClock()
    const oldApp = await start({ secrets: [SECRET_A] }, clock)
    const { token } = (await oldApp.client().post('/login', ALICE)).body
    const rotated = await start({ secrets: [SECRET_B, SECRET_A] }, clock)
    expect((await rotated.client().get('/profile', bearer(token))).status).toBe(200)
    const retired = await start({ secrets: [SECRET_B] }, clock)
    expect((await retired.client().get('/profile', bearer(token))).status).toBe(401)
    expect((await retired.client().get('/public', bearer(token))).body.email).toBeNull()
  })

  it('rejects tampered, unsigned and foreign tokens as "no session"', async () => {
    const app = await start()
    const { token } = (await app.client().post('/login', ALICE)).body
    const stored = await startStoredApp()
    running.push(stored)
    const storedToken = (await stored.client().post('/login', ALICE)).body.token as string
    for (const bad of [tamper(token, 1), tamper(token, 2), unsignedToken(decodePart(token, 1)), storedToken, 'junk']) {
      expect((await app.client().get('/profile', bearer(bad))).status).toBe(401)
      expect((await app.client().get('/public', bearer(bad))).status).toBe(200)
      // And the other way round: a stateless token never loads a stored session.
      expect((await stored.client().get('/profile', bearer(token))).status).toBe(401)
    }
  })

  it('authenticateToken and authenticate return the session a token carries', async () => {
    const clock = createTestClock()
    const strategy = createStatelessJwtSessions({ secrets: [SECRET_A], clock: clock.now })
    const app = await start({}, clock)
    const { token } = (await app.client().post('/login', ALICE)).body
    expect(await strategy.authenticateToken(token)).toMatchObject({ userId: 'u-alice' })
    expect(await strategy.authenticate((name) => (name === 'authorization' ? `Bearer ${token}` : undefined))).toMatchObject({ userId: 'u-alice' })
    expect(await strategy.authenticateToken('junk')).toBeUndefined()
  })

  it('reports each rejected token to onEvent as a refused bearer credential with its reason, never the token', async () => {
    const events: SessionLifecycleEvent[] = []
    const app = await start({ onEvent: (event) => void events.push(event), maxLifetime: 3600 })
    const { token } = (await app.client().post('/login', ALICE)).body
    expect((await app.client().get('/profile', bearer(token))).status).toBe(200)
    expect((await app.client().get('/profile', bearer(tamper(token, 2)))).status).toBe(401)
    expect((await app.client().get('/profile', bearer('junk'))).status).toBe(401)
    app.clock.advance(61 * MINUTE)
    expect((await app.client().get('/profile', bearer(token))).status).toBe(401)
    await new Promise((resolve) => setImmediate(resolve))
    expect(events.map((event) => event.type === 'refused' && [event.credential, event.reason, event.protocol, event.address])).toEqual([
      ['bearer', 'invalid', 'http', '127.0.0.1'],
      ['bearer', 'malformed', 'http', '127.0.0.1'],
      ['bearer', 'expired', 'http', '127.0.0.1'],
    ])
    expect(JSON.stringify(events)).not.toContain(token.split('.')[2])
  })

  it('is validated when created', () => {
    expect(() => createStatelessJwtSessions({ secrets: [SECRET_A], onEvent: 'log' as never })).toThrow('createStatelessJwtSessions: onEvent must be a function called with each session event; got string')
    expect(() => createStatelessJwtSessions({ secrets: [SECRET_A, 'short-secret'] })).toThrow('createStatelessJwtSessions.secrets[1] must be at least 32 bytes; got 12')
    expect(() => createStatelessJwtSessions({ secrets: [SECRET_A], maxLifetime: 0 })).toThrow(/maxLifetime must be a positive/)
    expect(() => createStatelessJwtSessions({ secrets: [SECRET_A], reissueHeader: 'bad header' })).toThrow(/reissueHeader must be a header name/)
  })
})
