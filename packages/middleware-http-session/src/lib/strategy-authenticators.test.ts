import {
  type Authentication,
  type CredentialInput,
  createSessionManager,
  createMemoryStore,
  ServiceUnavailableError,
  type UserSession,
} from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { createEncryptedCookieSessions } from './encrypted-cookie-sessions.js'
import { createStatelessJwtSessions } from './stateless-jwt-sessions.js'
import { decodePart, forgeToken, tamper } from './forge-token.test-support.js'
import { ADMIN, ALICE, HOUR, MINUTE, SECRET_A, SECRET_B, SESSION_COOKIE, serve, startStoredApp, type RunningServer, type StoredApp, type TestSession } from './test-app.test-support.js'

const running: RunningServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})
const start = async (...args: Parameters<typeof startStoredApp>): Promise<StoredApp> => {
  const app = await startStoredApp(...args)
  running.push(app)
  return app
}

const headers = (values: Record<string, string>): CredentialInput => ({ header: (name) => values[name] })
const refused = (credential: string, reason: string): Authentication<UserSession> => ({ outcome: 'refused', credential, reason })

async function login(app: StoredApp, user = ALICE): Promise<{ token: string; cookie: string; sid: string }> {
  const client = app.client()
  const response = await client.post('/login', user)
  const token = response.body.token as string
  return { token, cookie: (await client.cookie(SESSION_COOKIE))!, sid: decodePart(token, 1)['sid'] as string }
}

describe('createHTTPSessions: its authenticator answers for other protocols as its middleware reads', () => {
  it('finds the stored session of a cookie, of a bearer header and of a bare bearer token', async () => {
    const app = await start()
    const alice = await login(app)
    const { authenticator } = app.httpSessions
    expect(await authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}` }))).toMatchObject({
      outcome: 'stored',
      credential: 'cookie',
      record: { id: alice.sid, userId: 'u-alice' },
    })
    expect(await authenticator.authenticate(headers({ authorization: `Bearer ${alice.token}` }))).toMatchObject({ outcome: 'stored', credential: 'bearer', record: { id: alice.sid } })
    expect(await authenticator.authenticate({ token: alice.token })).toMatchObject({ outcome: 'stored', credential: 'bearer', record: { id: alice.sid } })
    expect(authenticator.cookieNames).toEqual([SESSION_COOKIE])
  })

  it('answers none when no credential of its kinds is offered', async () => {
    const app = await start()
    const { authenticator } = app.httpSessions
    expect(await authenticator.authenticate(headers({}))).toEqual({ outcome: 'none' })
    expect(await authenticator.authenticate(headers({ authorization: 'Basic YWxpY2U6cHc=', cookie: 'other=1' }))).toEqual({ outcome: 'none' })
  })

  it('a bearer token is used exclusively: a bad one is refused even next to a good cookie', async () => {
    const app = await start()
    const alice = await login(app)
    const admin = await login(app, ADMIN)
    const { authenticator } = app.httpSessions
    expect(await authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}`, authorization: `Bearer ${admin.token}` }))).toMatchObject({
      outcome: 'stored',
      credential: 'bearer',
      record: { userId: 'u-admin' },
    })
    expect(await authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}`, authorization: 'Bearer junk' }))).toEqual(refused('bearer', 'malformed'))
  })

  it('says why a bearer token was refused: malformed, invalid, expired, unknown session, or not the session owner', async () => {
    const app = await start()
    const alice = await login(app)
    const admin = await login(app, ADMIN)
    const { authenticator } = app.httpSessions
    const check = (token: string) => authenticator.authenticate({ token })
    expect(await check('')).toEqual(refused('bearer', 'malformed'))
    expect(await check('x'.repeat(9000))).toEqual(refused('bearer', 'malformed'))
    expect(await check('not-a-jwt')).toEqual(refused('bearer', 'malformed'))
    expect(await check(tamper(alice.token, 2))).toEqual(refused('bearer', 'invalid'))
    expect(await authenticator.authenticate(headers({ authorization: 'Bearer' }))).toEqual(refused('bearer', 'malformed'))
    // Correctly signed, but its subject is not the owner of the session it names.
    const now = Math.floor(app.clock.now() / 1000)
    const borrowed = await forgeToken({ secret: SECRET_A, payload: { sub: 'u-admin', sid: alice.sid, iss: 'pikku', aud: 'pikku-session', iat: now, exp: now + 60 } })
    expect(await check(borrowed)).toEqual(refused('bearer', 'subject-mismatch'))
    const noSid = await forgeToken({ secret: SECRET_A, payload: { sub: 'u-alice', iss: 'pikku', aud: 'pikku-session', iat: now, exp: now + 60 } })
    expect(await check(noSid)).toEqual(refused('bearer', 'invalid'))
    // A session that ended (logout) leaves its still-valid token naming nothing.
    await app.client().post('/logout', {}, { headers: { authorization: `Bearer ${admin.token}` }, withoutJar: true })
    expect(await check(admin.token)).toEqual(refused('bearer', 'unknown-session'))
    app.clock.advance(2 * HOUR)
    expect(await check(alice.token)).toEqual(refused('bearer', 'expired'))
  })

  it('says why a cookie was refused: not a session token, or no live session', async () => {
    const app = await start()
    const { authenticator } = app.httpSessions
    expect(await authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=junk` }))).toEqual(refused('cookie', 'malformed'))
    expect(await authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${'A'.repeat(43)}` }))).toEqual(refused('cookie', 'unknown-session'))
    // Of duplicates, none verified: the cookie is refused once.
    expect(await authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${'A'.repeat(43)}; ${SESSION_COOKIE}=${'B'.repeat(43)}` }))).toEqual(
      refused('cookie', 'unknown-session'),
    )
  })

  it('reads no bare token when bearer tokens are off, and never takes the cookie’s opaque token as one', async () => {
    const cookieOnly = await start({ http: { jwt: false } })
    const alice = await cookieOnly.client().post('/login', ALICE)
    const opaque = alice.setCookies[0]!.split(/[=;]/)[1]!
    expect(await cookieOnly.httpSessions.authenticator.authenticate({ token: opaque })).toEqual({ outcome: 'none' })
    expect(await cookieOnly.httpSessions.authenticator.authenticate(headers({ authorization: `Bearer ${opaque}` }))).toEqual({ outcome: 'none' })
    const withJwt = await start()
    const { cookie } = await login(withJwt)
    expect((await withJwt.httpSessions.authenticator.authenticate({ token: cookie })).outcome).toBe('refused')
    expect((await start({ http: { cookie: false } })).httpSessions.authenticator.cookieNames).toEqual([])
  })

  it('rejects with ServiceUnavailableError while the store is down: an outage is never "no session"', async () => {
    const app = await start()
    const alice = await login(app)
    app.store.down = true
    await expect(app.httpSessions.authenticator.authenticate({ token: alice.token })).rejects.toBeInstanceOf(ServiceUnavailableError)
    await expect(app.httpSessions.authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${alice.cookie}` }))).rejects.toBeInstanceOf(ServiceUnavailableError)
  })

  it('rejects an input that is neither headers nor a token, saying what to pass', async () => {
    const app = await start()
    await expect(app.httpSessions.authenticator.authenticate({} as CredentialInput)).rejects.toThrow(/takes \{ header: \(name\) => string \| undefined \}.*or \{ token: string \}/)
    await expect(app.httpSessions.authenticator.authenticate(null as unknown as CredentialInput)).rejects.toBeInstanceOf(TypeError)
  })

  it('agrees with the middleware on every mix of cookies and Authorization headers', async () => {
    const app = await start()
    const alice = await login(app)
    const admin = await login(app, ADMIN)
    const cookieValue = fc.constantFrom(alice.cookie, 'A'.repeat(43), 'junk', '')
    const cookie = fc.option(
      fc.array(fc.tuple(fc.constantFrom(SESSION_COOKIE, 'pikku-session', 'other'), cookieValue), { minLength: 1, maxLength: 3 }).map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('; ')),
      { nil: undefined },
    )
    const authorization = fc.option(fc.constantFrom(`Bearer ${admin.token}`, `Bearer ${tamper(admin.token, 1)}`, 'Bearer', 'Basic abc', `bearer ${alice.token}`), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(cookie, authorization, async (cookieHeader, authorizationHeader) => {
        const values: Record<string, string> = {}
        if (cookieHeader !== undefined) values['cookie'] = cookieHeader
        if (authorizationHeader !== undefined) values['authorization'] = authorizationHeader
        const found = await app.httpSessions.authenticator.authenticate(headers(values))
        const response = await app.client().get('/profile', { headers: values, withoutJar: true })
        expect(response.status).toBe(found.outcome === 'stored' ? 200 : 401)
        if (found.outcome === 'stored') expect(response.body.userId).toBe(found.record.userId)
      }),
      { numRuns: 60 },
    )
  })

  it('never names the credential it refused, whatever a client sends', async () => {
    const app = await start()
    const token = fc.string({ minLength: 8, maxLength: 120 }).filter((value) => value.trim() === value && !/[\r\n]/.test(value))
    await fc.assert(
      fc.asyncProperty(token, fc.constantFrom('token', 'bearer', 'cookie'), async (value, form) => {
        const input: CredentialInput =
          form === 'token' ? { token: value } : headers(form === 'bearer' ? { authorization: `Bearer ${value}` } : { cookie: `${SESSION_COOKIE}=${value}` })
        const found = await app.httpSessions.authenticator.authenticate(input)
        expect(['none', 'refused']).toContain(found.outcome)
        expect(JSON.stringify(found)).not.toContain(value)
        if (found.outcome === 'refused') expect(found.reason).toMatch(/^[a-z-]{1,20}$/)
      }),
      { numRuns: 200 },
    )
  })
})

describe('createStatelessJwtSessions: its tokens are transient sessions for other protocols', () => {
  async function setup(options: { maxLifetime?: number } = {}) {
    const clock = createTestClock()
    const strategy = createStatelessJwtSessions({ secrets: [SECRET_A], clock: clock.now, ...options })
    const server = await serve({ strategy, sessions: createSessionManager<TestSession>({ store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), clock: clock.now }) })
    running.push(server)
    const token = (await server.client().post('/login', ALICE)).body.token as string
    return { clock, strategy, token }
  }

  it('finds the session a token carries, from a header or a bare token, as transient', async () => {
    const { strategy, token } = await setup()
    const expected = { outcome: 'transient', credential: 'bearer', session: { userId: 'u-alice', email: 'alice@example.com' } }
    expect(await strategy.authenticator.authenticate(headers({ authorization: `Bearer ${token}` }))).toMatchObject(expected)
    expect(await strategy.authenticator.authenticate({ token })).toMatchObject(expected)
    expect(await strategy.authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=x` }))).toEqual({ outcome: 'none' })
    expect(strategy.authenticator.cookieNames).toEqual([])
  })

  it('says why a token was refused', async () => {
    const { clock, strategy, token } = await setup({ maxLifetime: 1800 })
    expect(await strategy.authenticator.authenticate(headers({ authorization: 'Bearer ' }))).toEqual(refused('bearer', 'malformed'))
    expect(await strategy.authenticator.authenticate({ token: tamper(token, 1) })).toEqual(refused('bearer', 'invalid'))
    // A stored-session JWT is another kind of token: its own type, audience and key.
    const stored = await start()
    expect(await strategy.authenticator.authenticate({ token: (await login(stored)).token })).toEqual(refused('bearer', 'invalid'))
    clock.advance(30 * MINUTE)
    expect(await strategy.authenticator.authenticate({ token })).toEqual(refused('bearer', 'expired'))
  })
})

describe('createEncryptedCookieSessions: its cookie is a transient session for other protocols', () => {
  async function setup() {
    const clock = createTestClock()
    const strategy = createEncryptedCookieSessions({ secrets: [SECRET_A], clock: clock.now, idleTimeout: HOUR })
    const server = await serve({ strategy, sessions: createSessionManager<TestSession>({ store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), clock: clock.now }) })
    running.push(server)
    const client = server.client()
    await client.post('/login', ALICE)
    return { clock, strategy, cookie: (await client.cookie(SESSION_COOKIE))! }
  }

  it('finds the session in the cookie as transient, and reads no bare token', async () => {
    const { strategy, cookie } = await setup()
    expect(await strategy.authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${cookie}` }))).toMatchObject({
      outcome: 'transient',
      credential: 'cookie',
      session: { userId: 'u-alice' },
    })
    expect(await strategy.authenticator.authenticate({ token: cookie })).toEqual({ outcome: 'none' })
    expect(await strategy.authenticator.authenticate(headers({ authorization: `Bearer ${cookie}` }))).toEqual({ outcome: 'none' })
    expect(strategy.authenticator.cookieNames).toEqual([SESSION_COOKIE])
  })

  it('without timeouts configured, lasts as long as a stored session: 24 hours idle, 7 days in all, renewed after 5 minutes', async () => {
    const clock = createTestClock()
    const strategy = createEncryptedCookieSessions({ secrets: [SECRET_A], clock: clock.now })
    const server = await serve({ strategy, sessions: createSessionManager<TestSession>({ store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), clock: clock.now }) })
    running.push(server)
    const client = server.client()
    await client.post('/login', ALICE)
    const read = async () => strategy.authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${(await client.cookie(SESSION_COOKIE))!}` }))
    clock.advance(5 * MINUTE - 1)
    expect((await client.get('/profile')).setCookies).toEqual([])
    clock.advance(1)
    expect((await client.get('/profile')).setCookies).toHaveLength(1)
    // Renewed every day: the idle timeout never passes, the absolute one does.
    for (let day = 0; day < 6; day++) {
      clock.advance(24 * HOUR - 1)
      expect((await read()).outcome).toBe('transient')
      expect((await client.get('/profile')).setCookies).toHaveLength(1)
    }
    // 7 days after login, to the millisecond.
    clock.advance(24 * HOUR - 5 * MINUTE + 5)
    expect((await read()).outcome).toBe('transient')
    clock.advance(1)
    expect(await read()).toEqual(refused('cookie', 'expired'))
    expect(() => createEncryptedCookieSessions({ secrets: [SECRET_A], idleTimeout: -1 })).toThrow('createEncryptedCookieSessions: idleTimeout must be a positive number of milliseconds; got -1')
  })

  it('says why a cookie was refused: not a JWE, not ours, or timed out', async () => {
    const { clock, strategy, cookie } = await setup()
    const read = (value: string) => strategy.authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${value}` }))
    expect(await read('junk')).toEqual(refused('cookie', 'malformed'))
    expect(await read(tamper(cookie, 3))).toEqual(refused('cookie', 'invalid'))
    const other = createEncryptedCookieSessions({ secrets: [SECRET_B], clock: clock.now })
    expect(await other.authenticator.authenticate(headers({ cookie: `${SESSION_COOKIE}=${cookie}` }))).toEqual(refused('cookie', 'invalid'))
    clock.advance(HOUR)
    expect(await read(cookie)).toEqual(refused('cookie', 'expired'))
  })
})
