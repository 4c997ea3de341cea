import {
  createMemoryStore,
  createSessionManager,
  type Logger,
  type SessionAuthenticator,
  silentLogger,
  type UserSession,
} from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createApiKeyAuthenticator, generateApiKey, type ApiKeyGrant } from '@pikku/credential-testkit/api-key-authenticator'
import { createAuthenticatorMiddleware, type AuthenticatorMiddlewareOptions } from './authenticator-middleware.js'
import { createEncryptedCookieSessions } from './encrypted-cookie-sessions.js'
import { createHTTPSessions } from './http-sessions.js'
import { createStatelessJwtSessions } from './stateless-jwt-sessions.js'
import { ALICE, instrumentStore, MINUTE, HOUR, SECRET_A, SESSION_COOKIE, serve, type RunningServer, type TestSession } from './test-app.test-support.js'

const running: RunningServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

const CI_KEY = generateApiKey()
const CI_BOT = { userId: 'u-ci-bot', email: 'ci@example.com', role: 'user', preferences: {} } satisfies TestSession

/**
 * An app with API keys in front of cookie and bearer sessions:
 * `middleware: [createAuthenticatorMiddleware(apiKeys), httpSessions.middleware]`.
 */
async function startApp(options: { grants?: (sessions: ReturnType<typeof createSessionManager<TestSession>>) => Promise<Map<string, ApiKeyGrant>>; middleware?: AuthenticatorMiddlewareOptions | 'no-sessions'; authenticator?: SessionAuthenticator<UserSession> } = {}) {
  const clock = createTestClock()
  const store = instrumentStore(createMemoryStore<TestSession>({ clock: clock.now, sweepInterval: 0 }))
  const sessions = createSessionManager<TestSession>({ store, clock: clock.now, idleTimeout: HOUR, absoluteTimeout: 8 * HOUR, renewalInterval: 5 * MINUTE })
  const grants = (await options.grants?.(sessions)) ?? new Map<string, ApiKeyGrant>([[CI_KEY, { session: CI_BOT }]])
  const apiKeys = options.authenticator ?? createApiKeyAuthenticator({ keys: grants, sessions })
  const logged: string[] = []
  const logger: Logger = { ...silentLogger, error: (message, meta) => logged.push(`${message}: ${String((meta?.['error'] as Error | undefined)?.message)}`) }
  const httpSessions = createHTTPSessions({ sessions, jwt: { secrets: [SECRET_A] }, logger })
  const middlewareOptions = options.middleware === 'no-sessions' ? {} : { sessions, challenge: 'ApiKey', ...options.middleware }
  const server = await serve({ strategy: httpSessions, sessions, logger, before: [createAuthenticatorMiddleware(apiKeys, middlewareOptions)] })
  running.push(server)
  return { ...server, clock, store, sessions, logged }
}

/** A stored session for Alice, created the way a login creates one; its id is what a key is bound to. */
async function storedSession(sessions: ReturnType<typeof createSessionManager<TestSession>>): Promise<string> {
  const state = sessions.createState()
  await state.set({ userId: 'u-alice', email: 'alice@example.com', role: 'user', preferences: {} }, { login: true })
  await sessions.commit(state)
  return state.sessionId!
}

const withKey = (key: string, headers: Record<string, string> = {}) => ({ headers: { 'x-api-key': key, ...headers }, withoutJar: true as const })

describe('any SessionAuthenticator in front of HTTP routes (createAuthenticatorMiddleware)', () => {
  it('an API key runs a pikkuFunc as the key’s service account, storing nothing and setting no cookie', async () => {
    const app = await startApp()
    const profile = await app.client().get('/profile', withKey(CI_KEY))
    expect(profile.status).toBe(200)
    expect(profile.body).toMatchObject({ userId: 'u-ci-bot' })
    expect(profile.headers.get('cache-control')).toBe('no-store')
    expect(profile.setCookies).toEqual([])
    // A change lives for the call only: the service account's session is the same next time.
    expect((await app.client().put('/preferences', { theme: 'dark' }, withKey(CI_KEY))).body.preferences).toEqual({ theme: 'dark' })
    expect((await app.client().get('/profile', withKey(CI_KEY))).body.preferences).toEqual({})
    expect(app.store.writes).toEqual([])
  })

  it('takes the key from Authorization: ApiKey as well', async () => {
    const app = await startApp()
    const response = await app.client().get('/profile', { headers: { authorization: `apikey ${CI_KEY}` }, withoutJar: true })
    expect(response.body.userId).toBe('u-ci-bot')
  })

  it('a browser’s cookie session and a bearer token keep working next to API keys', async () => {
    const app = await startApp()
    const browser = app.client()
    const login = await browser.post('/login', ALICE)
    expect(login.setCookies).toHaveLength(1)
    expect((await browser.get('/profile')).body.userId).toBe('u-alice')
    expect((await app.client().get('/profile', { headers: { authorization: `Bearer ${login.body.token}` }, withoutJar: true })).body.userId).toBe('u-alice')
    expect((await browser.post('/logout')).status).toBe(200)
    expect((await browser.get('/profile')).status).toBe(401)
  })

  it('a refused API key never falls back to the cookie: the request has no session', async () => {
    const app = await startApp()
    const browser = app.client()
    await browser.post('/login', ALICE)
    const cookie = `${SESSION_COOKIE}=${(await browser.cookie(SESSION_COOKIE))!}`
    const wrongKey = generateApiKey()
    const profile = await app.client().get('/profile', withKey(wrongKey, { cookie }))
    expect(profile.status).toBe(401)
    expect(profile.headers.get('www-authenticate')).toContain('ApiKey')
    // A sessionless function still runs, without the cookie's session.
    const publicPage = await app.client().get('/public', withKey(wrongKey, { cookie }))
    expect(publicPage.status).toBe(200)
    expect(publicPage.body.email).toBeNull()
    expect((await app.client().get('/profile', withKey('pk_short', { cookie }))).status).toBe(401)
  })

  it('nor to an encrypted cookie or a stateless token', async () => {
    const clock = createTestClock()
    const sessions = createSessionManager<TestSession>({ store: createMemoryStore({ clock: clock.now, sweepInterval: 0 }), clock: clock.now })
    const apiKeys = createAuthenticatorMiddleware(createApiKeyAuthenticator({ keys: new Map([[CI_KEY, { session: CI_BOT }]]) }))
    const encrypted = await serve({ strategy: createEncryptedCookieSessions({ secrets: [SECRET_A], clock: clock.now }), sessions, before: [apiKeys] })
    const stateless = await serve({ strategy: createStatelessJwtSessions({ secrets: [SECRET_A], clock: clock.now }), sessions, before: [apiKeys] })
    running.push(encrypted, stateless)
    const browser = encrypted.client()
    await browser.post('/login', ALICE)
    expect((await browser.get('/profile')).status).toBe(200)
    expect((await browser.get('/profile', { headers: { 'x-api-key': generateApiKey() } })).status).toBe(401)
    expect((await browser.get('/profile', { headers: { 'x-api-key': CI_KEY } })).body.userId).toBe('u-ci-bot')
    const token = (await stateless.client().post('/login', ALICE)).body.token as string
    expect((await stateless.client().get('/profile', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    expect((await stateless.client().get('/profile', { headers: { authorization: `Bearer ${token}`, 'x-api-key': generateApiKey() } })).status).toBe(401)
  })

  it('a login sent with a refused API key is stored but sets no cookie, as for a bearer token', async () => {
    const app = await startApp()
    const login = await app.client().post('/login', ALICE, withKey(generateApiKey()))
    expect(login.status).toBe(200)
    expect(login.setCookies).toEqual([])
    expect((await app.client().get('/profile', { headers: { authorization: `Bearer ${login.body.token}` }, withoutJar: true })).body.userId).toBe('u-alice')
  })

  it('a key bound to a stored session renews it and stores its changes; revoking the session ends the key', async () => {
    const key = generateApiKey()
    let sessionId = ''
    const app = await startApp({
      grants: async (sessions) => {
        sessionId = await storedSession(sessions)
        return new Map([[key, { sessionId }]])
      },
    })
    expect((await app.client().get('/profile', withKey(key))).body.userId).toBe('u-alice')
    expect(app.store.writes).toEqual(['set'])
    app.clock.advance(6 * MINUTE)
    expect((await app.client().get('/profile', withKey(key))).status).toBe(200)
    expect(app.store.writes).toEqual(['set', 'touch'])
    await app.client().put('/preferences', { theme: 'dark' }, withKey(key))
    expect((await app.sessions.loadById(sessionId))?.data.preferences).toEqual({ theme: 'dark' })
    await app.sessions.revoke(sessionId)
    expect((await app.client().get('/profile', withKey(key))).status).toBe(401)
  })

  it('a stored session without { sessions } fails the request with an error saying to pass it', async () => {
    const key = generateApiKey()
    const app = await startApp({
      middleware: 'no-sessions',
      grants: async (sessions) => new Map([[key, { sessionId: await storedSession(sessions) }]]),
    })
    expect((await app.client().get('/profile', withKey(key))).status).toBe(500)
    expect(app.logged.join('\n')).toMatch(/found a stored session; pass \{ sessions \}/)
  })

  it('an authenticator that answers nonsense is an error, not a session', async () => {
    const broken = { authenticate: async () => ({ outcome: 'maybe' }) } as unknown as SessionAuthenticator<UserSession>
    const app = await startApp({ authenticator: broken })
    expect((await app.client().get('/public')).status).toBe(500)
    expect(app.logged.join('\n')).toMatch(/answered "maybe"; expected an outcome of none, refused, stored or transient/)
  })

  it('is validated when created, with messages that say what to change', () => {
    const sessions = createSessionManager({ store: createMemoryStore({ sweepInterval: 0 }) })
    const apiKeys = createApiKeyAuthenticator({ keys: new Map() })
    expect(() => createAuthenticatorMiddleware({} as SessionAuthenticator<UserSession>)).toThrow(/needs a SessionAuthenticator/)
    expect(() => createAuthenticatorMiddleware(createHTTPSessions({ sessions }).authenticator)).toThrow(
      /reads cookies \(__Host-pikku-session\), which need the CSRF defence.*put that strategy's middleware/,
    )
    expect(() => createAuthenticatorMiddleware(apiKeys, { challenge: 'ApiKey\r\nSet-Cookie: x=1' })).toThrow(/challenge must be a WWW-Authenticate value/)
    expect(() => createAuthenticatorMiddleware(apiKeys, { sessions: {} as never })).toThrow(/sessions must be a session manager/)
    expect(() => createAuthenticatorMiddleware(apiKeys, { sessions, challenge: 'ApiKey' })).not.toThrow()
  })
})
