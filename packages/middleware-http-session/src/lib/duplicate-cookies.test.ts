import { createMemoryStore, createSessionManager, silentLogger, type UserSession } from '@pikku/core'
import { createTestClock } from '@pikku/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { createEncryptedCookieSessions } from './encrypted-cookie-sessions.js'
import { MAX_SESSION_COOKIES } from './session-cookie.js'
import { ADMIN, ALICE, HOUR, SECRET_A, SECRET_B, serve, SESSION_COOKIE, startStoredApp, type RunningServer, type StoredApp, type TestSession } from './test-app.test-support.js'

/**
 * A browser sends every cookie whose domain and path match, so the session's name can arrive more
 * than once: the host's own cookie, one a sibling subdomain set for the parent domain (possible
 * for unprefixed names), one scoped to a longer path (sent first). None that fails verification
 * may be used, and a planted one must not hide the user's own.
 */
const running: (StoredApp | RunningServer)[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

async function stored(options: Parameters<typeof startStoredApp>[0] = {}): Promise<StoredApp> {
  const app = await startStoredApp(options)
  running.push(app)
  return app
}

async function loginToken(app: StoredApp, credentials: typeof ALICE, name: string): Promise<string> {
  const client = app.client()
  expect((await client.post('/login', credentials)).status).toBe(200)
  return (await client.cookie(name))!
}

const UNKNOWN = 'A'.repeat(43)
const profileWith = async (app: StoredApp, cookie: string): Promise<{ status: number; userId: string | undefined }> => {
  const response = await app.client().get('/profile', { withoutJar: true, headers: { cookie } })
  return { status: response.status, userId: response.body?.userId }
}

describe('stored sessions with several cookies of the session name', () => {
  // Unprefixed (secure: false), where a sibling subdomain can plant a cookie of the same name.
  const NAME = 'pikku-session'

  it('uses the cookie that names a live session even when a planted one comes first', async () => {
    const app = await stored({ http: { cookie: { secure: false } } })
    const token = await loginToken(app, ALICE, NAME)
    expect(await profileWith(app, `${NAME}=${UNKNOWN}; other=1; ${NAME}=${token}`)).toEqual({ status: 200, userId: 'u-alice' })
    expect(await profileWith(app, `${NAME}=${token}; ${NAME}=${UNKNOWN}`)).toEqual({ status: 200, userId: 'u-alice' })
  })

  it('has no session when none of them verifies', async () => {
    const app = await stored({ http: { cookie: { secure: false } } })
    const client = app.client()
    await client.post('/login', ALICE)
    const revoked = (await client.cookie(NAME))!
    await client.post('/logout')
    const tampered = `${revoked.slice(0, -1)}${revoked.endsWith('A') ? 'B' : 'A'}`
    expect(await profileWith(app, `${NAME}=${UNKNOWN}; ${NAME}=${revoked}; ${NAME}=${tampered}; ${NAME}=not-a-token`)).toEqual({ status: 401, userId: undefined })
  })

  it('uses the first that verifies, in the order the browser sent them', async () => {
    const app = await stored({ http: { cookie: { secure: false } } })
    const alice = await loginToken(app, ALICE, NAME)
    const admin = await loginToken(app, ADMIN, NAME)
    expect((await profileWith(app, `${NAME}=${alice}; ${NAME}=${admin}`)).userId).toBe('u-alice')
    expect((await profileWith(app, `${NAME}=${admin}; ${NAME}=${alice}`)).userId).toBe('u-admin')
  })

  it(`tries at most ${MAX_SESSION_COOKIES} well-formed values, and malformed ones do not count`, async () => {
    const app = await stored({ http: { cookie: { secure: false } } })
    const token = await loginToken(app, ALICE, NAME)
    const unknown = (i: number): string => `${NAME}=${String(i).padStart(43, 'B')}`
    const tooMany = [...Array.from({ length: MAX_SESSION_COOKIES }, (_, i) => unknown(i)), `${NAME}=${token}`].join('; ')
    expect((await profileWith(app, tooMany)).status).toBe(401)
    const withinBound = [...Array.from({ length: MAX_SESSION_COOKIES - 1 }, (_, i) => unknown(i)), `${NAME}=${token}`].join('; ')
    expect((await profileWith(app, withinBound)).status).toBe(200)
    const malformed = [...Array.from({ length: 20 }, (_, i) => `${NAME}=junk-${i}`), `${NAME}=${token}`].join('; ')
    expect((await profileWith(app, malformed)).status).toBe(200)
  })

  it('reads duplicates of the __Host- name the same way, and authenticate() does too', async () => {
    const app = await stored()
    const token = await loginToken(app, ALICE, SESSION_COOKIE)
    const cookie = `${SESSION_COOKIE}=${UNKNOWN}; ${SESSION_COOKIE}=${token}`
    expect(await profileWith(app, cookie)).toEqual({ status: 200, userId: 'u-alice' })
    const found = await app.httpSessions.authenticate((name) => (name === 'cookie' ? cookie : undefined))
    expect(found).toMatchObject({ via: 'cookie', record: { userId: 'u-alice' } })
    expect(await app.httpSessions.authenticate((name) => (name === 'cookie' ? `${SESSION_COOKIE}=${UNKNOWN}; ${SESSION_COOKIE}=x` : undefined))).toBeUndefined()
  })

  it('a logout ends the session that verified and expires the cookie', async () => {
    const app = await stored({ http: { cookie: { secure: false } } })
    const token = await loginToken(app, ALICE, NAME)
    const logout = await app.client().post('/logout', {}, { withoutJar: true, headers: { cookie: `${NAME}=${UNKNOWN}; ${NAME}=${token}` } })
    expect(logout.status).toBe(200)
    expect(logout.setCookies).toEqual([expect.stringMatching(/^pikku-session=; Max-Age=0;/)])
    expect((await profileWith(app, `${NAME}=${token}`)).status).toBe(401)
  })
})

describe('encrypted-cookie sessions with several cookies of the session name', () => {
  async function encrypted(secrets: string[]): Promise<RunningServer> {
    const clock = createTestClock()
    const sessions = createSessionManager<TestSession>({ store: createMemoryStore<TestSession>({ clock: clock.now, sweepInterval: 0 }), clock: clock.now })
    const strategy = createEncryptedCookieSessions({ secrets, clock: clock.now, idleTimeout: HOUR, logger: silentLogger })
    const server = await serve({ strategy, sessions })
    running.push(server)
    return server
  }

  it('uses the cookie that decrypts, none that does not', async () => {
    const app = await encrypted([SECRET_A])
    const foreign = await encrypted([SECRET_B])
    const client = app.client()
    await client.post('/login', ALICE)
    const own = (await client.cookie(SESSION_COOKIE))!
    const other = foreign.client()
    await other.post('/login', ADMIN)
    const planted = (await other.cookie(SESSION_COOKIE))!
    const get = (cookie: string): ReturnType<typeof client.get> => app.client().get('/profile', { withoutJar: true, headers: { cookie } })

    const found = await get(`${SESSION_COOKIE}=${planted}; ${SESSION_COOKIE}=${own}`)
    expect(found.status).toBe(200)
    expect((found.body as UserSession).userId).toBe('u-alice')
    expect((await get(`${SESSION_COOKIE}=${planted}; ${SESSION_COOKIE}=junk`)).status).toBe(401)
  })
})
